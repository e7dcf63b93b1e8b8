// Real-browser tests of the notification settings and Web Push in the worker
// PWA (issues 18 and 20): the settings screen («تنظیمات اعلان‌ها», reached
// from the bottom bar and the inbox) saves muted kinds, quiet hours, Friday
// and the digest and reads them back after a reload; a critical kind cannot
// be muted; a bad phone shows the server's own error beside the field; push
// on this device says honestly when it cannot work (permission refused, or
// the browser's push service unreachable — headless Chromium's service is
// Google's, which this machine may not reach); and the service worker shows
// a push delivered through the DevTools protocol as a notification titled by
// its kind, in the user's language, opening its subject.
//
// What the UI saved is checked through the API.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as h from './helpers.mjs';

const PASSWORD = 'a long enough password 3';
const FA = {
  settings: 'تنظیمات',
  title: 'تنظیمات اعلان\u200cها',
  inbox: 'اعلان\u200cها',
  save: 'ذخیرهٔ تنظیمات',
  saved: 'تنظیمات ذخیره شد.',
  quiet: 'در این ساعت\u200cها اعلانی نفرست، جز موارد فوری',
  friday: 'جمعه\u200cها تمام روز سکوت',
  digest: 'روزی یک اعلان به\u200cجای یک اعلان برای هر مورد (موارد فوری همان لحظه)',
  phone: 'شمارهٔ تلفن همراه',
  phoneSave: 'ذخیرهٔ شماره',
  pushOn: 'روشن کردن اعلان فوری',
  fallback: 'اعلان\u200cهای درون برنامه و پیامک موارد فوری همچنان کار می\u200cکنند.',
  atRisk: 'کودکی در معرض خطر است',
};

