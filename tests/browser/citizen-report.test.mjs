// Real-browser tests of the citizens' report page (/report, issue 20): no
// account, position from the phone, a photo downscaled on the phone, the
// report kept on the phone while offline and sent once when the network
// returns, the proof-of-work stamp found in a Web Worker when the server asks
// for one, and the status of a receipt code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as h from './helpers.mjs';

const s = h.suite('citizen-report');

// Azadi Square, Tehran.
const TEHRAN = { latitude: 35.6997, longitude: 51.338, accuracy: 20 };
const RECEIPT = /^[A-Z0-9]{5}-[A-Z0-9]{5}$/;
const PHOTO = readFileSync(join(h.REPO_ROOT, 'assets', 'web', 'icon-512.png'));

/** A phone page on /report with its GPS at `TEHRAN`, not logged in. */
function withCitizen(fn) {
  return h.withPhone(
    s,
    async (phone) => {
      await phone.context.grantPermissions(['geolocation'], { origin: s.server.url });
      await phone.context.setGeolocation(TEHRAN);
      await phone.page.goto(`${s.server.url}/report`);
      return fn(phone);
    },
    { login: false },
  );
}

/** Fills the form the way a passer-by would: position, two children, an activity. */
async function fillReport(page, { photo = false, description } = {}) {
  await page.getByRole('button', { name: 'استفاده از موقعیت فعلی من' }).click();
  await page.getByText(/موقعیت ثبت شد/).waitFor();
  await page.getByLabel('تعداد کودکان').fill('2');
  await page.getByLabel('۶ تا ۱۱ سال').check();
  await page.getByLabel('چه کاری می‌کرد؟').selectOption('car_window_washing');
  if (description) await page.getByLabel('توضیح (اختیاری)').fill(description);
  if (photo) await page.getByLabel('عکسی از محل، اگر بی‌خطر است').setInputFiles({ name: 'street.png', mimeType: 'image/png', buffer: PHOTO });
}

async function receiptShown(page) {
  const code = page.locator('#receipt-code');
  await code.waitFor({ state: 'visible', timeout: 30_000 });
  return (await code.textContent()).trim();
}

/** The stored reports (as the admin's triage list sees them) with `description`. */
async function storedWith(description) {
  const items = await h.apiGetAll(s.server, s.token, '/api/v1/sightings');
  return items.filter((r) => r.description === description);
}

test('a citizen reports a child from the page and gets a receipt code', async () => {
  await withCitizen(async ({ page, problems }) => {
    await page.getByRole('heading', { level: 1, name: 'گزارش کودک کار' }).waitFor();
    const description = `online-${Date.now()}`;
    await fillReport(page, { description });
    await page.getByRole('button', { name: 'ارسال گزارش' }).click();
    const code = await receiptShown(page);
    assert.match(code, RECEIPT);

    const [stored] = await storedWith(description);
    assert.equal(stored.receipt_code, code);
    assert.equal(stored.source, 'citizen');
    assert.equal(stored.children_count, 2);
    assert.deepEqual(stored.age_bands, ['6-11']);
    assert.equal(stored.activity, 'car_window_washing');
    assert.equal(stored.lat, TEHRAN.latitude);

    // The status page, by the code.
    await page.goto(`${s.server.url}/report/status?code=${code}`);
    await page.getByText(`${code}: دریافت شد`, { exact: false }).waitFor();
    await h.screenshot(page, 'citizen-report-status');
    h.assertNoProblems(problems);
  });
});

