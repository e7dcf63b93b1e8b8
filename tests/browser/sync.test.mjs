// Real-browser tests of the outbox's queued writes beyond registrations
// (issue 6): photos downscaled on the phone (iris captures kept whole), iris
// captures, photos and JSON writes about a child queued offline and sent
// after that child's registration, and a 409 on an update settled either
// way by the worker (outboxResolve).
//
// The app's own outbox module is driven from the page (`import()` of its
// path gives the instance the app runs, with its token), the way the Rust
// pages call it; what arrived is checked through the API from Node, and
// what was stored on the phone by reading its IndexedDB.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as h from './helpers.mjs';

const RUN = Date.now().toString(36);

let iris; // [left, right] synthetic eye images (bytes) from the iris engine

const s = h.suite('sync', { iris: {}, setup: readIris });

/** The synthetic captures' bytes. */
function readIris() {
  iris = s.iris.map((f) => readFileSync(f));
}

async function api(method, path, body) {
  const res = await fetch(`${s.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${s.token}`, accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Runs `fn(phone)` on a logged-in phone page, offline, with the outbox module's path. */
function withOfflinePhone(fn) {
  return h.withPhone(s, async (phone) => {
    await phone.page.evaluate(() => navigator.serviceWorker.ready);
    phone.outbox = await h.outboxModulePath(phone.page);
    await h.setOnline(phone.context, phone.page, false);
    return fn(phone);
  });
}

/** Queues registrations (facts only) of children `from`…`from + count - 1` of `family`; their ids. */
async function queueChildren(phone, family, from, count) {
  const ids = [];
  for (let i = from; i < from + count; i++) {
    const child = { id: crypto.randomUUID(), given_name: `کودک ${i}`, family_name: family, sex: 'female', nationality: 'afghan', home_province: 'IR-23' };
    ids.push(child.id);
    await h.callOutbox(phone, 'outboxEnqueueRegistration', `${i}`, JSON.stringify(child), null, null, null, 'unreviewed');
  }
  return ids;
}

const blobArg = (bytes, type) => ({ blob: [...bytes], type });

/** A W×H JPEG drawn in the page (a gradient and shapes, so it compresses like a photo). */
async function makeJpeg(page, width, height) {
  const bytes = await page.evaluate(
    async ([w, h]) => {
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext('2d');
      const g = ctx.createLinearGradient(0, 0, w, h);
      g.addColorStop(0, '#c33');
      g.addColorStop(1, '#33c');
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, w, h);
      for (let i = 0; i < 200; i++) {
        ctx.fillStyle = `hsl(${(i * 37) % 360} 70% 50%)`;
        ctx.fillRect((i * 131) % w, (i * 71) % h, 40 + (i % 90), 30 + (i % 70));
      }
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    [width, height],
  );
  return Buffer.from(bytes);
}

const sha256 = async (bytes) => Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');

test('a registration photo is downscaled on the phone to 1600 px before it is stored; a small one is kept as is', () =>
  withOfflinePhone(async (phone) => {
    const { page, context } = phone;
    const big = await makeJpeg(page, 3000, 2000);
    const small = readFileSync(join(h.REPO_ROOT, 'assets', 'web', 'icon-192.png'));
    const children = [
      { id: crypto.randomUUID(), given_name: 'بزرگ', family_name: `عکس-${RUN}`, sex: 'male', nationality: 'afghan', home_province: 'IR-23' },
      { id: crypto.randomUUID(), given_name: 'کوچک', family_name: `عکس-${RUN}`, sex: 'female', nationality: 'afghan', home_province: 'IR-23' },
    ];
    await h.callOutbox(phone, 'outboxEnqueueRegistration', 'big', JSON.stringify(children[0]), blobArg(big, 'image/jpeg'), null, null, 'unreviewed');
    await h.callOutbox(phone, 'outboxEnqueueRegistration', 'small', JSON.stringify(children[1]), blobArg(small, 'image/png'), null, null, 'unreviewed');
    await h.waitPending(page, 2);

    const stored = Object.fromEntries((await h.storedItems(page)).map((i) => [i.id, i]));
    const shrunk = stored[children[0].id].photo;
    assert.deepEqual([shrunk.width, shrunk.height, shrunk.type], [1600, 1067, 'image/jpeg']);
    assert.ok(shrunk.size < big.length, `${shrunk.size} bytes stored for a ${big.length}-byte original`);
    const kept = stored[children[1].id].photo;
    assert.equal(kept.sha256, await sha256(small), 'the small photo is stored unchanged');

    await h.setOnline(context, page, true);
    await h.waitPending(page, 0, 60_000);
    for (const [child, side] of [[children[0], [1600, 1067]], [children[1], [192, 192]]]) {
      const photos = await api('GET', `/api/v1/children/${child.id}/photos`);
      assert.equal(photos.status, 200);
      assert.equal(photos.body.length, 1);
      assert.deepEqual([photos.body[0].width, photos.body[0].height], side);
    }
  }));

test('iris captures, a photo, an update and an encounter about a queued child go after its registration; iris bytes are kept whole', () =>
  withOfflinePhone(async (phone) => {
    const { page, context } = phone;
    const id = crypto.randomUUID();
    const child = { id, given_name: 'سارا', family_name: `صف-${RUN}`, sex: 'female', nationality: 'iranian', home_province: 'IR-23' };
    await h.callOutbox(phone, 'outboxEnqueueRegistration', 'sara', JSON.stringify(child), null, null, null, 'unreviewed');
    // Written in the order a worker would: all before the record exists.
    await h.callOutbox(phone, 'outboxEnqueueIris', 'eyes', id, blobArg(iris[0], 'image/png'), blobArg(iris[1], 'image/png'));
    await h.callOutbox(phone, 'outboxEnqueuePhoto', 'photo', id, blobArg(await makeJpeg(page, 2400, 3200), 'image/jpeg'));
    const update = { base_version: 1, changes: { father_name: 'رضا' }, reason: null };
    await h.callOutbox(phone, 'outboxEnqueueJson', 'update', 'PATCH', `/api/v1/children/${id}`, JSON.stringify(update), id);
    const encounter = { id: crypto.randomUUID(), at: new Date().toISOString(), lat: 35.7, lng: 51.4, services: [] };
    await h.callOutbox(phone, 'outboxEnqueueJson', 'seen', 'POST', `/api/v1/children/${id}/encounters`, JSON.stringify(encounter), id);
    await h.waitPending(page, 5);

    const stored = await h.storedItems(page);
    const eyes = stored.find((i) => i.kind === 'iris');
    assert.equal(eyes.left.sha256, await sha256(iris[0]), 'the left capture is stored byte for byte');
    assert.equal(eyes.right.sha256, await sha256(iris[1]), 'the right capture is stored byte for byte');
    const photo = stored.find((i) => i.kind === 'photo').photo;
    assert.deepEqual([photo.width, photo.height], [1200, 1600]);
    assert.equal(stored.find((i) => i.kind === 'json' && i.method === 'POST').id, encounter.id, 'a create keeps its client id');

    await h.setOnline(context, page, true);
    await h.waitPending(page, 0, 60_000);
    const states = (await h.storedItems(page)).map((i) => [i.label, i.state, i.error?.detail ?? null]);
    assert.deepEqual(states.filter(([, state]) => state !== 'done'), [], 'every item was accepted');
    const record = await api('GET', `/api/v1/children/${id}`);
    assert.equal(record.body.father_name ?? record.body.facts?.father_name, 'رضا');
    assert.equal((await api('GET', `/api/v1/children/${id}/iris`)).body.length, 2);
    assert.equal((await api('GET', `/api/v1/children/${id}/photos`)).body.length, 1);
    const seen = await api('GET', `/api/v1/children/${id}/encounters`);
    assert.deepEqual((seen.body.items ?? seen.body).map((e) => e.id), [encounter.id]);
    await h.screenshot(page, 'sync-queued-writes');
  }));

test('a 409 on a queued update keeps both values; the worker resends with a new base or keeps the server\'s', () =>
  withOfflinePhone(async (phone) => {
    const { page, context } = phone;
    const made = [];
    for (const name of ['یکم', 'دوم']) {
      const res = await api('POST', '/api/v1/children', { given_name: name, family_name: `تعارض-${RUN}`, sex: 'male', nationality: 'afghan', home_province: 'IR-23' });
      assert.equal(res.status, 201);
      made.push(res.body);
    }
    for (const c of made) {
      const mine = { base_version: c.version, changes: { father_name: 'من' }, reason: null };
      await h.callOutbox(phone, 'outboxEnqueueJson', `edit ${c.id}`, 'PATCH', `/api/v1/children/${c.id}`, JSON.stringify(mine), c.id);
      // Meanwhile someone else changes the same field on the server.
      const theirs = await api('PATCH', `/api/v1/children/${c.id}`, { base_version: c.version, changes: { father_name: 'دیگری' } });
      assert.equal(theirs.status, 200);
    }
    await h.setOnline(context, page, true);
    await page.waitForFunction(() => document.querySelectorAll('.outbox-item[data-state="conflict"]').length === 2, null, { timeout: 30_000 });
    const conflicts = (await h.storedItems(page)).filter((i) => i.state === 'conflict');
    assert.equal(conflicts.length, 2);
    for (const item of conflicts) {
      assert.equal(item.error.status, 409);
      assert.deepEqual(item.error.conflicts, [{ field: 'father_name', stored: 'دیگری', yours: 'من' }]);
    }
    await h.screenshot(page, 'sync-conflict');

    // The first: the worker's value again, on top of the server's version.
    const [first, second] = made;
    const now = await api('GET', `/api/v1/children/${first.id}`);
    const replacement = { base_version: now.body.version, changes: { father_name: 'من' }, reason: null };
    const firstItem = conflicts.find((i) => i.child_id === first.id);
    const secondItem = conflicts.find((i) => i.child_id === second.id);
    await h.callOutbox(phone, 'outboxResolve', firstItem.id, JSON.stringify(replacement));
    // The second: the server's value stays; nothing is sent.
    await h.callOutbox(phone, 'outboxResolve', secondItem.id, null);
    await page.waitForFunction(() => document.querySelectorAll('.outbox-item[data-state="conflict"]').length === 0, null, { timeout: 30_000 });
    await h.waitPending(page, 0);

    const after = Object.fromEntries((await h.storedItems(page)).map((i) => [i.id, i]));
    assert.equal(after[firstItem.id].state, 'done');
    assert.equal(after[secondItem.id].state, 'done');
    assert.equal(after[secondItem.id].resolved, true);
    const fathers = [];
    for (const c of made) {
      const r = (await api('GET', `/api/v1/children/${c.id}`)).body;
      fathers.push(r.father_name ?? r.facts?.father_name);
    }
    assert.deepEqual(fathers, ['من', 'دیگری']);
    const patches = readFileSync(s.server.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('method=PATCH') && l.includes(second.id));
    assert.equal(patches.length, 2, 'the kept conflict was not sent again (2 = theirs + the first try)');
  }));

test('a lost answer is sent again once and not doubled; a reload right after a sync sends nothing again', () =>
  withOfflinePhone(async (phone) => {
    const { context, page } = phone;
    const family = `بازگشت-${RUN}`;
    const queue = (from, count) => queueChildren(phone, family, from, count);
    const ids = await queue(0, 12);
    await h.waitPending(page, 12);

    // Every create the phone sends passes here, the service worker's
    // Background Sync included (it may be the one that sends again), and
    // also after the reload. The first child's answer is lost: the server
    // creates it, the connection drops, and the outbox sees a network error.
    const sent = [];
    const routeErrors = [];
    let lost = 0;
    await context.route('**/api/v1/children', async (route) => {
      const req = route.request();
      if (req.method() !== 'POST') return route.continue();
      const { id } = JSON.parse(req.postData());
      sent.push(id);
      if (lost > 0 || id !== ids[0]) return route.continue();
      lost += 1;
      const res = await route.fetch();
      if (res.status() !== 201) routeErrors.push(`the lost create answered ${res.status()}`);
      await route.abort('connectionreset');
    });
    await h.setOnline(context, page, true);
    // The sync that going online started stops at the lost answer; the next
    // one (Background Sync's, the 15 s timer's or these calls') sends it again.
    await h.syncUntilDone(phone);
    await h.waitPending(page, 0);
    assert.deepEqual(routeErrors, []);
    assert.equal(lost, 1, 'one answer was lost');
    assert.equal(sent.filter((id) => id === ids[0]).length, 2, 'the child whose answer was lost went twice');
    assert.equal(sent.length, 13);

    // Twelve more, and a reload as soon as the app shows nothing pending:
    // the new page reads the queue from IndexedDB and sends nothing again.
    await h.setOnline(context, page, false);
    const more = await queue(12, 12);
    await h.waitPending(page, 12);
    await h.setOnline(context, page, true);
    await h.waitPending(page, 0);
    await page.reload();
    await h.waitPending(page, 0);
    await h.syncUntilDone(phone);
    assert.equal(sent.length, 13 + 12, 'nothing was sent again after the reload');
    assert.equal(new Set(sent).size, 24);

    const stored = new Map((await h.storedItems(page)).map((i) => [i.id, i]));
    for (const id of [...ids, ...more]) {
      const item = stored.get(id);
      assert.equal(item?.state, 'done', `item ${id}`);
      assert.match(item.result?.registry_code ?? '', /\S/, 'the registry code is kept, also from the resend\'s answer');
    }
    const theirs = (await h.apiGetAll(s.server, s.token, '/api/v1/children')).filter((c) => c.family_name === family);
    assert.equal(theirs.length, 24, 'each child exactly once');
  }));

test('results that IndexedDB refuses once are written again with the next batch; nothing is sent twice', async () => {
  // No service worker, so that the page (where the refusal is staged) is
  // the one that syncs, not the worker's Background Sync.
  const { context, page } = await h.newPhonePage(s.browser, { serviceWorkers: 'block' });
  const phone = { context, page };
  try {
    await h.loginAsAdmin(page, s.server);
    phone.outbox = await h.outboxModulePath(page);
    await h.setOnline(context, page, false);
    const ids = await queueChildren(phone, `دوباره‌نویسی-${RUN}`, 0, 8);
    await h.waitPending(page, 8);
    // The first write of the third child's result is refused, which aborts
    // the whole batch it is in.
    await page.evaluate((target) => {
      const put = IDBObjectStore.prototype.put;
      window.__refused = 0;
      IDBObjectStore.prototype.put = function (value, key) {
        if (window.__refused === 0 && value?.id === target && value.state === 'done') {
          window.__refused += 1;
          throw new DOMException('refused once by the test', 'DataError');
        }
        return put.call(this, value, key);
      };
    }, ids[2]);
    // Counted where requests leave the browser (Playwright's `request`
    // event can report one twice).
    const sent = [];
    await context.route('**/api/v1/children', (route) => {
      if (route.request().method() === 'POST') sent.push(JSON.parse(route.request().postData()).id);
      return route.continue();
    });
    await h.setOnline(context, page, true);
    await h.waitPending(page, 0);
    assert.equal(await page.evaluate(() => window.__refused), 1, 'the refusal happened');
    const stored = await h.storedItems(page);
    for (const id of ids) assert.equal(stored.find((i) => i.id === id)?.state, 'done', `item ${id}`);
    assert.deepEqual([...sent].sort(), [...ids].sort(), 'each child was sent once');
  } finally {
    await context.close();
  }
});

test('the children queued in these tests exist exactly once', async () => {
  const all = await h.apiGetAll(s.server, s.token, '/api/v1/children');
  const ours = all.filter((c) => String(c.family_name ?? '').endsWith(RUN));
  assert.equal(new Set(ours.map((c) => c.id)).size, ours.length);
  assert.equal(ours.length, 2 + 1 + 2 + 24 + 8);
});

test('server shuts down gracefully on SIGTERM (exit status 0)', async () => {
  const { code, signal } = await s.server.stop();
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `see ${s.server.logPath}`);
});