const s = h.suite('notify-settings', {
  async setup(s) {
    for (const [username, role] of [['sup23', 'supervisor'], ['worker23', 'outreach_worker']]) {
      const res = await h.apiCreateUser(s.server, s.token, { username, password: PASSWORD, role, province: 'IR-23' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  },
});

async function api(method, path, token, body) {
  const res = await fetch(`${s.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Opens the settings from the bottom bar. */
async function openSettings(page) {
  await page.getByRole('navigation').getByRole('link', { name: FA.settings, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: FA.title }).waitFor();
}

const kindBox = (page, kind) => page.locator(`label[data-kind="${kind}"] input`);

test('settings are saved and read back after a reload; a critical kind cannot be muted', () =>
  h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'sup23', PASSWORD);
    // From the inbox too.
    await page.getByRole('navigation').getByRole('link', { name: new RegExp(FA.inbox) }).click();
    await page.getByRole('link', { name: FA.title }).click();
    await page.getByRole('heading', { level: 1, name: FA.title }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/settings');

    // Every kind the server knows, the critical one shown but not mutable.
    await kindBox(page, 'child_at_risk').waitFor();
    assert.equal(await page.locator('label[data-kind]').count(), 9);
    assert.equal(await kindBox(page, 'child_at_risk').isDisabled(), true);
    assert.equal(await kindBox(page, 'child_at_risk').isChecked(), false);
    await kindBox(page, 'child_at_risk').click({ force: true });
    assert.equal(await kindBox(page, 'child_at_risk').isChecked(), false);

    await kindBox(page, 'sighting_received').check();
    await kindBox(page, 'follow_up_due').check();
    await page.getByLabel(FA.quiet).check();
    await page.locator('#quiet-start').fill('22:30');
    await page.locator('#quiet-end').fill('06:15');
    await page.getByLabel(FA.friday).check();
    await page.getByLabel(FA.digest).check();
    await page.getByRole('button', { name: FA.save }).click();
    await page.getByText(FA.saved).waitFor();

    const sup = await h.apiLogin(s.server, 'sup23', PASSWORD);
    const stored = await api('GET', '/api/v1/notifications/preferences', sup);
    assert.deepEqual(stored.body, {
      muted_kinds: ['follow_up_due', 'sighting_received'],
      quiet_hours: { start: '22:30', end: '06:15' },
      quiet_friday: true,
      digest: true,
    });
    // The server refuses a critical kind whoever asks: the screen agrees.
    const refused = await api('PUT', '/api/v1/notifications/preferences', sup, { muted_kinds: ['child_at_risk'] });
    assert.equal(refused.status, 422);
    assert.ok(refused.body.errors.muted_kinds, JSON.stringify(refused.body));

    await page.reload();
    await page.getByRole('heading', { level: 1, name: FA.title }).waitFor();
    await kindBox(page, 'sighting_received').waitFor();
    assert.equal(await kindBox(page, 'sighting_received').isChecked(), true);
    assert.equal(await kindBox(page, 'follow_up_due').isChecked(), true);
    assert.equal(await kindBox(page, 'sighting_assigned').isChecked(), false);
    assert.equal(await kindBox(page, 'child_at_risk').isChecked(), false);
    assert.equal(await page.getByLabel(FA.quiet).isChecked(), true);
    assert.equal(await page.locator('#quiet-start').inputValue(), '22:30');
    assert.equal(await page.locator('#quiet-end').inputValue(), '06:15');
    assert.equal(await page.getByLabel(FA.friday).isChecked(), true);
    assert.equal(await page.getByLabel(FA.digest).isChecked(), true);
    await h.screenshot(page, 'notify-settings');

    // Quiet hours off again: the server keeps none.
    await page.getByLabel(FA.quiet).uncheck();
    await page.getByRole('button', { name: FA.save }).click();
    await page.getByText(FA.saved).waitFor();
    assert.equal((await api('GET', '/api/v1/notifications/preferences', sup)).body.quiet_hours, null);
    h.assertNoProblems(problems);
  }, { login: false }));

test('an outreach worker has no digest; a bad phone shows the server\'s error beside the field', () =>
  h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'worker23', PASSWORD);
    await openSettings(page);
    await kindBox(page, 'sighting_received').waitFor();
    assert.equal(await page.getByLabel(FA.digest).count(), 0);

    const phone = page.getByLabel(FA.phone, { exact: true });
    await phone.fill('12345');
    await page.getByRole('button', { name: FA.phoneSave }).click();
    const error = page.locator('#phone-error');
    await error.filter({ hasText: 'E.164' }).waitFor();
    assert.equal(await phone.getAttribute('aria-invalid'), 'true');
    assert.match(await phone.getAttribute('aria-describedby'), /phone-error/);
    // The message sits beside the field, inside its own block.
    assert.equal(await page.locator('.field').filter({ has: phone }).locator('#phone-error').count(), 1);
    await h.screenshot(page, 'notify-settings-bad-phone');

    // Typed with Persian digits, stored in E.164 (the server's answer shown).
    await phone.fill('۰۹۱۲۱۲۳۴۵۶۷');
    await page.getByRole('button', { name: FA.phoneSave }).click();
    await page.getByText('+989121234567').waitFor();
    assert.equal(await error.textContent(), '');
    assert.equal(await phone.getAttribute('aria-invalid'), 'false');
    // Console errors: Chromium logs the refused PUT (422) itself.
    h.assertNoProblems(problems, /status of 422/);
  }, { login: false }));

test('push refused by the user: the screen says so, and that the inbox and SMS still work', () =>
  h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, 'worker23', PASSWORD);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await openSettings(page);
    const status = page.locator('#push-status');
    await page.waitForFunction(() => document.querySelector('#push-status')?.dataset.state !== 'checking');
    // Headless Chromium answers a permission request with a refusal unless
    // the context granted it.
    if ((await status.getAttribute('data-state')) === 'off') {
      await page.getByRole('button', { name: FA.pushOn }).click();
      await page.waitForFunction(() => document.querySelector('#push-status')?.dataset.state !== 'off');
    }
    assert.equal(await status.getAttribute('data-state'), 'denied');
    await status.getByText(FA.fallback).waitFor();
    assert.equal(await page.getByRole('button', { name: FA.pushOn }).count(), 0);
    h.assertNoProblems(problems);
  }, { login: false }));

// On a real profile: in an incognito-like context (every other test's)
// Chromium refuses the Push API outright. Subscribing then asks the
// browser's push service, which for Chromium is Google's: reachable or not
// from here, the test checks what the screen says against what happened.
test('push allowed: subscribed on the server, or honestly unavailable when the push service cannot be reached', async () => {
  const { context, page, problems, remove } = await h.newProfilePhonePage();
  try {
    await context.grantPermissions(['notifications'], { origin: s.server.url });
    await h.loginAs(page, s.server, 'worker23', PASSWORD);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await openSettings(page);
    const status = page.locator('#push-status');
    await page.waitForFunction(() => document.querySelector('#push-status')?.dataset.state === 'off');
    await page.getByRole('button', { name: FA.pushOn }).click();
    await page.waitForFunction(() => !['off', 'checking'].includes(document.querySelector('#push-status')?.dataset.state), null, { timeout: 60_000 });
    const state = await status.getAttribute('data-state');
    const worker = await h.apiLogin(s.server, 'worker23', PASSWORD);
    if (state === 'on') {
      // The browser's subscription is the server's: posting it again is a
      // repeat (200), not a new one (201).
      const sub = await page.evaluate(async () => (await (await navigator.serviceWorker.ready).pushManager.getSubscription()).toJSON());
      const again = await api('POST', '/api/v1/push/subscriptions', worker, { endpoint: sub.endpoint, keys: sub.keys });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      // Logging out removes it on the server and in the browser.
      await page.getByRole('navigation').getByRole('link', { name: 'خانه' }).click();
      await page.getByRole('button', { name: 'خروج از حساب' }).click();
      await page.getByLabel('نام کاربری', { exact: true }).waitFor();
      assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.ready).pushManager.getSubscription()), null);
      const gone = await api('DELETE', '/api/v1/push/subscriptions', worker, { endpoint: sub.endpoint });
      assert.equal(gone.status, 404, JSON.stringify(gone.body));
    } else {
      // No push service here: said as such, with what still works, and no
      // subscription left behind in the browser.
      assert.equal(state, 'unreachable');
      await status.getByText(FA.fallback).waitFor();
      assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.ready).pushManager.getSubscription()), null);
      // The button offers another try.
      await page.getByRole('button', { name: FA.pushOn }).waitFor();
    }
    await h.screenshot(page, `notify-settings-push-${state}`);
    h.assertNoProblems(problems);
  } finally {
    await context.close();
    remove();
  }
});

/** Delivers `payload` to the app's service worker as a push (DevTools protocol). */
async function deliverPush(context, page, payload) {
  const cdp = await context.newCDPSession(page);
  const registrations = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: r }) => registrations.push(...r));
  await cdp.send('ServiceWorker.enable');
  const deadline = Date.now() + 10_000;
  let reg;
  while (!(reg = registrations.find((r) => r.scopeURL === `${s.server.url}/` && !r.isDeleted)) && Date.now() < deadline) {
    await page.waitForTimeout(50); // the protocol's events arrive on their own
  }
  assert.ok(reg, JSON.stringify(registrations));
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: s.server.url,
    registrationId: reg.registrationId,
    data: JSON.stringify(payload),
  });
  await cdp.detach();
}

/**
 * The notifications the app's worker shows, once one with each of `tags`
 * is shown (polled from here: each push is handled in its own event, so the
 * last of several may still be on its way).
 */
async function notifications(page, tags) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const shown = await page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((x) => ({
        title: x.title,
        tag: x.tag,
        lang: x.lang,
        dir: x.dir,
        body: x.body,
        requireInteraction: x.requireInteraction,
        data: x.data,
      })),
    );
    if (tags.every((t) => shown.some((x) => x.tag === t)) || Date.now() > deadline) return shown;
    await page.waitForTimeout(100);
  }
}

test('the service worker shows a push as a notification titled by its kind, in the user\'s language', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await context.grantPermissions(['notifications'], { origin: s.server.url });
    await h.loginAs(page, s.server, 'worker23', PASSWORD);
    await page.evaluate(() => navigator.serviceWorker.ready);
    // The settings screen gives the worker the kinds' labels.
    await openSettings(page);
    await kindBox(page, 'child_at_risk').waitFor();

    const child = randomUUID();
    await deliverPush(context, page, {
      notification_id: 41,
      kind: 'child_at_risk',
      critical: true,
      subject_type: 'child',
      subject_id: child,
    });
    const atRisk = (await notifications(page, [`kudakyar-child-${child}`])).find((x) => x.tag === `kudakyar-child-${child}`);
    assert.deepEqual(atRisk, {
      title: FA.atRisk,
      tag: `kudakyar-child-${child}`,
      lang: 'fa',
      dir: 'rtl',
      body: '',
      requireInteraction: true,
      data: { url: `/child/${child}`, notification_id: 41 },
    });

    // In English once the user switched: the page tells the worker.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Notification settings' }).waitFor();
    const report = randomUUID();
    await deliverPush(context, page, {
      notification_id: 42,
      kind: 'sighting_assigned',
      critical: false,
      subject_type: 'sighting',
      subject_id: report,
    });
    await deliverPush(context, page, {
      notification_id: 43,
      kind: 'digest',
      critical: false,
      subject_type: 'sighting',
      subject_id: report,
      digest_count: 3,
    });
    const shown = await notifications(page, [`kudakyar-sighting-${report}`, 'kudakyar-digest']);
    const byTag = Object.fromEntries(shown.map((x) => [x.tag, x]));
    assert.equal(byTag[`kudakyar-sighting-${report}`]?.title, 'A report was assigned to you', JSON.stringify(shown));
    assert.equal(byTag[`kudakyar-sighting-${report}`].data.url, `/triage/${report}`);
    assert.equal(byTag[`kudakyar-sighting-${report}`].requireInteraction, false);
    assert.equal(byTag['kudakyar-digest']?.title, '3 new notifications', JSON.stringify(shown));
    assert.equal(byTag['kudakyar-digest'].data.url, '/inbox');
    // Nothing about a child: only the kind's words and the subject's id.
    assert.ok(shown.every((x) => !/\d{10}|IR-/.test(x.title + x.body)), JSON.stringify(shown));
    h.assertNoProblems(problems);
  }, { login: false }));
