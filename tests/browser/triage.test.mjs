// Real-browser tests of the supervisors' screens in the worker PWA (issue 20):
// the bottom navigation follows the role, a county supervisor triages
// citizens' reports (list, filters, a report's facts, assign to a worker of
// the county, close as a false report), and the team screen, all on a
// 360×640 phone in Persian, then English. These screens are loaded on demand
// with their texts (mobile-web/src/i18n/later.rs).
//
// Seeded through the API as in life: the admin creates two Tehran counties'
// centres (reports are placed in the county of the nearest centre before
// boundaries are imported) and the users; citizens post reports without an
// account. Every decision taken in the UI is checked through the API.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as h from './helpers.mjs';

const FA = {
  home: 'خانه',
  search: 'جستجو',
  triage: 'گزارش\u200cها',
  team: 'تیم',
  triageTitle: 'گزارش\u200cهای رسیده',
  teamTitle: 'تیم',
  teamEmpty: 'هنوز آماری برای تیم محاسبه نشده است.',
  state: 'وضعیت',
  source: 'منبع گزارش',
  show: 'نمایش',
  assignTo: 'مددکار یا سرپرست',
  assign: 'واگذاری',
  assigned: 'گزارش واگذار شد.',
  closeFalse: 'بستن: نادرست',
  closed: 'گزارش بسته شد.',
  back: 'بازگشت به فهرست',
  registerTitle: 'ثبت کودک',
  citizenReport: 'گزارش مردمی',
  inbox: 'اعلان\u200cها',
  settings: 'تنظیمات',
  assignedToYou: 'گزارشی به شما واگذار شد',
  tasks: 'کارها',
  tasksTitle: 'کارهای من',
  visitFound: 'کودک پیدا شد',
  visitDone: 'بازدید ثبت شد.',
  registryCode: 'کد ثبت',
  link: 'پیوند',
  linkDone: 'گزارش به پرونده پیوند خورد.',
  toCentres: 'مراکز خدمات و ظرفیت آن\u200cها',
  centresTitle: 'بار مراکز خدمات',
  joinWith: 'پیوستن رخدادی دیگر به این رخداد',
  join: 'پیوستن',
  joined: 'دو رخداد یکی شد.',
  split: 'جدا کردن این گزارش در رخدادی تازه',
  splitDone: 'گزارش در رخدادی تازه جدا شد.',
  call: 'ثبت تماس',
  callTitle: 'ثبت تماس ۱۲۳',
  callPlace: 'محل (مختصات یا پیوند نقشه)',
  callSubmit: 'ثبت گزارش تماس',
  callBadPlace: 'محل خوانده نشد: مختصات یا پیوند نقشه را وارد کنید.',
  children: 'تعداد کودکان',
  callDescription: 'شرح',
  callPhone: 'تلفن تماس\u200cگیرنده (اختیاری)',
  callNeedsConsent: 'برای نگه\u200cداشتن تلفن، موافقت تماس\u200cگیرنده لازم است.',
  callConsent: 'تماس\u200cگیرنده موافق است که با او تماس گرفته شود',
  callQueued: 'گزارش در صف ارسال ذخیره شد و به صف رسیدگی شهرستان می\u200cرود.',
};
const PASSWORD = 'a long enough password 1';
/** A junction in Tehran (county 2301) and a place in county 2302. */
const JUNCTION = [35.7009, 51.3912];
const ELSEWHERE = [35.95, 51.6];
const DESCRIPTION = 'پسری سر چهارراه گل می\u200cفروشد';

const people = {};
const reports = {};
let child; // a registered child of county 2301, whom the first report was about

