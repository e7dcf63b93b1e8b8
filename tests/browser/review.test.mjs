// Real-browser test of duplicate review in the worker PWA (issue 20): a
// worker registers a child, then the same eyes again as «a different child»;
// the server opens a review, and the province's supervisor decides it from
// the phone — both records side by side, «same child» — after which one
// record is left and its profile opens. Seeded through the API with
// synthetic eyes from the server binary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as h from './helpers.mjs';

const PASSWORD = 'a long enough password 2';
const FA = {
  triage: 'گزارش\u200cها',
  reviews: 'بررسی پرونده\u200cهای تکراری',
  sameChild: 'یک کودک است (ادغام)',
  merged: 'دو پرونده ادغام شد.',
  openMerged: 'پروندهٔ ادغام\u200cشده',
  older: 'پروندهٔ قدیمی\u200cتر',
  newer: 'پروندهٔ تازه\u200cتر',
};
const records = {};

/** Registers a child with one left-eye capture as `token`; the answer. */
async function register(s, token, given, capture, decision) {
  const form = new FormData();
  const id = randomUUID();
  form.append('child', JSON.stringify({ id, given_name: given, sex: 'male', nationality: 'afghan', home_province: 'IR-23' }));
  if (decision) form.append('decision', decision);
  form.append('left', new Blob([readFileSync(capture)], { type: 'image/png' }), 'left.png');
  const res = await fetch(`${s.server.url}/api/v1/registrations`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

const s = h.suite('review', {
  iris: { seed: 11 },
  async setup(s) {
    for (const [username, role] of [['worker23', 'outreach_worker'], ['sup23', 'supervisor']]) {
      const res = await h.apiCreateUser(s.server, s.token, { username, password: PASSWORD, role, province: 'IR-23' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const worker = await h.apiLogin(s.server, 'worker23', PASSWORD);
    records.first = (await register(s, worker, 'رضا', s.iris[0])).child;
    const second = await register(s, worker, 'رضا دوم', s.iris[1], 'new_child');
    assert.equal(second.reviews_opened, 1, JSON.stringify(second.matches));
    records.second = second.child;
  },
});

test('a supervisor decides a duplicate review as «same child»: one record remains', () =>
  h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'sup23', PASSWORD);
    await page.getByRole('navigation').getByRole('link', { name: FA.triage }).click();
    await page.getByRole('link', { name: FA.reviews }).click();
    await page.getByRole('heading', { level: 1, name: FA.reviews }).waitFor();
    const rows = page.locator('li.report-row');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    await rows.first().getByRole('link').click();
    // Both records side by side: the newer registration and the older one.
    const newer = page.locator(`.side[data-child="${records.second.id}"]`);
    const older = page.locator(`.side[data-child="${records.first.id}"]`);
    await newer.getByText(records.second.registry_code).waitFor();
    await older.getByText(records.first.registry_code).waitFor();
    assert.equal(await newer.getByRole('heading', { name: FA.newer }).count(), 1);
    assert.equal(await older.getByRole('heading', { name: FA.older }).count(), 1);
    await h.screenshot(page, 'review-side-by-side');
    await page.getByRole('button', { name: FA.sameChild }).click();
    await page.getByText(FA.merged).waitFor();
    // One record left, the older; its profile opens from here.
    const children = await h.apiGetAll(s.server, s.token, '/api/v1/children');
    const ids = children.map((c) => c.id).filter((id) => id === records.first.id || id === records.second.id);
    assert.deepEqual(ids, [records.first.id]);
    await page.getByRole('link', { name: FA.openMerged }).click();
    await page.waitForURL(`**/child/${records.first.id}`);
    await page.getByText(records.first.registry_code).first().waitFor();
    const open = await fetch(`${s.server.url}/api/v1/iris/reviews`, { headers: { authorization: `Bearer ${s.token}` } });
    assert.deepEqual(await open.json(), [], 'no review left open');
    h.assertNoProblems(problems);
  }, { login: false }));
