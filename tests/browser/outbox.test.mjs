// Real-browser test of the outreach worker's offline-first PWA (issue 6, first
// slice): installable (manifest, service worker), registrations and
// encounters queued in the IndexedDB outbox while offline, surviving a reload with no network, then
// sent exactly once when the network returns — checked through the API; then,
// online, a registration with the same eyes as an earlier child shows that
// child as a duplicate candidate before saving, and «same child» adds to it.
//
// Debian Chromium on a 360×640 touch phone in fa-IR, against the real
// `kudakyar` server and the real PWA build (see helpers.mjs). "Offline" is
// Playwright's network emulation (`context.setOffline`), which also sets
// `navigator.onLine` and fires the `offline`/`online` events the outbox
// listens to. Screenshots go to tests/artifacts/browser/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as h from './helpers.mjs';

const FA = {
  homeTitle: 'خوش آمدید',
  givenName: 'نام کودک',
  familyName: 'نام خانوادگی',
  sex: 'جنسیت',
  nationality: 'ملیت',
  province: 'استان',
  age: 'سن تقریبی (سال)',
  photo: 'عکس کودک',
  irisLeft: 'تصویر عنبیهٔ چپ',
  irisRight: 'تصویر عنبیهٔ راست',
  submit: 'ثبت و افزودن به صف ارسال',
  next: 'بعدی',
  queued: 'در صف ارسال ذخیره شد',
  stale: 'ارتباط با سرور برقرار نشد؛ اطلاعات ذخیره\u200cشده نمایش داده می\u200cشود.',
  addEncounter: 'ثبت دیدار امروز در همین مکان',
  encounterQueued: 'دیدار در صف ارسال ذخیره شد',
  locate: 'گرفتن موقعیت گوشی',
  sameChild: 'همان کودک است',
};

// A run-specific suffix keeps the names unique if the data dir were reused.
const RUN = Date.now().toString(36);
const CHILDREN = [
  { given: 'مریم', family: `احمدی-${RUN}`, sex: 'female', nationality: 'afghan', age: '۱۰', photo: true },
  { given: 'علی', family: `رضایی-${RUN}`, sex: 'male', nationality: 'iranian', age: '12', iris: true },
  { given: 'زهرا', family: `کریمی-${RUN}`, sex: 'female', nationality: 'unknown', age: '' },
];

const s = h.suite('outbox', { iris: {} });

const homeHeading = (page) => page.getByRole('heading', { level: 1, name: FA.homeTitle });
const syncBar = (page) => page.locator('#sync-status');
const pendingCount = (page) => syncBar(page).getAttribute('data-pending');

async function register(page, child, photo) {
  await fillChild(page, child, photo);
  await page.getByRole('button', { name: FA.submit }).click();
  await page.getByRole('status').filter({ hasText: FA.queued }).filter({ hasText: child.given }).waitFor();
}

/** The registration's three steps: the position as the phone has it, the essentials, the eyes and photo. */
async function fillChild(page, child, photo) {
  await page.getByRole('button', { name: FA.next, exact: true }).click();
  await page.getByLabel(FA.givenName, { exact: true }).fill(child.given);
  await page.getByLabel(FA.familyName, { exact: true }).fill(child.family);
  await page.getByLabel(FA.sex, { exact: true }).selectOption(child.sex);
  await page.getByLabel(FA.nationality, { exact: true }).selectOption(child.nationality);
  await page.getByLabel(FA.province, { exact: true }).selectOption('IR-23');
  await page.getByLabel(FA.age, { exact: true }).fill(child.age);
  await page.getByRole('button', { name: FA.next, exact: true }).click();
  if (child.photo) await page.getByLabel(FA.photo).setInputFiles(photo);
  if (child.iris) {
    await page.getByLabel(FA.irisLeft).setInputFiles(s.iris[0]);
    await page.getByLabel(FA.irisRight).setInputFiles(s.iris[1]);
  }
}

