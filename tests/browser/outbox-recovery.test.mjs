// Real-browser tests of the outbox's ways out of a refused or cut request
// (issue 14, item 5): a 408 or a 503 is temporary (the item stays pending and
// is sent again), and a registration refused for its iris capture (422) can
// be sent without it from the outbox screen, after which what was queued
// about the child goes too; until then those items say what they wait on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './helpers.mjs';

const RUN = Date.now().toString(36);
const SEND_WITHOUT_IRIS = 'ارسال بدون تصویر عنبیه';

const s = h.suite('outbox-recovery');

async function apiGet(path) {
  const res = await fetch(`${s.server.url}${path}`, { headers: { authorization: `Bearer ${s.token}`, accept: 'application/json' } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A logged-in phone page with the outbox module's path. */
async function phone() {
  const p = await h.newPhonePage(s.browser);
  await h.loginAsAdmin(p.page, s.server);
  p.outbox = await h.outboxModulePath(p.page);
  return p;
}

const facts = (given) => ({ id: crypto.randomUUID(), given_name: given, family_name: `بازیابی-${RUN}`, sex: 'male', nationality: 'afghan', home_province: 'IR-23' });

test('a 408 and then a 503 leave the registration pending; it is sent once the server takes it', async () => {
  const p = await phone();
  try {
    // The server's first two answers to the create: a cut upload, then a
    // busy server. The third request reaches the real server.
    const answers = [408, 503];
    let creates = 0;
    await p.context.route('**/api/v1/children', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      creates += 1;
      const status = answers.shift();
      if (!status) return route.continue();
      await route.fulfill({ status, contentType: 'application/problem+json', body: JSON.stringify({ status, title: 'test' }) });
    });
    const child = facts('موقت');
    await h.callOutbox(p, 'outboxEnqueueRegistration', 'temporary', JSON.stringify(child), null, null, null, 'unreviewed');
    // The enqueue starts a sync; whatever sync got the 408 has ended once
    // one called here runs to an outcome of its own.
    let outcome = 'busy';
    for (let i = 0; i < 100 && (creates < 1 || outcome === 'busy'); i++) {
      await p.page.waitForTimeout(100); // polling: no event marks the sync's end
      outcome = await h.callOutbox(p, 'outboxSync');
    }
    assert.ok(creates >= 1, 'the create was sent');
    const [afterCut] = await h.storedItems(p.page);
    assert.notEqual(afterCut.state, 'failed', `a 408 is not final (error ${JSON.stringify(afterCut.error)})`);

    await h.syncUntilDone(p);
    await h.waitPending(p.page, 0);
    const [stored] = await h.storedItems(p.page);
    assert.equal(stored.state, 'done');
    assert.equal(creates, 3, 'sent again after the 408 and after the 503');
    assert.equal((await apiGet(`/api/v1/children/${child.id}`)).status, 200);
    await p.page.locator(`.outbox-item[data-id="${child.id}"][data-state="done"]`).waitFor();
  } finally {
    await p.context.close();
  }
});

test('a registration refused for its iris (422) is sent without it; the encounter queued behind it waits, says so, then goes', async () => {
  const p = await phone();
  const { page } = p;
  try {
    await p.context.setOffline(true);
    // A grey square: a picture, but no eye in it, so the engine refuses it.
    const grey = await page.evaluate(async () => {
      const canvas = new OffscreenCanvas(320, 240);
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#888';
      ctx.fillRect(0, 0, 320, 240);
      return [...new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer())];
    });
    const child = facts('عنبیه');
    const eye = { blob: grey, type: 'image/png' };
    await h.callOutbox(p, 'outboxEnqueueRegistration', 'iris refused', JSON.stringify(child), null, eye, eye, 'unreviewed');
    const encounter = { id: crypto.randomUUID(), at: new Date().toISOString(), lat: 35.7, lng: 51.4, services: [] };
    await h.callOutbox(p, 'outboxEnqueueEncounter', 'seen', child.id, JSON.stringify(encounter));
    await h.waitPending(page, 2);

    await p.context.setOffline(false);
    await h.syncUntilDone(p);
    const registration = page.locator(`.outbox-item[data-id="${child.id}"]`);
    await page.locator(`.outbox-item[data-id="${child.id}"][data-state="failed"]`).waitFor();
    const [refused] = (await h.storedItems(page)).filter((i) => i.id === child.id);
    assert.equal(refused.error.status, 422, JSON.stringify(refused.error));
    // The encounter cannot go before the child exists, and says what it waits on.
    const waiting = page.locator(`.outbox-item[data-id="${encounter.id}"]`);
    await page.locator(`.outbox-item[data-id="${encounter.id}"][data-blocked-by="${child.id}"]`).waitFor({ timeout: 10_000 });
    assert.match(await waiting.textContent(), /iris refused/, 'names the item it waits on');
    assert.equal(await waiting.getAttribute('data-state'), 'pending');
    await h.screenshot(page, 'outbox-iris-refused');

    await registration.getByRole('button', { name: SEND_WITHOUT_IRIS }).click();
    await h.waitPending(page, 0);
    await page.locator(`.outbox-item[data-id="${child.id}"][data-state="done"]`).waitFor();
    await page.locator(`.outbox-item[data-id="${encounter.id}"][data-state="done"]`).waitFor();
    assert.equal((await apiGet(`/api/v1/children/${child.id}`)).status, 200, 'the child is registered');
    const seen = (await apiGet(`/api/v1/children/${child.id}/encounters`)).body;
    assert.deepEqual((seen.items ?? seen).map((e) => e.id), [encounter.id], 'the encounter followed');
    assert.equal((await apiGet(`/api/v1/children/${child.id}/iris`)).body.length, 0, 'no iris enrolled');
  } finally {
    await p.context.close();
  }
});
