// Real-browser tests of what the outbox leaves on a shared phone (issue 14,
// item 11): a sent item keeps nothing personal in IndexedDB; each user has
// their own queue (the next user neither sees nor sends the previous one's);
// logging out with unsent work asks first, keeps that work for its author
// and deletes what was sent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './helpers.mjs';

const RUN = Date.now().toString(36);
const LOGOUT = 'خروج از حساب';
const LOGIN_TITLE = 'ورود به کودک\u200cیار';

const workers = {}; // name → {id, password}

const s = h.suite('outbox-privacy', { setup: createWorkers });

/** The two outreach workers who share the phone, created through the API. */
async function createWorkers() {
  for (const name of ['worker_a', 'worker_b']) {
    const password = `${name} password ${RUN}`;
    const res = await h.apiCreateUser(s.server, s.token, { username: name, password, role: 'outreach_worker', province: 'IR-23', county: null });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    workers[name] = { id: res.body.id, password };
  }
}

async function apiGet(path) {
  const res = await fetch(`${s.server.url}${path}`, { headers: { authorization: `Bearer ${s.token}`, accept: 'application/json' } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function loginWorker(p, name) {
  await h.loginAs(p.page, s.server, name, workers[name].password);
  p.outbox = await h.outboxModulePath(p.page);
}

const facts = (given) => ({ id: crypto.randomUUID(), given_name: given, family_name: `حریم-${RUN}`, sex: 'female', nationality: 'iranian', home_province: 'IR-23' });

async function queueChild(p, given) {
  const child = facts(given);
  await h.callOutbox(p, 'outboxEnqueueRegistration', `${given} ${child.family_name}`, JSON.stringify(child), null, null, null, 'unreviewed');
  return child;
}

/** Clicks «sign out» and returns the confirmation's text, or null if none was asked. */
async function clickLogout(page, accept) {
  let asked = null;
  const onDialog = async (dialog) => {
    asked = dialog.message();
    await (accept ? dialog.accept() : dialog.dismiss());
  };
  page.once('dialog', onDialog);
  await page.getByRole('button', { name: LOGOUT }).click();
  // Logged out unless a question was asked and dismissed.
  const heading = accept || asked === null ? LOGIN_TITLE : 'خوش آمدید';
  await page.getByRole('heading', { name: heading }).waitFor();
  page.off('dialog', onDialog);
  return asked;
}

test('after a sync, the sent items in IndexedDB hold no personal details', async () => {
  const p = await h.newPhonePage(s.browser);
  try {
    await h.loginAsAdmin(p.page, s.server);
    p.outbox = await h.outboxModulePath(p.page);
    const secrets = ['پریسا', 'صالحی', '0499370899', '09121234567', 'کنار پل', '35.7123', '51.4321', 'مادر بیمار است'];
    const child = {
      ...facts('پریسا'),
      family_name: 'صالحی',
      national_code: '0499370899',
      guardian: { name: 'کنار پل', relation: 'mother', phone: '09121234567' },
    };
    await h.callOutbox(p, 'outboxEnqueueRegistration', 'پریسا صالحی', JSON.stringify(child), null, null, null, 'unreviewed');
    const encounter = { id: crypto.randomUUID(), at: new Date().toISOString(), lat: 35.7123, lng: 51.4321, services: [], notes: 'مادر بیمار است' };
    await h.callOutbox(p, 'outboxEnqueueEncounter', 'دیدار: پریسا صالحی', child.id, JSON.stringify(encounter));
    await h.syncUntilDone(p);
    await h.waitPending(p.page, 0);
    assert.equal((await apiGet(`/api/v1/children/${child.id}`)).body.national_code, '0499370899', 'the server has it');

    const stored = await h.storedItems(p.page);
    assert.deepEqual(stored.map((i) => i.state), ['done', 'done']);
    for (const item of stored) {
      const text = JSON.stringify(item);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${secret} left in ${text}`);
      for (const field of ['child', 'body', 'label', 'photo', 'left', 'right']) {
        assert.ok(!(field in item) || item[field] == null, `${field} kept in ${text}`);
      }
    }
    // The list still shows what it needs: the registry code.
    const shown = p.page.locator(`.outbox-item[data-id="${child.id}"][data-state="done"]`);
    await shown.waitFor();
    const { registry_code: code } = (await apiGet(`/api/v1/children/${child.id}`)).body;
    assert.match(await shown.textContent(), new RegExp(code));
  } finally {
    await p.context.close();
  }
});

test('user B on the same browser never sees or sends user A\'s queue; A\'s logout asks, A sends it later', async () => {
  const p = await h.newPhonePage(s.browser);
  const { page, context } = p;
  try {
    await loginWorker(p, 'worker_a');
    await h.setOnline(context, page, false);
    const child = await queueChild(p, 'آوا');
    await h.waitPending(page, 1);

    // A is asked before leaving work unsent; saying no keeps A logged in.
    const question = await clickLogout(page, false);
    assert.ok(question, 'logging out with unsent work asks first');
    assert.match(question, /۱/, `says how many: ${question}`);
    await page.getByRole('heading', { name: 'خوش آمدید' }).waitFor();
    await h.waitPending(page, 1);
    assert.ok(await clickLogout(page, true), 'asked again');
    await page.getByRole('heading', { name: LOGIN_TITLE }).waitFor();

    await context.setOffline(false);
    await loginWorker(p, 'worker_b');
    await h.waitPending(page, 0);
    assert.equal(await page.locator('.outbox-item').count(), 0, 'B sees none of A\'s items');
    await h.syncUntilDone(p);
    assert.equal((await apiGet(`/api/v1/children/${child.id}`)).status, 404, 'B sent nothing of A\'s');
    assert.equal(await clickLogout(page, true), null, 'nothing unsent: no question');

    // A's work was kept on the phone and goes under A's name.
    await loginWorker(p, 'worker_a');
    await h.syncUntilDone(p);
    await h.waitPending(page, 0);
    const record = await apiGet(`/api/v1/children/${child.id}`);
    assert.equal(record.status, 200, 'A\'s registration was sent after A logged in again');
    const audit = await h.apiGetAll(s.server, s.token, '/api/v1/audit');
    const creates = audit.filter((e) => e.action === 'child.create' && e.resource_id === child.id);
    assert.deepEqual(creates.map((e) => e.username), ['worker_a'], 'created once, by its author');

    // A logs out with everything sent: the sent items leave the phone.
    assert.equal(await clickLogout(page, true), null);
    assert.deepEqual(await h.storedItems(page), [], 'sent items are deleted at logout');
  } finally {
    await context.close();
  }
});
