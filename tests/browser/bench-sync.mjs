// Sync benchmark of the PWA's outbox (issue 6's target: 1,000 queued records
// sync in ≤ 10 s against a local server). A measurement, not a test: run by
// `cargo xtask bench-sync` (xtask/src/bench_sync.rs), which builds the PWA and
// the server and sets KUDAKYAR_BIN and KUDAKYAR_WEB_DIST like the tests.
//
// The real server (SQLite in a throwaway dir) and the real app in headless
// Chromium: log in, go offline, queue BENCH_SYNC_RECORDS (default 1,000)
// registrations of facts only through the app's own outbox module, go online
// and time until the sync bar shows 0 pending. Then the API must hold exactly
// that many new children, or the run fails. Prints one JSON line on stdout.
// BENCH_SYNC_CONCURRENCY sets the requests in flight (default 6, as shipped).
// BENCH_SYNC_CPU_SLOWDOWN (default 1) slows the page's CPU during the sync by
// that factor, as Lighthouse's mobile preset does (4): a cheap phone does the
// page's share of the work several times slower than this machine, while the
// server's share stays the same.

import { ADMIN_PASSWORD, apiGetAll, apiLogin, launchBrowser, loginAsAdmin, newPhonePage, outboxModulePath, setOnline, startServer, waitPending } from './helpers.mjs';

const RECORDS = Number(process.env.BENCH_SYNC_RECORDS || 1000);
// Requests in flight (the outbox's default is 6; 1 = one at a time).
const CONCURRENCY = Number(process.env.BENCH_SYNC_CONCURRENCY || 6);
const CPU_SLOWDOWN = Number(process.env.BENCH_SYNC_CPU_SLOWDOWN || 1);
const TARGET_S = 10;
// BENCH_SYNC_TRACE=file.json records a Chrome trace of the sync (open it in
// Perfetto): where the page's main thread spends its time, per task.
const TRACE = process.env.BENCH_SYNC_TRACE;
const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline', 'blink', 'v8', 'IndexedDB', 'loading', 'ServiceWorker'];
const RUN = `bench${Date.now().toString(36)}`;

const server = await startServer('bench-sync');
const browser = await launchBrowser();
let failed = false;
try {
  const { context, page } = await newPhonePage(browser);
  await loginAsAdmin(page, server);
  const path = await outboxModulePath(page);
  await setOnline(context, page, false);
  const enqueueMs = await page.evaluate(
    async ([path, n, run, concurrency]) => {
      const outbox = await import(path);
      outbox.outboxSetConcurrency(concurrency);
      const started = performance.now();
      for (let i = 0; i < n; i++) {
        const child = {
          id: outbox.newId(),
          given_name: `کودک ${i}`,
          family_name: run,
          sex: i % 2 ? 'male' : 'female',
          nationality: 'afghan',
          home_province: 'IR-23',
        };
        await outbox.outboxEnqueueRegistration(`${i}`, JSON.stringify(child), null, null, null, 'unreviewed');
      }
      return performance.now() - started;
    },
    [path, RECORDS, RUN, CONCURRENCY],
  );
  await waitPending(page, RECORDS, 60_000);

  if (CPU_SLOWDOWN !== 1) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  }
  if (TRACE) await browser.startTracing(page, { path: TRACE, categories: TRACE_CATEGORIES });
  const started = process.hrtime.bigint();
  await context.setOffline(false);
  await page.waitForFunction(
    () => document.querySelector('#sync-status')?.getAttribute('data-pending') === '0',
    null,
    { timeout: 600_000, polling: 50 },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (TRACE) await browser.stopTracing();

  const token = await apiLogin(server, 'admin', ADMIN_PASSWORD);
  const children = (await apiGetAll(server, token, '/api/v1/children')).filter((c) => c.family_name === RUN);
  const result = {
    records: RECORDS,
    concurrency: CONCURRENCY,
    cpu_slowdown: CPU_SLOWDOWN,
    sync_seconds: Number(seconds.toFixed(2)),
    per_second: Math.round(RECORDS / seconds),
    enqueue_seconds: Number((enqueueMs / 1000).toFixed(2)),
    children_created: children.length,
    target_seconds: TARGET_S,
    within_target: seconds <= TARGET_S,
  };
  console.log(JSON.stringify(result));
  if (children.length !== RECORDS) {
    console.error(`bench-sync: expected ${RECORDS} new children, the API has ${children.length}`);
    failed = true;
  }
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
process.exit(failed ? 1 : 0);
