// Real-browser tests of the PWA shell (issue 2's login page, the base of
// issue 6's outreach app): Debian Chromium on a 360×640 touch phone in fa-IR,
// against the real `kudakyar` server and the real PWA build.
//
// Covers what only a browser shows: the Persian RTL page boots its wasm under
// the server's strict CSP with no console errors, also from a deep link; a
// wrong password gets the Persian message; the admin logs in, stays logged
// in across a reload and logs out (the token is then refused by the API); a
// provincial_staff user created through the API sees their role and
// province. Each state is screenshotted to tests/artifacts/browser/ for a
// person to look at.
//
// The tests share one server and run in order (node's runner runs the tests
// of a file one after another); each uses its own browser context, so its own
// empty localStorage. The last test stops the server and checks it exits 0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './helpers.mjs';

// The UI's texts (mobile-web/src/i18n/fa.rs, api/src/users.rs). U+200C is the
// zero-width non-joiner of «کودک‌یار».
const FA = {
  appName: 'کودک\u200cیار',
  loginTitle: 'ورود به کودک\u200cیار',
  username: 'نام کاربری',
  password: 'گذرواژه',
  login: 'ورود',
  wrongCredentials: 'نام کاربری یا گذرواژه نادرست است',
  homeTitle: 'خوش آمدید',
  logout: 'خروج از حساب',
  loggedOut: 'از حساب خود خارج شدید.',
  name: 'نام',
  role: 'نقش',
  province: 'استان',
  nationalAdmin: 'مدیر کشوری',
  provincialStaff: 'کارشناس استان',
  wholeCountry: 'سراسر کشور',
  tehran: 'تهران',
};
const SESSION_KEY = 'kudakyar.session.v1';

const s = h.suite('shell');

/** Opens the app and waits until the wasm has mounted the login form. */
async function openLogin(page) {
  const response = await page.goto(s.server.url);
  await loginHeading(page).waitFor();
  return response;
}

const loginHeading = (page) => page.getByRole('heading', { level: 1, name: FA.loginTitle });
const homeHeading = (page) => page.getByRole('heading', { level: 1, name: FA.homeTitle });
const usernameInput = (page) => page.getByLabel(FA.username, { exact: true });
const passwordInput = (page) => page.getByLabel(FA.password, { exact: true });

async function submitLogin(page, username, password) {
  await usernameInput(page).fill(username);
  await passwordInput(page).fill(password);
  await page.getByRole('button', { name: FA.login, exact: true }).click();
}

const storedSession = (page) => page.evaluate((key) => JSON.parse(localStorage.getItem(key)), SESSION_KEY);

test('login page: Persian, right-to-left, labelled, no console errors or CSP violations', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    const response = await openLogin(page);
    // A CSP must be in force, or «no violations» would prove nothing.
    const csp = response.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);

    const html = page.locator('html');
    assert.equal(await html.getAttribute('lang'), 'fa');
    assert.equal(await html.getAttribute('dir'), 'rtl');
    assert.equal(await page.locator('#splash').count(), 0, 'the loading splash is gone once the wasm runs');
    assert.match(await loginHeading(page).textContent(), new RegExp(FA.appName));
    assert.equal(await page.getByText(FA.appName, { exact: true }).count(), 1, 'the header names the app');

    assert.equal(await usernameInput(page).getAttribute('autocomplete'), 'username');
    assert.equal(await passwordInput(page).getAttribute('type'), 'password');
    assert.equal(await passwordInput(page).getAttribute('autocomplete'), 'current-password');
    assert.ok(await page.getByRole('button', { name: FA.login, exact: true }).isEnabled());

    // Usable on a 360 px phone: nothing pushes the page sideways.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `page is ${width} px wide on a 360 px screen`);

    await h.screenshot(page, 'login');
    assert.deepEqual(problems, []);
  }, { login: false }));

test('a deep link loads the app too (the server answers unknown paths with index.html)', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    const response = await page.goto(`${s.server.url}/children/some/deep/link`);
    assert.equal(response.status(), 200);
    await loginHeading(page).waitFor();
    assert.deepEqual(problems, []);
  }, { login: false }));

test('wrong password: the Persian error is shown and nothing is stored', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await openLogin(page);
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
    await submitLogin(page, 'admin', 'not-the-password');
    assert.equal((await answer).status(), 401);

    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), FA.wrongCredentials);
    assert.equal(await usernameInput(page).getAttribute('aria-invalid'), 'true');
    assert.equal(await passwordInput(page).getAttribute('aria-invalid'), 'true');
    assert.ok(await loginHeading(page).isVisible(), 'still on the login page');
    assert.equal(await storedSession(page), null);

    await h.screenshot(page, 'login-wrong-password');
    // Chromium logs every failed request; the refused login is the expected one.
    h.assertNoProblems(problems, (p) => /status of 401/.test(p) && p.endsWith('/api/v1/auth/login'));
  }, { login: false }));

test('admin: logs in, stays logged in across a reload, logs out and the token is revoked', () =>
  h.withPhone(s, async ({ context, page, problems }) => {
    await openLogin(page);
    await submitLogin(page, 'admin', h.ADMIN_PASSWORD);
    await homeHeading(page).waitFor();
    const adminCard = {
      [FA.name]: 'مدیر سامانه',
      [FA.username]: 'admin',
      [FA.role]: FA.nationalAdmin,
      [FA.province]: FA.wholeCountry,
    };
    assert.deepEqual(await h.userCard(page), adminCard);
    const stored = await storedSession(page);
    assert.equal(typeof stored?.token, 'string', 'the token is kept in localStorage');
    assert.equal(stored.user?.username, 'admin');
    const me = await h.apiMe(s.server, stored.token);
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'admin');
    await h.screenshot(page, 'home-admin');

    // Reload: the stored session is shown and re-checked with the server.
    const recheck = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/me'));
    await page.reload();
    await homeHeading(page).waitFor();
    assert.equal((await recheck).status(), 200);
    assert.deepEqual(await h.userCard(page), adminCard);
    assert.ok(!(await loginHeading(page).isVisible()));
    await h.screenshot(page, 'home-admin-reloaded');

    // Logout: back to the login form, storage cleared, token dead on the server.
    await page.getByRole('button', { name: FA.logout }).click();
    await loginHeading(page).waitFor();
    await page.getByText(FA.loggedOut).waitFor();
    assert.equal(await storedSession(page), null);
    assert.equal((await h.apiMe(s.server, stored.token)).status, 401, 'the logged-out token is refused');
    await h.screenshot(page, 'logged-out');

    assert.deepEqual(problems, []);
  }, { login: false }));

test('provincial staff created through the API sees their role and province', async () => {
  const adminToken = await h.apiLogin(s.server, 'admin', h.ADMIN_PASSWORD);
  const user = { username: 'tehran.staff', password: 'tehran-staff-pw-1', role: 'provincial_staff', province: 'IR-23' };
  const created = await h.apiCreateUser(s.server, adminToken, user);
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const { context, page, problems } = await h.newPhonePage(s.browser);
  try {
    await openLogin(page);
    await submitLogin(page, user.username, user.password);
    await homeHeading(page).waitFor();
    assert.deepEqual(await h.userCard(page), {
      [FA.name]: user.username, // no display name: the username stands in
      [FA.username]: user.username,
      [FA.role]: FA.provincialStaff,
      [FA.province]: FA.tehran,
    });
    await h.screenshot(page, 'home-provincial-staff');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('server shuts down gracefully on SIGTERM (exit status 0)', async () => {
  const { code, signal } = await s.server.stop();
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `see ${s.server.logPath}`);
});