const s = h.suite('triage', {
  async setup(s) {
    const post = async (path, body, token = s.token) => {
      const res = await fetch(`${s.server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      const json = await res.json();
      assert.ok(res.status === 200 || res.status === 201, `POST ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    for (const [name, [lat, lng], county] of [['مرکز مولوی', JUNCTION, '2301'], ['مرکز شمیرانات', ELSEWHERE, '2302']]) {
      await post('/api/v1/centres', { name, lat, lng, province: 'IR-23', county });
    }
    for (const [username, role, county, display_name] of [
      ['sup2301', 'supervisor', '2301', 'سرپرست مولوی'],
      ['worker2301', 'outreach_worker', '2301', 'مریم مددکار'],
      ['worker2302', 'outreach_worker', '2302', 'مددکار شمیرانات'],
      ['hotline23', 'hotline_operator', '2301', null],
    ]) {
      const user = await post('/api/v1/users', { username, password: PASSWORD, role, province: 'IR-23', county, display_name });
      people[username] = user;
    }
    // Two citizens' reports at the junction (one with a phone), one elsewhere.
    const report = (at, extra = {}) =>
      post('/api/v1/sightings', { id: randomUUID(), lat: at[0], lng: at[1], children_count: 2, age_bands: ['6-11'], activity: 'selling_flowers_or_poems', description: DESCRIPTION, ...extra }, null);
    reports.first = await report(JUNCTION);
    reports.second = await report([JUNCTION[0] + 0.02, JUNCTION[1]], { reporter_phone: '09121234567', phone_consent: true });
    reports.elsewhere = await report(ELSEWHERE);
    child = await post('/api/v1/children', { id: randomUUID(), given_name: 'علی', sex: 'male', nationality: 'afghan', home_province: 'IR-23', home_county: '2301' }, s.token);
  },
});

const get = async (path, token = s.token) => {
  const res = await fetch(`${s.server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
};

/** The labels of the bottom navigation bar (without the inbox's count). */
const sections = (page) =>
  page.getByRole('navigation').getByRole('link').evaluateAll((links) => links.map((a) => a.firstChild.textContent.trim()));

test('the bottom navigation follows the role', async () => {
  await h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'worker2301', PASSWORD);
    assert.deepEqual(await sections(page), [FA.home, FA.tasks, FA.search, FA.inbox, FA.settings]);
    await page.getByRole('heading', { name: FA.registerTitle }).waitFor();
    // Within one thumb's reach: at the bottom of the 640 px screen, 48 px high.
    const box = await page.getByRole('navigation').boundingBox();
    assert.ok(box.y + box.height >= 639 && box.height >= 47, JSON.stringify(box));
    await h.screenshot(page, 'triage-nav-worker');
    h.assertNoProblems(problems);
  }, { login: false });
  await h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'hotline23', PASSWORD);
    assert.deepEqual(await sections(page), [FA.call, FA.triage, FA.inbox, FA.home, FA.settings]);
    // A 123 operator reaches no child record: no registration form.
    assert.equal(await page.getByRole('heading', { name: FA.registerTitle }).count(), 0);
    // The queue is theirs to read, without the supervisor's buttons.
    await page.getByRole('navigation').getByRole('link', { name: FA.triage }).click();
    await page.getByRole('heading', { level: 1, name: FA.triageTitle }).waitFor();
    await page.locator(`li[data-id="${reports.first.id}"] a`).click();
    await page.getByText(DESCRIPTION).waitFor();
    assert.equal(await page.getByRole('button', { name: FA.assign }).count(), 0);
    h.assertNoProblems(problems);
  }, { login: false });
});

test('a county supervisor assigns a report; the worker is told at once and opens it', () =>
  h.withPhone(s, async (worker) => {
    // The worker has the app open before anything is assigned.
    await h.loginAs(worker.page, s.server, 'worker2301', PASSWORD);
    assert.equal(await worker.page.locator('nav .badge').count(), 0);
    await superviseAndAssign();
    // Told without a reload: the badge counts the new notification …
    await worker.page.waitForFunction(() => document.querySelector('nav .badge')?.dataset.unread === '1', null, { timeout: 30_000 });
    await worker.page.getByRole('navigation').getByRole('link', { name: new RegExp(FA.inbox) }).click();
    await h.screenshot(worker.page, 'triage-worker-inbox');
    // … which opens the report assigned (no supervisor's buttons).
    await worker.page.getByRole('button', { name: new RegExp(FA.assignedToYou) }).click();
    await worker.page.waitForURL(`**/triage/${reports.first.id}`);
    await worker.page.getByText(DESCRIPTION).waitFor();
    assert.equal(await worker.page.getByRole('button', { name: FA.assign }).count(), 0);
    await worker.page.waitForFunction(() => !document.querySelector('nav .badge'));
    // The report is among the worker's tasks; from there: the visit, then
    // the child found, linked by registry code.
    await worker.page.getByRole('navigation').getByRole('link', { name: FA.tasks }).click();
    await worker.page.getByRole('heading', { level: 1, name: FA.tasksTitle }).waitFor();
    const task = worker.page.locator(`ul[data-kind="report"] li[data-id="${reports.first.id}"] a`);
    await task.click();
    await worker.page.waitForURL(`**/triage/${reports.first.id}`);
    await worker.page.getByRole('button', { name: FA.visitFound }).click();
    await worker.page.getByText(FA.visitDone).waitFor();
    await worker.page.getByLabel(FA.registryCode).fill(child.registry_code);
    await worker.page.getByRole('button', { name: FA.link, exact: true }).click();
    await worker.page.getByText(FA.linkDone).waitFor();
    await h.screenshot(worker.page, 'triage-worker-linked');
    const linked = await get(`/api/v1/sightings/${reports.first.id}`);
    assert.equal(linked.state, 'linked');
    assert.equal(linked.visit_outcome, 'found');
    assert.deepEqual(linked.linked_children, [child.id]);
    // Done: no longer a task.
    await worker.page.getByRole('navigation').getByRole('link', { name: FA.tasks }).click();
    await worker.page.getByRole('heading', { level: 1, name: FA.tasksTitle }).waitFor();
    await worker.page.getByText('کاری برای این هفته نیست.').waitFor();
    h.assertNoProblems(worker.problems);
  }, { login: false }));

/** The supervisor's part: the queue, its filters, assign one report, close another. */
const superviseAndAssign = () =>
  h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'sup2301', PASSWORD);
    assert.deepEqual(await sections(page), [FA.home, FA.tasks, FA.search, FA.triage, FA.team, FA.inbox, FA.settings]);
    // Seven sections still fit the 360 px phone: the bar does not overflow.
    const bar = await page.getByRole('navigation').evaluate((nav) => [nav.scrollWidth, nav.clientWidth]);
    assert.ok(bar[0] <= bar[1], JSON.stringify(bar));
    // Told of the county's two citizens' reports.
    await page.waitForFunction(() => document.querySelector('nav .badge')?.dataset.unread === '2', null, { timeout: 30_000 });
    await page.getByRole('navigation').getByRole('link', { name: FA.triage }).click();
    await page.getByRole('heading', { level: 1, name: FA.triageTitle }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/triage');
    // Their county's two reports, newest first; not the other county's.
    const rows = page.locator('li.report-row');
    await rows.first().waitFor();
    assert.deepEqual(await rows.evaluateAll((li) => li.map((l) => l.dataset.id)), [reports.second.id, reports.first.id]);
    // The same two on the map, each a dot where it was seen.
    const dots = page.locator('#triage-map path.triage-report');
    await page.locator('#triage-map.leaflet-container').waitFor();
    await h.screenshot(page, 'triage-map');
    await dots.nth(1).waitFor();
    assert.deepEqual((await dots.evaluateAll((p) => p.map((d) => d.dataset.id))).sort(), [reports.first.id, reports.second.id].sort());
    const current = page.getByRole('navigation').getByRole('link', { name: FA.triage, exact: true });
    assert.equal(await current.getAttribute('aria-current'), 'page');
    // Filters: new citizens' reports (both), then assigned ones (none yet).
    await page.getByLabel(FA.source).selectOption('citizen');
    await page.getByLabel(FA.state).selectOption('assigned');
    await page.getByRole('button', { name: FA.show }).click();
    await page.getByText('گزارشی با این شرایط نیست.').waitFor();
    await page.getByLabel(FA.state).selectOption('new');
    await page.getByRole('button', { name: FA.show }).click();
    await rows.nth(1).waitFor();
    await h.screenshot(page, 'triage-list');

    // The first report: its facts, then assign it to the county's worker.
    await page.locator(`li[data-id="${reports.first.id}"] a`).click();
    assert.equal(new URL(page.url()).pathname, `/triage/${reports.first.id}`);
    await page.getByText(DESCRIPTION).waitFor();
    await page.getByText(reports.first.receipt_code).waitFor();
    assert.equal(await page.locator('a[href^="geo:35.70"]').count(), 1);
    // Its incident: the second report's (2 km off) joined into it, then this
    // report split off into one of its own again.
    const incidentOf = async (id) => (await get(`/api/v1/sightings/${id}`)).incident_id;
    await page.getByLabel(FA.joinWith).selectOption(await incidentOf(reports.second.id));
    await page.getByRole('button', { name: FA.join, exact: true }).click();
    await page.getByText(FA.joined).waitFor();
    const joined = await get(`/api/v1/incidents/${await incidentOf(reports.first.id)}`);
    assert.deepEqual([...joined.sighting_ids].sort(), [reports.first.id, reports.second.id].sort());
    // The count under the incident's title (the list of others to join has counts too).
    await page.locator('p[data-reports="2"]').waitFor();
    await h.screenshot(page, 'triage-incident-joined');
    await page.getByRole('button', { name: FA.split }).click();
    await page.getByText(FA.splitDone).waitFor();
    assert.notEqual(await incidentOf(reports.first.id), await incidentOf(reports.second.id));
    await page.locator('p[data-reports="1"]').waitFor();
    assert.equal(await page.locator('p[data-reports="1"]').textContent(), '۱ گزارش در این رخداد');
    const options = await page.getByLabel(FA.assignTo).locator('option').allTextContents();
    assert.ok(options.some((o) => o.includes('مریم مددکار')), options.join(' | '));
    assert.ok(!options.some((o) => o.includes('شمیرانات')), 'another county\'s worker is not offered');
    await page.getByLabel(FA.assignTo).selectOption(people.worker2301.id);
    await page.getByLabel('یادداشت (اختیاری)').fill('امشب سر بزنید');
    await page.getByRole('button', { name: FA.assign }).click();
    await page.getByText(FA.assigned).waitFor();
    await h.screenshot(page, 'triage-report-assigned');
    const first = await get(`/api/v1/sightings/${reports.first.id}`);
    assert.equal(first.state, 'assigned');
    assert.equal(first.assigned_to, people.worker2301.id);
    assert.equal(first.history.at(-1).note, 'امشب سر بزنید');
    // The worker has the report among theirs.
    const workerToken = await h.apiLogin(s.server, 'worker2301', PASSWORD);
    const theirs = await get('/api/v1/sightings', workerToken);
    assert.deepEqual(theirs.items.map((r) => r.id), [reports.first.id]);

    // The second: closed as a false report; no more buttons after that.
    await page.getByRole('link', { name: FA.back }).click();
    await page.locator(`li[data-id="${reports.second.id}"] a`).click();
    await page.getByRole('link', { name: '09121234567' }).waitFor();
    await page.getByRole('button', { name: FA.closeFalse }).click();
    await page.getByText(FA.closed).waitFor();
    assert.equal(await page.getByRole('button', { name: FA.assign }).count(), 0);
    assert.equal((await get(`/api/v1/sightings/${reports.second.id}`)).state, 'false_report');
    h.assertNoProblems(problems);
  }, { login: false });

test('the team screen, and the deferred screens in English', () =>
  h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'sup2301', PASSWORD);
    await page.getByRole('navigation').getByRole('link', { name: FA.team }).click();
    await page.getByRole('heading', { level: 1, name: FA.teamTitle }).waitFor();
    // A fresh server: no figures yet (said so, not an empty table), or the
    // day computed at start-up, where a worker's open cases (fewer than 5)
    // show as suppressed, never as 0.
    await page.locator('table.team, p[role="status"]').first().waitFor();
    if (await page.locator('table.team').count()) {
      const row = page.locator('tr[data-worker="worker2301"] td').first();
      assert.equal((await row.textContent()).trim(), 'کمتر از ۵ (پنهان)');
      // Overdue follow-ups: none, which is under 5 too.
      const overdue = page.locator('tr[data-worker="worker2301"] td.overdue');
      assert.equal((await overdue.textContent()).trim(), 'کمتر از ۵ (پنهان)');
    } else {
      await page.getByText(FA.teamEmpty).waitFor();
    }
    await h.screenshot(page, 'triage-team');
    // The centres of the area, their open files against capacity.
    await page.getByRole('link', { name: FA.toCentres }).click();
    await page.getByRole('heading', { level: 1, name: FA.centresTitle }).waitFor();
    const centres = await get('/api/v1/centres', await h.apiLogin(s.server, 'sup2301', PASSWORD));
    const shown = page.locator('.centres-load li');
    await shown.first().waitFor();
    assert.equal(await shown.count(), centres.length);
    for (const c of centres) {
      const meter = page.locator(`.centres-load li[data-id="${c.id}"] meter`);
      assert.equal(Number(await meter.getAttribute('value')), c.open_files);
      assert.equal(Number(await meter.getAttribute('max')), c.capacity);
    }
    const here = page.getByRole('navigation').getByRole('link', { name: FA.team, exact: true });
    assert.equal(await here.getAttribute('aria-current'), 'page');
    await h.screenshot(page, 'triage-centres');
    await page.getByRole('navigation').getByRole('link', { name: FA.team }).click();
    await page.getByRole('heading', { level: 1, name: FA.teamTitle }).waitFor();
    // English: the deferred texts' other column, after the reload the switch makes.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    await page.getByText('Citizen report · False report').waitFor();
    await h.screenshot(page, 'triage-list-en');
    h.assertNoProblems(problems);
  }, { login: false }));

test('a 123 operator records a call; it lands in the county\'s queue as a hotline report', () =>
  h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'hotline23', PASSWORD);
    await page.getByRole('navigation').getByRole('link', { name: FA.call }).click();
    await page.getByRole('heading', { level: 1, name: FA.callTitle }).waitFor();
    // A place that cannot be read is named, nothing queued.
    await page.getByLabel(FA.callPlace).fill('near the bazaar');
    await page.getByRole('button', { name: FA.callSubmit }).click();
    await page.getByText(FA.callBadPlace).waitFor();
    // The link a caller shared, in Persian digits.
    await page.getByLabel(FA.callPlace).fill('geo:۳۵٫۷۰۱۲,۵۱٫۳۹۱۵');
    await page.getByLabel(FA.children).fill('۳');
    await page.getByLabel(FA.callDescription).fill('سه کودک فال می\u200cفروشند');
    await page.getByLabel(FA.callPhone).fill('09120000000');
    await page.getByRole('button', { name: FA.callSubmit }).click();
    await page.getByText(FA.callNeedsConsent).waitFor();
    await page.getByLabel(FA.callConsent).check();
    await page.getByRole('button', { name: FA.callSubmit }).click();
    await page.getByText(FA.callQueued).waitFor();
    await h.screenshot(page, 'hotline-call');
    const supervisor = await h.apiLogin(s.server, 'sup2301', PASSWORD);
    const deadline = Date.now() + 30_000;
    let call;
    while (!call && Date.now() < deadline) {
      const list = await get('/api/v1/sightings?source=hotline', supervisor);
      call = list.items.find((r) => r.description === 'سه کودک فال می\u200cفروشند');
      if (!call) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(call, 'the call reached the county supervisor\'s queue');
    assert.equal(call.source, 'hotline');
    assert.equal(call.county, '2301');
    assert.equal(call.children_count, 3);
    assert.equal(call.reporter_phone, '09120000000');
    assert.ok(Math.abs(call.lat - 35.7012) < 1e-9 && Math.abs(call.lng - 51.3915) < 1e-9);
    h.assertNoProblems(problems);
  }, { login: false }));
