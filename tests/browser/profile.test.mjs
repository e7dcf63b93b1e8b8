// Real-browser tests of the outreach worker's screens beyond registration
// (issue 6): a child's profile with Jalali dates, an encounter with services
// and a follow-up date from the Jalali picker, a status change and a
// referral, all through the outbox; a conflict shown with both values for
// the worker to choose; search by name online and, offline, in the working
// set kept on the phone; identify by iris; the English switch.
//
// The Jalali dates are checked against Chromium's own `Intl` Persian
// calendar, an implementation independent of the app's arithmetic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as h from './helpers.mjs';

/** Polls `check` (async) until it returns a truthy value, for up to 30 s. */
async function until(check, what) {
  const end = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const FA = {
  homeLink: 'خانه',
  searchQuery: 'نام، نام مستعار یا شماره پرونده',
  searchSubmit: 'جستجو',
  offlineCopy: 'بدون اینترنت: نسخهٔ ذخیره\u200cشده روی گوشی نمایش داده می\u200cشود.',
  locate: 'گرفتن موقعیت گوشی',
  food: 'غذا',
  newEncounter: 'ثبت دیدار',
  status: 'وضعیت',
  save: 'ذخیره',
  refer: 'ارجاع',
  applyChoice: 'ثبت انتخاب',
  irisLeft: 'تصویر عنبیهٔ چپ',
  identify: 'شناسایی',
  english: 'English',
  reason: 'دلیل',
  givenName: 'نام کودک',
  age: 'سن تقریبی (سال)',
  submit: 'ثبت و افزودن به صف ارسال',
  next: 'بعدی',
  back: 'قبلی',
  completeRecord: 'تکمیل پرونده (اختیاری)',
  retake: 'تصویر عنبیه قابل استفاده نیست؛ دوباره بگیرید',
  badAge: 'سن تقریبی باید عددی بین ۰ و ۲۵ باشد.',
  enterPosition: 'وارد کردن دستی موقعیت',
  latitude: 'عرض جغرافیایی',
  longitude: 'طول جغرافیایی',
  badPosition: 'موقعیت باید عرض و طول جغرافیایی معتبر باشد.',
  irisPickOne: 'دست\u200cکم یک تصویر عنبیه انتخاب کنید.',
  reasonRequired: 'دلیل تغییر وضعیت را بنویسید.',
  encounterQueued: 'دیدار در صف ارسال ذخیره شد.',
  changeQueued: 'تغییر در صف ارسال ذخیره شد.',
  referralQueued: 'ارجاع در صف ارسال ذخیره شد.',
  editOpen: 'ویرایش همهٔ اطلاعات پرونده',
  editSave: 'ذخیرهٔ تغییرات',
  editQueued: 'تغییرات در صف ارسال ذخیره شد.',
  editNothing: 'چیزی تغییر نکرده است.',
  fatherName: 'نام پدر',
  aliases: 'نام\u200cهای دیگر (هر کدام در یک سطر)',
  nationalCode: 'کد ملی',
  badNationalCode: 'کد ملی معتبر نیست',
  birthKnown: 'تولد',
  birthYear: 'سال تولد',
  dari: 'دری',
  persian: 'فارسی',
  flowers: 'گل\u200cفروشی و فال\u200cفروشی',
  living: 'محل و شیوهٔ زندگی',
  school: 'وضعیت تحصیل',
  medical: 'نیاز به درمان',
  guardianName: 'نام سرپرست',
  guardianRelation: 'نسبت با کودک',
  guardianPhone: 'تلفن سرپرست',
  consentGiven: 'رضایت گرفته شد',
  consentBy: 'رضایت\u200cدهنده (نام سرپرست یا «خود کودک»)',
  childAssent: 'کودک خود نیز موافقت کرد',
};

const RUN = Date.now().toString(36);
let child; // created through the API, seen an hour ago

async function api(method, path, body) {
  const res = await fetch(`${s.server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${s.token}`,
      accept: 'application/json',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const s = h.suite('profile', { iris: { seed: 7 }, setup: createChild });

/** The child of these tests, seen an hour ago, with a centre near it and its left eye enrolled. */
async function createChild() {
  const created = await api('POST', '/api/v1/children', {
    given_name: 'رضا',
    family_name: `پرونده-${RUN}`,
    sex: 'male',
    nationality: 'afghan',
    home_province: 'IR-23',
    birth: { precision: 'estimated', estimated_age: 11 },
  });
  assert.equal(created.status, 201);
  child = created.body;
  const seen = await api('POST', `/api/v1/children/${child.id}/encounters`, {
    at: new Date(Date.now() - 3600_000).toISOString(),
    lat: 35.7,
    lng: 51.4,
  });
  assert.equal(seen.status, 201);
  const centre = await api('POST', '/api/v1/centres', {
    name: `مرکز مثبت زندگی ${RUN}`,
    lat: 35.71,
    lng: 51.41,
    province: 'IR-23',
    services: ['food'],
  });
  assert.equal(centre.status, 201);
  // Synthetic eyes from the server binary, the left one enrolled for the child.
  const [first] = s.iris;
  const form = new FormData();
  form.append('left', new Blob([readFileSync(first)], { type: 'image/png' }), 'left.png');
  const enrolled = await fetch(`${s.server.url}/api/v1/children/${child.id}/iris`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.token}` },
    body: form,
  });
  assert.ok([200, 201].includes(enrolled.status), `enrol: ${enrolled.status}`);
}

/** The Gregorian YYYY-MM-DD of a Jalali date, by Chromium's Intl. */
async function gregorianOf(page, [jy, jm, jd]) {
  return page.evaluate(([y, m, d]) => {
    const fmt = new Intl.DateTimeFormat('en-u-ca-persian-nu-latn', { timeZone: 'UTC', year: 'numeric', month: 'numeric', day: 'numeric' });
    for (let t = Date.UTC(y + 621, 0, 1); t < Date.UTC(y + 623, 0, 1); t += 86_400_000) {
      const parts = Object.fromEntries(fmt.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
      if (Number(parts.year) === y && Number(parts.month) === m && Number(parts.day) === d) {
        return new Date(t).toISOString().slice(0, 10);
      }
    }
    return null;
  }, [jy, jm, jd]);
}

test('profile: Jalali dates, an encounter with services and follow-up, a status change and a referral', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await context.grantPermissions(['geolocation'], { origin: s.server.url });
    await context.setGeolocation({ latitude: 35.7001, longitude: 51.4002, accuracy: 8 });
    await h.loginAsAdmin(page, s.server);
    await page.goto(`${s.server.url}/child/${child.id}`);
    await page.getByRole('heading', { level: 1, name: `رضا پرونده-${RUN}` }).waitFor();
    const facts = await page.locator('dl.facts').textContent();
    assert.match(facts, new RegExp(child.registry_code));
    // «Registered» in the Persian calendar and digits: the Jalali year of now.
    const jalaliYear = await page.evaluate(() =>
      new Intl.DateTimeFormat('fa-IR-u-ca-persian', { year: 'numeric' }).format(new Date()));
    assert.ok(facts.includes(jalaliYear.replace(/[^۰-۹]/g, '')), `${facts} has ${jalaliYear}`);
    assert.doesNotMatch(facts, /20\d\d/, 'no Gregorian year');
    await page.locator('.timeline .encounter').first().waitFor();

    // A follow-up on 10 Ordibehesht of next year, from the Jalali picker.
    const year = Number(jalaliYear.replace(/[۰-۹]/g, (c) => '۰۱۲۳۴۵۶۷۸۹'.indexOf(c)).replace(/\D/g, '')) + 1;
    await page.locator('#follow-up-year').selectOption(String(year));
    await page.locator('#follow-up-month').selectOption('2');
    await page.locator('#follow-up-day').selectOption('10');
    await page.getByLabel(FA.food).check();
    await page.locator('#notes').fill('کفش لازم دارد');
    await page.getByRole('button', { name: FA.locate }).first().click();
    await page.getByText('۸ متر').first().waitFor();
    await page.getByRole('button', { name: FA.newEncounter, exact: true }).click();
    await page.getByRole('status').filter({ hasText: FA.encounterQueued }).waitFor();
    const encounters = await until(async () => {
      const list = (await api('GET', `/api/v1/children/${child.id}/encounters`)).body;
      return list.length === 2 && list;
    }, 'the encounter to arrive');
    await h.screenshot(page, 'profile-encounter');
    const newest = encounters.find((e) => e.notes === 'کفش لازم دارد');
    assert.ok(newest, 'the new encounter arrived');
    assert.deepEqual(newest.services, ['food']);
    assert.equal(newest.next_follow_up, await gregorianOf(page, [year, 2, 10]));
    assert.ok(Math.abs(newest.lat - 35.7001) < 1e-6);

    await page.getByLabel(FA.status, { exact: true }).selectOption('referred');
    await page.getByRole('button', { name: FA.save }).click();
    // Why is required, as on the server.
    await page.getByRole('status').filter({ hasText: FA.reasonRequired }).waitFor();
    await page.getByLabel(FA.reason, { exact: true }).fill('ارجاع به مرکز');
    await page.getByRole('button', { name: FA.save }).click();
    await page.getByRole('status').filter({ hasText: FA.changeQueued }).waitFor();
    await until(async () => (await api('GET', `/api/v1/children/${child.id}`)).body.status === 'referred', 'status referred');

    await page.locator('.centre').getByRole('button', { name: FA.refer }).click();
    await page.getByRole('status').filter({ hasText: FA.referralQueued }).waitFor();
    await until(async () => (await api('GET', `/api/v1/referrals?child_id=${child.id}`)).body.length === 1, 'the referral');
    assert.deepEqual(problems, []);
  }, { login: false }));

test('conflict: a status both sides changed is shown with both values, and the worker\'s choice is sent', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await page.goto(`${s.server.url}/child/${child.id}`);
    await page.locator('dl.facts').waitFor();
    // The page holds version N. A colleague sets the case back to active
    // (N+1); then the worker, still on version N, closes it: both changed
    // the status. (Online all along: with the network emulation, the
    // service worker's background sync could race the page.)
    const base = (await api('GET', `/api/v1/children/${child.id}`)).body;
    const theirs = await api('PATCH', `/api/v1/children/${child.id}`, { base_version: base.version, changes: { status: 'active' }, reason: 'ارجاع پذیرفته نشد' });
    assert.equal(theirs.status, 200, JSON.stringify(theirs.body));
    await page.getByLabel(FA.status, { exact: true }).selectOption('closed');
    await page.getByLabel(FA.reason, { exact: true }).fill('به خانواده پیوست');
    await page.getByRole('button', { name: FA.save }).click();
    await page.getByRole('status').filter({ hasText: FA.changeQueued }).waitFor();
    await page.getByRole('link', { name: FA.homeLink }).click();
    const item = page.locator('.outbox-item[data-state="conflict"]');
    await item.waitFor({ timeout: 30_000 });
    const choice = item.locator('.choice[data-field="status"]');
    assert.match(await choice.textContent(), /فعال/);
    assert.match(await choice.textContent(), /بسته\u200cشده/);
    await h.screenshot(page, 'outbox-conflict-choice');
    await item.getByRole('button', { name: FA.applyChoice }).click();
    await until(async () => (await api('GET', `/api/v1/children/${child.id}`)).body.status === 'closed', 'the chosen status');
    await page.waitForFunction(() => !document.querySelector('.outbox-item[data-state="conflict"]'));
    h.assertNoProblems(problems, /status of 409/);
  }));

test('the whole record: every field edited offline, checked by the server\'s rules, sent once', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await page.goto(`${s.server.url}/child/${child.id}`);
    await page.locator('dl.facts').waitFor();
    const before = (await api('GET', `/api/v1/children/${child.id}`)).body;
    await page.getByRole('button', { name: FA.editOpen }).click();
    const form = page.locator('#edit-form');
    await form.getByLabel(FA.fatherName).fill('حسن');
    await form.getByLabel(FA.aliases).fill('رضی\nممد');
    // A national code with a wrong check digit is named, and nothing is queued.
    await form.getByLabel(FA.nationalCode).fill('0499370898');
    await form.getByRole('button', { name: FA.editSave }).click();
    const alert = form.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), new RegExp(`${FA.nationalCode}: ${FA.badNationalCode}`));
    // Persian digits, as a phone keyboard types them.
    await form.getByLabel(FA.nationalCode).fill('۰۴۹۹۳۷۰۸۹۹');
    await form.getByLabel(FA.birthKnown, { exact: true }).selectOption('year');
    const jalaliYear = Number(await page.evaluate(() =>
      new Intl.DateTimeFormat('en-u-ca-persian-nu-latn', { year: 'numeric' }).format(new Date())).then((y) => y.replace(/\D/g, '')));
    await form.getByLabel(FA.birthYear).selectOption(String(jalaliYear - 12));
    await form.locator('#edit-languages').getByLabel(FA.dari).check();
    await form.locator('#edit-languages').getByLabel(FA.persian).check();
    await form.locator('#edit-work').getByLabel(FA.flowers).check();
    await form.getByLabel(FA.living).selectOption('with_relatives');
    await form.getByLabel(FA.school).selectOption('dropped');
    await form.locator('#edit-risks').getByLabel(FA.medical).check();
    await form.getByLabel(FA.guardianName).fill('زهرا');
    await form.getByLabel(FA.guardianRelation).fill('مادر');
    await form.getByLabel(FA.guardianPhone).fill('۰۹۱۲ ۳۴۵ ۶۷۸۹');
    await form.getByLabel(FA.consentGiven).check();
    await form.getByLabel(FA.consentBy).fill('زهرا (مادر)');
    await form.getByLabel(FA.childAssent).check();

    await h.setOnline(context, page, false);
    await form.getByRole('button', { name: FA.editSave }).click();
    await form.getByRole('status').filter({ hasText: FA.editQueued }).waitFor();
    await h.screenshot(page, 'profile-edit-record');
    assert.equal((await api('GET', `/api/v1/children/${child.id}`)).body.version, before.version, 'nothing sent offline');
    await h.setOnline(context, page, true);
    const after = await until(async () => {
      const c = (await api('GET', `/api/v1/children/${child.id}`)).body;
      return c.father_name === 'حسن' && c;
    }, 'the edit to arrive');
    assert.equal(after.version, before.version + 1, 'one update');
    assert.deepEqual(after.aliases, ['رضی', 'ممد']);
    assert.equal(after.national_code, '0499370899');
    assert.deepEqual(after.birth, { precision: 'year', date: null, year: jalaliYear - 12 + 621, estimated_age: null });
    assert.deepEqual([...after.languages].sort(), ['dari', 'persian']);
    assert.deepEqual(after.work_types, ['selling_flowers_or_poems']);
    assert.equal(after.living_situation, 'with_relatives');
    assert.equal(after.school_status, 'dropped');
    assert.deepEqual(after.risk_flags, ['needs_medical_care']);
    assert.deepEqual(after.guardian, { name: 'زهرا', relation: 'مادر', phone: '09123456789' });
    assert.equal(after.consent.given_by, 'زهرا (مادر)');
    assert.equal(after.consent.child_assent, true);
    assert.ok(Math.abs(Date.parse(after.consent.given_at) - Date.now()) < 600_000, after.consent.given_at);
    // Untouched facts stay as they were.
    assert.equal(after.given_name, before.given_name);
    assert.equal(after.nationality, before.nationality);
    assert.equal(after.home_province, before.home_province);

    // The profile shows them; saving again unchanged queues nothing.
    await page.reload();
    const facts = page.locator('dl.facts');
    await facts.waitFor();
    await until(async () => (await facts.textContent()).includes('0499370899'), 'the national code on the profile');
    assert.match(await facts.textContent(), /حسن/);
    await page.getByRole('button', { name: FA.editOpen }).click();
    await form.getByRole('button', { name: FA.editSave }).click();
    await form.getByRole('status').filter({ hasText: FA.editNothing }).waitFor();
    h.assertNoProblems(problems, /ERR_INTERNET_DISCONNECTED/);
  }));

test('registration in three steps, then «complete the record»: both queued offline, sent once and in order', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await h.setOnline(context, page, false);
    const step = page.getByText(/^مرحلهٔ [۱-۳] از ۳$/);
    assert.equal(await step.textContent(), 'مرحلهٔ ۱ از ۳');
    assert.ok(!(await page.getByLabel(FA.givenName, { exact: true }).isVisible()), 'the essentials wait for step 2');
    await page.getByRole('button', { name: FA.next, exact: true }).click();
    assert.equal(await step.textContent(), 'مرحلهٔ ۲ از ۳');
    const name = `گام-${RUN}`;
    await page.getByLabel(FA.givenName, { exact: true }).fill(name);
    await page.getByLabel(FA.age, { exact: true }).fill('۹');
    // Back keeps what was typed.
    await page.getByRole('button', { name: FA.back, exact: true }).click();
    await page.getByRole('button', { name: FA.next, exact: true }).click();
    assert.equal(await page.getByLabel(FA.givenName, { exact: true }).inputValue(), name);
    await page.getByRole('button', { name: FA.next, exact: true }).click();
    assert.equal(await step.textContent(), 'مرحلهٔ ۳ از ۳');
    await page.getByRole('button', { name: FA.submit }).click();
    await page.getByRole('status').filter({ hasText: name }).waitFor();
    assert.equal(await step.textContent(), 'مرحلهٔ ۱ از ۳', 'ready for the next child');

    // The rest, optional: the record's editor on the queued record, offline.
    await page.getByRole('button', { name: FA.completeRecord }).click();
    const form = page.locator('#edit-form');
    await form.getByLabel(FA.fatherName).fill('کریم');
    await form.locator('#edit-languages').getByLabel(FA.dari).check();
    await form.getByLabel(FA.school).selectOption('never_enrolled');
    await form.getByRole('button', { name: FA.editSave }).click();
    await form.getByRole('status').filter({ hasText: FA.editQueued }).waitFor();
    await h.waitPending(page, 2);
    await h.screenshot(page, 'register-complete-record');
    const named = async () => (await api('GET', `/api/v1/children?q=${encodeURIComponent(name)}`)).body.items
      .filter((c) => c.given_name === name);
    assert.equal((await named()).length, 0, 'nothing sent offline');

    await h.setOnline(context, page, true);
    const stored = await until(async () => {
      const found = await named();
      return found.length === 1 && found[0].version === 2 && found[0];
    }, 'the registration and its completion to arrive');
    const record = (await api('GET', `/api/v1/children/${stored.id}`)).body;
    assert.equal(record.given_name, name);
    assert.deepEqual(record.birth, { precision: 'estimated', date: null, year: null, estimated_age: 9 });
    assert.equal(record.father_name, 'کریم');
    assert.deepEqual(record.languages, ['dari']);
    assert.equal(record.school_status, 'never_enrolled');
    await h.waitPending(page, 0);
    assert.equal(await page.locator('.outbox-item[data-state="failed"]').count(), 0);
    h.assertNoProblems(problems, /ERR_INTERNET_DISCONNECTED/);
  }));

test('search: by name online, from the working set offline, by iris; English on request', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await page.getByRole('link', { name: FA.searchSubmit }).click();
    const query = page.getByLabel(FA.searchQuery);
    await query.fill(`پرونده-${RUN}`);
    await page.getByRole('button', { name: FA.searchSubmit, exact: true }).click();
    await page.locator(`.child-row[data-id="${child.id}"]`).waitFor();

    await h.setOnline(context, page, false);
    await query.fill('رضا'); // Arabic-keyboard spelling would fold the same
    await page.getByRole('button', { name: FA.searchSubmit, exact: true }).click();
    await page.getByText(FA.offlineCopy).waitFor();
    await page.locator(`.child-row[data-id="${child.id}"]`).waitFor();
    await h.screenshot(page, 'search-offline');
    await h.setOnline(context, page, true);

    const second = s.iris[1];
    await page.getByLabel(FA.irisLeft).setInputFiles(second);
    await page.getByRole('button', { name: FA.identify }).click();
    await page.locator(`.candidate[data-code="${child.registry_code}"]`).waitFor({ timeout: 30_000 });
    await h.screenshot(page, 'search-iris');

    await page.getByRole('button', { name: FA.english }).click();
    await page.getByRole('heading', { level: 1, name: 'Find a child' }).waitFor();
    const html = page.locator('html');
    assert.equal(await html.getAttribute('lang'), 'en');
    assert.equal(await html.getAttribute('dir'), 'ltr');
    await h.screenshot(page, 'search-english');
    await page.getByRole('button', { name: 'فارسی' }).click();
    await page.getByRole('heading', { level: 1, name: 'جستجوی کودک' }).waitFor();
    h.assertNoProblems(problems, /ERR_INTERNET_DISCONNECTED/);
  }));

test('code loaded on demand: a fresh page opened offline shows the profile and search from the service worker\'s cache', async () => {
  const { context, page, problems } = await h.newPhonePage(s.browser);
  try {
    // The home screen only: neither the profile nor search has been opened
    // in this context, so their chunks can only come from the precache.
    await h.loginAsAdmin(page, s.server);
    const chunks = await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const { files } = await (await fetch('/precache.json')).json();
      return files.filter((f) => f.endsWith('.wasm') && !f.endsWith('_bg.wasm'));
    });
    assert.ok(chunks.some((f) => f.startsWith('/split_child_view_')), `${chunks}`);
    assert.ok(chunks.some((f) => f.startsWith('/split_search_view_')), `${chunks}`);
    // The working set (refreshed at login, itself on demand) holds the child.
    await page.waitForFunction((id) => (localStorage.getItem('kudakyar.workset.v1') || '').includes(id), child.id);
    const fetched = [];
    page.on('request', (r) => { if (r.url().endsWith('.wasm')) fetched.push(new URL(r.url()).pathname); });

    await context.setOffline(true);
    await page.goto(`${s.server.url}/child/${child.id}`);
    await page.getByRole('heading', { level: 1, name: `رضا پرونده-${RUN}` }).waitFor();
    assert.match(await page.locator('dl.facts').textContent(), new RegExp(child.registry_code));
    await page.getByRole('link', { name: FA.searchSubmit }).click();
    await page.getByLabel(FA.searchQuery).fill('رضا');
    await page.getByRole('button', { name: FA.searchSubmit, exact: true }).click();
    await page.locator(`.child-row[data-id="${child.id}"]`).waitFor();
    await h.screenshot(page, 'on-demand-offline');
    assert.ok(fetched.some((f) => f.startsWith('/split_child_view_')), `the profile's chunk was loaded: ${fetched}`);
    h.assertNoProblems(problems, /ERR_INTERNET_DISCONNECTED/);
  } finally {
    await context.setOffline(false);
    await context.close();
  }
});

test('bad input: an unusable iris image, an impossible age or position, no image to identify: a clear message and nothing queued', async () => {
  const { page, context, problems } = await h.newPhonePage(s.browser);
  const notAnEye = join(h.REPO_ROOT, 'assets', 'web', 'icon-192.png');
  try {
    await h.loginAsAdmin(page, s.server);
    const name = `نادرست-${RUN}`;
    // The position first: an impossible one is named at once.
    await page.getByText(FA.enterPosition).click();
    await page.getByLabel(FA.latitude).fill('۹۵');
    await page.getByLabel(FA.longitude).fill('51.4');
    await page.getByLabel(FA.latitude).press('Tab');
    await page.getByRole('alert').filter({ hasText: FA.badPosition }).waitFor();
    await page.getByRole('button', { name: FA.next, exact: true }).click();

    // The essentials: an impossible age keeps the worker on this step.
    await page.getByLabel(FA.givenName, { exact: true }).fill(name);
    await page.getByLabel(FA.age, { exact: true }).fill('۳۰');
    await page.getByRole('button', { name: FA.next, exact: true }).click();
    await page.getByRole('alert').filter({ hasText: FA.badAge }).waitFor();
    assert.ok(await page.getByLabel(FA.age, { exact: true }).isVisible(), 'still on the essentials');
    await page.getByLabel(FA.age, { exact: true }).fill('');
    await page.getByRole('button', { name: FA.next, exact: true }).click();

    // The eyes: an image that is not an eye is refused before anything is saved.
    await page.getByLabel(FA.irisLeft).setInputFiles(notAnEye);
    await page.getByRole('button', { name: FA.submit }).click();
    await page.getByRole('alert').filter({ hasText: FA.retake }).waitFor();

    assert.equal(await page.locator('.outbox-item').count(), 0, 'nothing was queued');
    assert.equal(await page.locator('#sync-status').getAttribute('data-pending'), '0');
    const found = (await api('GET', `/api/v1/children?q=${encodeURIComponent(name)}`)).body;
    assert.equal(found.items.filter((c) => c.given_name === name).length, 0, 'no record was made');

    await page.getByRole('link', { name: FA.searchSubmit }).click();
    await page.getByRole('button', { name: FA.identify }).click();
    await page.getByRole('alert').filter({ hasText: FA.irisPickOne }).waitFor();
    await page.getByLabel(FA.irisLeft).setInputFiles(notAnEye);
    await page.getByRole('button', { name: FA.identify }).click();
    await page.getByRole('alert').filter({ hasText: FA.retake }).waitFor();
    await h.screenshot(page, 'search-iris-retake');
    h.assertNoProblems(problems, /status of 422/);
  } finally {
    await context.close();
  }
});

test('server shuts down gracefully on SIGTERM (exit status 0)', async () => {
  const { code, signal } = await s.server.stop();
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `see ${s.server.logPath}`);
});
