// The sync chaos run: offline operations queued in the PWA's real outbox in
// Chromium, sent through a fault-injecting proxy (chaos-proxy.mjs) to the
// real server, which is killed (SIGKILL) and started again halfway; then
// every operation must be on the server exactly once — through the API and
// through the audit log. sync-chaos.test.mjs runs a short one in
// `cargo xtask test`; `cargo xtask chaos` the full one (chaos-run.mjs).
//
// The operations, per child: its registration (every tenth with a photo,
// a multipart upload) and two encounters queued behind it; `operations`
// is rounded to whole children. The page is loaded from the proxy, logged in
// as the admin, then goes offline; everything is queued; it comes back online
// with the faults on, and the harness calls the outbox's own `outboxSync`
// over and over, as the app's periodic sync would once its backoff ran out
// (waiting the backoff out is the outbox's business, not what is tested).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { startChaosProxy } from './chaos-proxy.mjs';
import * as h from './helpers.mjs';

/** Operations queued per child: the registration and two encounters. */
const PER_CHILD = 3;

/**
 * Runs the chaos on a fresh server; resolves to the figures
 * `{operations, children, photos, seconds, sync_calls, proxy, lost, doubled, failed}`
 * where `lost`, `doubled` and `failed` list what went wrong (all empty on a
 * good run). `name` names the server log; `postgres: true` runs the server
 * on a fresh PostgreSQL database (see `startServer`).
 */
export async function runChaos({ name, operations, seed = 7, faults, postgres = false } = {}) {
  const children = Math.max(1, Math.round(operations / PER_CHILD));
  const run = `chaos${Date.now().toString(36)}`;
  const server = await h.startServer(name, { postgres });
  const proxy = await startChaosProxy(server.url, { seed, faults });
  const browser = await h.launchBrowser();
  try {
    const { context, page } = await h.newPhonePage(browser);
    const via = { ...server, url: proxy.url };
    await h.loginAsAdmin(page, via);
    const phone = { page, outbox: await h.outboxModulePath(page) };
    await h.setOnline(context, page, false);

    const photo = [...readFileSync(join(h.REPO_ROOT, 'assets', 'web', 'icon-192.png'))];
    const queued = await page.evaluate(
      async ([path, n, run, photo]) => {
        const outbox = await import(path);
        const png = new File([new Uint8Array(photo)], 'photo.png', { type: 'image/png' });
        const minute = 60_000;
        const ids = [];
        for (let i = 0; i < n; i++) {
          const child = {
            id: outbox.newId(),
            given_name: `کودک ${i}`,
            family_name: run,
            sex: i % 2 ? 'male' : 'female',
            nationality: 'afghan',
            home_province: 'IR-23',
          };
          const withPhoto = i % 10 === 0;
          await outbox.outboxEnqueueRegistration(`${i}`, JSON.stringify(child), withPhoto ? png : null, null, null, 'unreviewed');
          const encounters = [];
          for (const k of [0, 1]) {
            const encounter = {
              id: outbox.newId(),
              at: new Date(Date.now() - (2 * i + k + 1) * minute).toISOString(),
              lat: 35.6892 + 0.001 * (i % 50),
              lng: 51.389 + 0.001 * k,
              services: [],
            };
            await outbox.outboxEnqueueEncounter(`${i}.${k}`, child.id, JSON.stringify(encounter));
            encounters.push(encounter.id);
          }
          ids.push({ child: child.id, given: child.given_name, photo: withPhoto, encounters });
        }
        return ids;
      },
      [phone.outbox, children, run, photo],
    );
    await h.waitPending(page, children * PER_CHILD, 120_000);

    // Online, faults on; the server is killed once half the queue is sent.
    proxy.setFaults(true);
    const started = process.hrtime.bigint();
    await context.setOffline(false);
    const pending = async () => Number(await page.locator('#sync-status').getAttribute('data-pending'));
    let restarted = false;
    let syncCalls = 0;
    // Generous: a stuck queue fails the run instead of hanging it.
    const deadline = Date.now() + 180_000 + operations * 1_000;
    for (;;) {
      if (Date.now() > deadline) {
        throw new Error(`the queue did not empty in time: ${await pending()} left; ${JSON.stringify(proxy.stats)}`);
      }
      const outcome = await h.callOutbox(phone, 'outboxSync');
      syncCalls += 1;
      const left = await pending();
      if (outcome === 'done' && left === 0) break;
      if (!restarted && left <= (children * PER_CHILD) / 2) {
        restarted = true;
        await server.restart('SIGKILL');
      }
      if (outcome === 'busy') await page.waitForTimeout(50); // another sync runs: no event marks its end
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    proxy.setFaults(false);

    // The phone: every item sent, none failed or in conflict.
    const items = await h.storedItems(page);
    const failed = items.filter((i) => i.state !== 'done').map((i) => `${i.kind} ${i.label}: ${i.state} ${JSON.stringify(i.error)}`);

    // The server, through the API and the audit log (asked directly, not
    // through the proxy).
    const token = await h.apiLogin(server, 'admin', h.ADMIN_PASSWORD);
    const records = (await h.apiGetAll(server, token, '/api/v1/children')).filter((c) => c.family_name === run);
    const lost = [];
    const doubled = [];
    const byGiven = new Map();
    for (const r of records) byGiven.set(r.given_name, [...(byGiven.get(r.given_name) ?? []), r]);
    for (const [given, found] of byGiven) if (found.length > 1) doubled.push(`${given}: ${found.length} records`);
    let photos = 0;
    for (const q of queued) {
      const found = byGiven.get(q.given) ?? [];
      if (found.length === 0) {
        lost.push(`${q.given}: no record`);
        continue;
      }
      const seen = await h.apiCall(server, 'GET', `/api/v1/children/${q.child}/encounters`, { token });
      const ids = (seen.body.items ?? seen.body).map((e) => e.id).sort();
      const wanted = [...q.encounters].sort();
      if (JSON.stringify(ids) !== JSON.stringify(wanted)) {
        (ids.length > wanted.length ? doubled : lost).push(`${q.given}: encounters ${ids.length} of ${wanted.length}`);
      }
      const shots = await h.apiCall(server, 'GET', `/api/v1/children/${q.child}/photos`, { token });
      const n = (Array.isArray(shots.body) ? shots.body : shots.body.items ?? []).length;
      photos += n;
      if (n !== (q.photo ? 1 : 0)) (n > 1 ? doubled : lost).push(`${q.given}: ${n} photos`);
    }
    const audit = await h.apiGetAll(server, token, '/api/v1/audit?resource_type=child');
    const ours = new Set(queued.map((q) => q.child));
    const logged = (action) => audit.filter((e) => e.action === action && ours.has(e.resource_id)).length;
    const creates = logged('child.create');
    const encounters = logged('encounter.create');
    if (creates !== children) (creates > children ? doubled : lost).push(`audit: ${creates} child.create of ${children}`);
    if (encounters !== 2 * children) {
      (encounters > 2 * children ? doubled : lost).push(`audit: ${encounters} encounter.create of ${2 * children}`);
    }
    await context.close();
    return {
      operations: children * PER_CHILD,
      children,
      photos,
      seconds: Number(seconds.toFixed(1)),
      sync_calls: syncCalls,
      restarted,
      proxy: { ...proxy.stats },
      lost,
      doubled,
      failed,
    };
  } finally {
    await browser.close();
    await proxy.stop();
    await server.stop();
  }
}