test('a point picked on the map: the map loads only when opened; the middle or a tap places the point the report carries', async () => {
  await withCitizen(async ({ page, problems }) => {
    const fetched = [];
    page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    await page.getByRole('heading', { level: 1, name: 'گزارش کودک کار' }).waitFor();
    const mapCode = (p) => p.startsWith('/atlas/leaflet-') || p.startsWith('/citizen/picker-');
    assert.deepEqual(fetched.filter(mapCode), [], 'nothing of the map before it is opened');

    // The phone's fix first: the map opens on it.
    await page.getByRole('button', { name: 'استفاده از موقعیت فعلی من' }).click();
    await page.getByText(/موقعیت ثبت شد/).waitFor();
    await page.getByRole('button', { name: 'یا انتخاب روی نقشه' }).click();
    await page.getByText('روی نقشه جایی را که کودک را دیدید بزنید.').waitFor();
    assert.equal(fetched.filter(mapCode).length, 2, `Leaflet and the picker: ${fetched}`);
    assert.ok(await page.locator('#picker-map svg path').count() > 0, 'the provinces are drawn');
    const status = page.locator('#position');
    await page.getByRole('button', { name: 'انتخاب نقطهٔ وسط نقشه' }).click();
    await status.getByText(/نقطهٔ روی نقشه ثبت شد/).waitFor();
    const middle = await status.textContent();

    // A tap 100 px east of the middle: at zoom 16, 100 × 360° / 2^24 of longitude.
    const box = await page.locator('#picker-map').boundingBox();
    await page.locator('#picker-map').click({ position: { x: box.width / 2 + 100, y: box.height / 2 } });
    await page.waitForFunction((before) => document.querySelector('#position').textContent !== before, middle);
    await h.screenshot(page, 'citizen-report-map-picker');

    const description = `map-${Date.now()}`;
    await page.getByLabel('تعداد کودکان').fill('1');
    await page.getByLabel('توضیح (اختیاری)').fill(description);
    await page.getByRole('button', { name: 'ارسال گزارش' }).click();
    await receiptShown(page);
    const [stored] = await storedWith(description);
    const east = (100 * 360) / 2 ** 24;
    assert.ok(Math.abs(stored.lng - (TEHRAN.longitude + east)) < 5e-5, `lng ${stored.lng}`);
    assert.ok(Math.abs(stored.lat - TEHRAN.latitude) < 5e-5, `lat ${stored.lat}`);
    assert.equal(stored.accuracy_m, null, 'a point placed by hand claims no accuracy');
    h.assertNoProblems(problems);
  });
});

test('a report made offline, with a photo, is sent once when the network returns', async () => {
  await withCitizen(async ({ context, page, problems }) => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    const description = `offline-${Date.now()}`;
    await context.setOffline(true);
    await fillReport(page, { photo: true, description });
    await page.getByRole('button', { name: 'ارسال گزارش' }).click();
    await page.getByRole('heading', { name: 'گزارش روی گوشی ذخیره شد' }).waitFor();
    assert.equal((await storedWith(description)).length, 0, 'nothing reached the server while offline');

    await context.setOffline(false);
    const code = await receiptShown(page);
    assert.match(code, RECEIPT);
    // The service worker's Background Sync may race the page's own sync:
    // the server's idempotent create keeps it one report either way.
    await page.waitForTimeout(1_000);
    const stored = await storedWith(description);
    assert.equal(stored.length, 1);
    assert.equal(stored[0].receipt_code, code);
    assert.equal(stored[0].has_photo, true);
    const queued = await page.evaluate(
      () => new Promise((resolve, reject) => {
        const req = indexedDB.open('kudakyar-reports');
        req.onsuccess = () => {
          const get = req.result.transaction('queue').objectStore('queue').count();
          get.onsuccess = () => resolve(get.result);
          get.onerror = () => reject(get.error);
        };
        req.onerror = () => reject(req.error);
      }),
    );
    assert.equal(queued, 0, 'the phone no longer holds the sent report');
    // Chromium logs the requests that failed while offline.
    h.assertNoProblems(problems, /ERR_INTERNET_DISCONNECTED|Failed to fetch|Failed to load resource/);
  });
});

test('past the soft limit the page solves the proof of work and the report goes through', async () => {
  await withCitizen(async ({ page, problems }) => {
    // The server asks for a stamp from the sixth report of an address within
    // the hour (sighting_soft_limit_per_hour = 5); earlier tests sent two.
    const challenges = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/api/v1/sightings/challenge')) challenges.push(req.url());
    });
    const codes = [];
    for (let i = 0; i < 5; i += 1) {
      if (i > 0) await page.getByRole('button', { name: 'گزارش دیگر' }).click();
      await fillReport(page, { description: `pow-${i}-${Date.now()}` });
      await page.getByRole('button', { name: 'ارسال گزارش' }).click();
      codes.push(await receiptShown(page));
      await page.locator('#done-view').waitFor({ state: 'visible' });
    }
    assert.equal(new Set(codes).size, 5);
    assert.ok(challenges.length >= 1, 'the page asked for a proof-of-work challenge');
    const stamped = await h.apiGetAll(s.server, s.token, '/api/v1/sightings');
    assert.ok(stamped.length >= 7, `seven reports stored, got ${stamped.length}`);
    // Chromium logs the server's 422 asking for the stamp; nothing else.
    h.assertNoProblems(problems, /status of 422 .*\/api\/v1\/sightings$/);
  });
});

test('English on request, and a missing position is named before anything is sent', async () => {
  await withCitizen(async ({ page, problems }) => {
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Report a working child' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
    await page.getByRole('button', { name: 'Send report' }).click();
    await page.locator('#error-lat').getByText(/position is needed/).waitFor();
    await page.getByRole('button', { name: 'فارسی' }).click();
    await page.getByRole('heading', { level: 1, name: 'گزارش کودک کار' }).waitFor();
    h.assertNoProblems(problems);
  });
});