async function apiGet(path, token) {
  const res = await fetch(`${s.server.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

test('manifest and service worker: installable, Persian, right-to-left', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await page.goto(s.server.url);
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    const res = await page.request.get(new URL(href, s.server.url).href);
    assert.equal(res.status(), 200);
    const manifest = await res.json();
    assert.equal(manifest.name, 'کودک\u200cیار');
    assert.equal(manifest.lang, 'fa');
    assert.equal(manifest.dir, 'rtl');
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.start_url, '/');
    for (const icon of manifest.icons) {
      assert.equal((await page.request.get(new URL(icon.src, s.server.url).href)).status(), 200, icon.src);
    }
    const sw = await page.request.get(`${s.server.url}/sw.js`);
    assert.match(sw.headers()['content-type'], /javascript/);
    assert.equal(sw.headers()['cache-control'], 'no-cache');
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, `${s.server.url}/`);
    assert.deepEqual(problems, []);
  }, { login: false }));

test('offline: 3 registrations and 2 encounters queued, kept across an offline reload, sent exactly once online; a duplicate is flagged', async () => {
  const { context, page, problems } = await h.newPhonePage(s.browser);
  const photo = join(h.REPO_ROOT, 'assets', 'web', 'icon-192.png');
  try {
    await h.loginAsAdmin(page, s.server);
    // The service worker has cached the shell and controls the page.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    assert.equal(await pendingCount(page), '0');

    await context.setOffline(true);
    await page.waitForFunction(() => document.querySelector('#sync-status')?.getAttribute('data-online') === 'false');
    for (const [i, child] of CHILDREN.entries()) {
      await register(page, child, photo);
      await h.waitPending(page, i + 1);
    }
    assert.equal(await page.locator('.outbox-item[data-state="pending"]').count(), 3);

    // Two encounters, offline too, at the phone's (emulated) GPS position,
    // for children whose registrations are themselves still queued.
    await context.grantPermissions(['geolocation'], { origin: s.server.url });
    await context.setGeolocation({ latitude: 35.6892, longitude: 51.389, accuracy: 12 });
    for (const [i, child] of CHILDREN.slice(0, 2).entries()) {
      const item = page.locator('.outbox-item[data-kind="registration"]').filter({ hasText: child.family });
      await item.getByRole('button', { name: FA.addEncounter }).click();
      await item.getByRole('status').filter({ hasText: FA.encounterQueued }).waitFor();
      await h.waitPending(page, 4 + i);
    }
    await h.screenshot(page, 'outbox-offline-queued');

    // Reload with no network: the service worker serves the app, IndexedDB
    // still holds the queue.
    const reloaded = await page.reload();
    assert.ok(reloaded.fromServiceWorker(), 'the page came from the service worker');
    await homeHeading(page).waitFor();
    await h.waitPending(page, 5);
    assert.equal(await page.locator('.outbox-item[data-state="pending"]').count(), 5);
    const html = page.locator('html');
    assert.equal(await html.getAttribute('lang'), 'fa');
    assert.equal(await html.getAttribute('dir'), 'rtl');
    await h.screenshot(page, 'outbox-offline-reloaded');

    // Back online: the `online` event starts the sync.
    await context.setOffline(false);
    await h.waitPending(page, 0, 60_000);
    await page.waitForFunction(() => document.querySelectorAll('.outbox-item[data-state="done"]').length === 5);
    // The session is re-checked too: no stale "could not reach the server".
    await page.getByText(FA.stale).waitFor({ state: 'detached' });
    await h.screenshot(page, 'outbox-synced');

    // Exactly once each, through the API.
    const token = await h.apiLogin(s.server, 'admin', h.ADMIN_PASSWORD);
    const { items } = await apiGet('/api/v1/children?limit=100', token);
    for (const child of CHILDREN) {
      const found = items.filter((c) => c.family_name === child.family);
      assert.equal(found.length, 1, `${child.given} ${child.family}: ${found.length} records`);
      const [record] = found;
      assert.equal(record.given_name, child.given);
      assert.equal(record.sex, child.sex);
      assert.equal(record.nationality, child.nationality);
      assert.equal(record.home_province, 'IR-23');
      if (child.age) assert.equal(record.birth?.estimated_age, Number(child.age.replace('۱۰', '10')));
      const shown = page.locator(`.outbox-item[data-id="${record.id}"]`);
      assert.equal(await shown.count(), 1, 'the outbox item carries the record id');
      assert.match(await shown.textContent(), new RegExp(record.registry_code));
      const photos = await apiGet(`/api/v1/children/${record.id}/photos`, token);
      const count = Array.isArray(photos) ? photos.length : (photos.items ?? []).length;
      assert.equal(count, child.photo ? 1 : 0, `photos of ${child.given}`);
      const encounters = await apiGet(`/api/v1/children/${record.id}/encounters`, token);
      const seen = Array.isArray(encounters) ? encounters : (encounters.items ?? []);
      const wanted = CHILDREN.indexOf(child) < 2 ? 1 : 0;
      assert.equal(seen.length, wanted, `encounters of ${child.given}`);
      if (wanted) {
        assert.equal(seen[0].details?.lat ?? seen[0].lat, 35.6892);
      }
    }
    assert.equal(items.length, CHILDREN.length, 'no other record was created');

    // Online, the same eyes again: before anything is saved, the app shows
    // the first child as a duplicate candidate; «same child» adds an
    // encounter and the captures to that record instead of a new one.
    const first = items.find((c) => c.family_name === CHILDREN[1].family);
    const firstEncounters = (await apiGet(`/api/v1/children/${first.id}/encounters`, token)).length;
    const twin = { given: 'علی', family: `دوباره-${RUN}`, sex: 'male', nationality: 'iranian', age: '12', iris: true, photo: true };
    await page.getByRole('button', { name: FA.locate }).click();
    await page.getByText('۱۲ متر').waitFor(); // the fix, with its accuracy
    await fillChild(page, twin, photo);
    await page.getByRole('button', { name: FA.submit }).click();
    const candidate = page.locator(`.candidate[data-code="${first.registry_code}"]`);
    await candidate.waitFor({ timeout: 30_000 });
    await h.screenshot(page, 'register-duplicate-candidate');
    await candidate.getByRole('button', { name: FA.sameChild }).click();
    await page.getByRole('status').filter({ hasText: first.registry_code }).waitFor();
    // Sent: the 5 earlier items plus the captures, the photo and the encounter.
    await page.waitForFunction(() => document.querySelectorAll('.outbox-item[data-state="done"]').length === 8, null, { timeout: 60_000 });
    const after = await apiGet('/api/v1/children?limit=100', token);
    assert.equal(after.items.filter((c) => c.family_name === twin.family).length, 0, 'no second record');
    assert.equal(after.items.length, CHILDREN.length);
    const seenAgain = await apiGet(`/api/v1/children/${first.id}/encounters`, token);
    assert.equal(seenAgain.length, firstEncounters + 1, 'the encounter went to the first child');
    const photos = await apiGet(`/api/v1/children/${first.id}/photos`, token);
    assert.equal(photos.length, 1, 'the photo taken online went to the first child');
    const enrolled = await apiGet(`/api/v1/children/${first.id}/iris`, token);
    assert.ok(enrolled.length >= 2, 'the captures are on the first child');

    // Requests that failed while offline are expected console noise.
    h.assertNoProblems(problems, /ERR_INTERNET_DISCONNECTED/);
  } finally {
    await context.close();
  }
});

test('409: a queued record whose id the server already holds with other data is kept and shown, not retried', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    // Installed first, as a phone in the street is: the screens' code
    // (the form, the outbox list) is then on the phone.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await context.setOffline(true);
    await page.waitForFunction(() => document.querySelector('#sync-status')?.getAttribute('data-online') === 'false');
    const child = { given: 'حسن', family: `تعارض-${RUN}`, sex: 'male', nationality: 'iranian', age: '9' };
    await register(page, child, null);
    await h.waitPending(page, 1);
    const id = await page.locator('.outbox-item').filter({ hasText: child.family }).getAttribute('data-id');

    // Meanwhile the same id reaches the server with other facts.
    const token = await h.apiLogin(s.server, 'admin', h.ADMIN_PASSWORD);
    const other = await fetch(`${s.server.url}/api/v1/children`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ id, given_name: 'دیگری', sex: 'male', nationality: 'afghan', home_province: 'IR-23' }),
    });
    assert.equal(other.status, 201);
    const stored = await other.json();

    await context.setOffline(false);
    const item = page.locator(`.outbox-item[data-id="${id}"]`);
    await page.locator(`.outbox-item[data-id="${id}"][data-state="conflict"]`).waitFor({ timeout: 30_000 });
    assert.equal(await pendingCount(page), '0', 'a conflict is not pending');
    assert.equal(await syncBar(page).getAttribute('data-refused'), '1');
    assert.match(await item.textContent(), new RegExp(stored.registry_code), 'the stored record is named');
    await h.screenshot(page, 'outbox-conflict');

    // A reload (which starts a sync) does not send it again.
    await page.reload();
    await homeHeading(page).waitFor();
    await page.locator(`.outbox-item[data-id="${id}"][data-state="conflict"]`).waitFor();
    await page.waitForTimeout(500); // let the start-up sync run
    const sent = readFileSync(s.server.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('method=POST path="/api/v1/children"}') && l.includes('status=409'));
    assert.equal(sent.length, 1, 'the conflicting create was sent once');
    const held = await apiGet(`/api/v1/children/${id}`, token);
    assert.equal(held.given_name, 'دیگری', 'the server keeps its record');

    h.assertNoProblems(problems, /ERR_INTERNET_DISCONNECTED|status of 409/);
  }));

test('server shuts down gracefully on SIGTERM (exit status 0)', async () => {
  const { code, signal } = await s.server.stop();
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `see ${s.server.logPath}`);
});
