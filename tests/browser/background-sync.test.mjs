// Real-browser tests of Background Sync (issue 6): a write queued offline
// registers the `kudakyar-outbox` sync tag, and the service worker sends the
// queue when its `sync` event fires, with no page of the app open, using the
// token the outbox keeps in IndexedDB.
//
// What headless Chromium does (checked here): the tag is registered while
// Playwright's network emulation (`context.setOffline`) is offline and stays
// pending; when the emulation goes back online, Chromium fires `sync` in the
// worker by itself. The registration and the dispatch are observed through
// the DevTools Background Services log (`BackgroundService` domain).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import * as h from './helpers.mjs';

const RUN = Date.now().toString(36);
const TAG = 'kudakyar-outbox';

const s = h.suite('background-sync');

const child = (given) => ({
  id: crypto.randomUUID(),
  given_name: given,
  family_name: `پس‌زمینه-${RUN}`,
  sex: 'female',
  nationality: 'afghan',
  home_province: 'IR-23',
});

async function enqueue(page, path, record) {
  await page.evaluate(
    async ([path, json]) => (await import(path)).outboxEnqueueRegistration('bg', json, null, null, null, 'unreviewed'),
    [path, JSON.stringify(record)],
  );
}

async function apiStatus(path) {
  const res = await fetch(`${s.server.url}${path}`, { headers: { authorization: `Bearer ${s.token}`, accept: 'application/json' } });
  return res.status;
}

/** Polls the API until `path` answers 200 (the worker's sync is in flight). */
async function arrives(path, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await apiStatus(path)) === 200) return true;
    await delay(200); // no event reaches Node when the worker's POST lands
  }
  return false;
}

/** Records the DevTools Background Services log of Background Sync. */
async function syncLog(context, page) {
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('BackgroundService.backgroundServiceEventReceived', ({ backgroundServiceEvent: e }) => events.push(e.eventName));
  await cdp.send('BackgroundService.startObserving', { service: 'backgroundSync' });
  await cdp.send('BackgroundService.setRecording', { shouldRecord: true, service: 'backgroundSync' });
  return events;
}

/** Waits (polling: DevTools events arrive on their own) until `events` has `name`. */
async function logged(events, name, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!events.includes(name) && Date.now() < deadline) await delay(100);
  return events.includes(name);
}

async function offlineWithOneQueued(context, page, given) {
  await h.loginAsAdmin(page, s.server);
  await page.evaluate(() => navigator.serviceWorker.ready);
  const path = await h.outboxModulePath(page);
  await h.setOnline(context, page, false);
  const record = child(given);
  await enqueue(page, path, record);
  await h.waitPending(page, 1);
  return { path, record };
}

test('an offline write registers the background sync tag; the service worker sends the queue with no page open', () =>
  h.withPhone(s, async ({ context, page }) => {
    const events = await syncLog(context, page);
    const { record } = await offlineWithOneQueued(context, page, 'آرزو');
    assert.ok(await logged(events, 'Registered sync'), JSON.stringify(events));
    const tags = await page.evaluate(async () => (await navigator.serviceWorker.ready).sync.getTags());
    assert.deepEqual(tags, [TAG], 'pending while offline');

    // No page of the app open any more; then the network comes back.
    await page.goto('about:blank');
    assert.equal(await apiStatus(`/api/v1/children/${record.id}`), 404, 'nothing sent yet');
    await context.setOffline(false);
    assert.ok(await arrives(`/api/v1/children/${record.id}`), 'the worker sent the queued registration');
    assert.ok(await logged(events, 'Sync completed'), JSON.stringify(events));
    assert.ok(events.includes('Dispatched sync event'), JSON.stringify(events));

    // Back in the app, the item shows as sent: the worker updated the queue.
    await page.goto(s.server.url);
    await page.locator(`.outbox-item[data-id="${record.id}"][data-state="done"]`).waitFor();
  }, { login: false }));

test('after logout the worker has no token and sends nothing', () =>
  h.withPhone(s, async ({ context, page }) => {
    const events = await syncLog(context, page);
    const { path, record } = await offlineWithOneQueued(context, page, 'بی‌نشان');
    // What the app does on logout (src/outbox.rs): the token goes, also from IndexedDB.
    await page.evaluate(async (path) => (await import(path)).outboxSetToken(null), path);
    await page.waitForFunction(
      () =>
        new Promise((resolve) => {
          const req = indexedDB.open('kudakyar-outbox');
          req.onsuccess = () => {
            const get = req.result.transaction('meta').objectStore('meta').get('token');
            get.onsuccess = () => resolve(get.result === undefined);
          };
        }),
    );
    await page.goto('about:blank');
    await context.setOffline(false);
    assert.ok(await logged(events, 'Sync completed'), JSON.stringify(events));
    assert.equal(await apiStatus(`/api/v1/children/${record.id}`), 404);
  }, { login: false }));
