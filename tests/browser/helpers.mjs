// Shared pieces of the real-browser tests of the Kudakyar PWA shell: the real
// `kudakyar` server on a free local port with a throwaway SQLite data dir,
// Debian's Chromium driven by playwright-core on a phone-sized page, a
// collector of console errors and CSP violations, and small API calls made
// from Node to check what the UI did (e.g. that a logged-out token is refused).
// `suite` is the per-file fixture (server, browser, admin token, synthetic
// eyes) and `withPhone` the per-test page, so that a test file holds only
// what it checks. Test files import this module whole (`import * as h`).
//
// Why the real binary and the real PWA build: these tests exist to catch what
// unit tests cannot, such as the CSP blocking the wasm, the server's static
// file fallback, or the session surviving a reload. `cargo xtask test` builds
// both and points at them with KUDAKYAR_BIN and KUDAKYAR_WEB_DIST; run by hand,
// the default debug build and mobile-web/dist are used.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = join(REPO_ROOT, 'tests', 'artifacts', 'browser');
export const CHROMIUM = '/usr/bin/chromium';
export const ADMIN_PASSWORD = 'browser-test-admin-pw-1';

const HEALTH_TIMEOUT_MS = 30_000;

/** The server binary and the PWA build to test, failing early with the fix. */
function buildPaths() {
  const bin = process.env.KUDAKYAR_BIN || join(REPO_ROOT, 'target', 'debug', 'kudakyar');
  const dist = process.env.KUDAKYAR_WEB_DIST || join(REPO_ROOT, 'mobile-web', 'dist');
  if (!existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: run \`cargo build -p kudakyar\` (or set KUDAKYAR_BIN)`);
  }
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`no PWA build at ${dist}: run \`cargo xtask serve\` once (or set KUDAKYAR_WEB_DIST)`);
  }
  return { bin, dist };
}

/** A TCP port nobody listens on right now (the OS picks it; we release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `kudakyar serve` on a free port with a fresh data dir and a known
 * admin password, and resolves once `/api/v1/health` answers 200. `name`
 * names the log file (tests/artifacts/browser/server-NAME.log). `prepare(run)`,
 * when given, fills the data dir before the server starts: `run(args)` runs
 * the server binary's command `args` on it (e.g. `geo import`, `demo seed`);
 * then the admin is added with the known password (the server makes one
 * only in a database without users). With `postgres: true` the records go
 * to a fresh PostgreSQL database on the server of
 * `KUDAKYAR_TEST_POSTGRES_URL` (dropped by `stop()`) instead of SQLite.
 * `env` adds configuration (`KUDAKYAR_*` variables) to the server's.
 */
export async function startServer(name, { prepare, postgres = false, env: extra = {} } = {}) {
  const { bin, dist } = buildPaths();
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'kudakyar-browser-'));
  if (prepare) {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KUDAKYAR_')));
    const env = { ...clean, NO_COLOR: '1' };
    const run = (args, input) =>
      execFileSync(bin, [...args, '--data-dir', dataDir], { cwd: dataDir, env, input, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'inherit'] });
    await prepare(run);
    run(['user', 'add', '--username', 'admin', '--role', 'national_admin', '--password-stdin'], `${ADMIN_PASSWORD}\n`);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(ARTIFACTS, `server-${name}.log`);
  closeSync(openSync(logPath, 'w')); // each launch appends

  // Nothing of the caller's KUDAKYAR_* configuration (a PostgreSQL URL, a
  // config file) may leak in: this server is SQLite in a throwaway dir.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KUDAKYAR_')));
  const database = postgres ? scratchDatabase(name) : null;
  if (database) env.KUDAKYAR_DATABASE_URL = database.url;
  let exited = null;
  let exit = null;
  /** Starts the process (appending to the log) and waits for its health. */
  const launch = async () => {
    const log = openSync(logPath, 'a');
    const child = spawn(bin, ['serve', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`], {
      cwd: dataDir,
      env: { ...env, NO_COLOR: '1', KUDAKYAR_WEB_DIR: dist, KUDAKYAR_ADMIN_PASSWORD: ADMIN_PASSWORD, ...extra },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    exit = null;
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    exited.then((e) => { exit = e; });
    server.kill = (signal) => { if (exit === null) child.kill(signal); return exited; };
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (;;) {
      if (exit !== null) {
        await server.stop();
        throw new Error(`kudakyar exited early (${JSON.stringify(exit)}); log ${logPath}:\n${server.logTail()}`);
      }
      const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(1_000) }).catch(() => null);
      if (res?.status === 200) return;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`/api/v1/health not 200 within ${HEALTH_TIMEOUT_MS} ms; log ${logPath}:\n${server.logTail()}`);
      }
      await delay(100); // polling interval: there is no event to wait on
    }
  };

  const server = {
    url,
    port,
    logPath,
    kill: null,
    /** SIGTERM, then the exit status; removes the data dir. */
    async stop() {
      const result = await server.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
      database?.drop();
      return result;
    },
    /**
     * Stops the process with `signal` (SIGKILL: a crash) and starts it
     * again on the same port and data dir; resolves once it is healthy.
     */
    async restart(signal = 'SIGKILL') {
      await server.kill(signal);
      await launch();
    },
    logTail: () => readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n'),
  };
  await launch();
  return server;
}

/** The PostgreSQL server the tests may use (`KUDAKYAR_TEST_POSTGRES_URL`), if any. */
export const POSTGRES_URL = process.env.KUDAKYAR_TEST_POSTGRES_URL || null;

/**
 * A new empty database on the `KUDAKYAR_TEST_POSTGRES_URL` server, made
 * with `psql`: `{url, drop()}`. `drop()` forces out whatever still holds a
 * connection (a killed server's are gone already).
 */
function scratchDatabase(name) {
  if (!POSTGRES_URL) throw new Error('KUDAKYAR_TEST_POSTGRES_URL is not set');
  const db = `kudakyar_browser_${name.replace(/[^a-z0-9]/gi, '_')}_${Date.now().toString(36)}`.toLowerCase();
  const psql = (sql) => execFileSync('psql', [POSTGRES_URL, '-qc', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
  psql(`CREATE DATABASE ${db}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${db}`;
  return { url: url.toString(), drop: () => psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
}

/**
 * The fixture every browser test file shares: registers `before` hooks that
 * start the server (log `server-NAME.log`), launch Chromium and log the admin
 * in through the API, and `after` hooks that close and stop them again. With
 * `iris: {seed}` it also has the server binary synthesise one identity's two
 * eye captures into a temporary dir (removed afterwards). Returns the object
 * the hooks fill in: `{server, browser, token, iris}` (`iris`: the captures'
 * paths, sorted). A file's own preparation goes in `setup(s)`, run at the
 * end of the same hook: node runs root-level `before` hooks as they are
 * registered, so a second one would not wait for this one. `prepare` goes to
 * `startServer` (data written before the server starts), and `env` too (an
 * object, or an async function giving one, run first in the hook).
 */
export function suite(name, { iris, setup, prepare, env } = {}) {
  const s = { server: null, browser: null, token: null, iris: null };
  let irisDir = null;
  before(async () => {
    s.server = await startServer(name, { prepare, env: typeof env === 'function' ? await env() : env });
    s.browser = await launchBrowser();
    s.token = await apiLogin(s.server, 'admin', ADMIN_PASSWORD);
    if (iris) {
      // Synthetic eye images from the same binary the server runs.
      irisDir = mkdtempSync(join(tmpdir(), 'kudakyar-iris-'));
      const seed = iris.seed === undefined ? [] : ['--seed', String(iris.seed)];
      execFileSync(buildPaths().bin, ['iris', 'synth', irisDir, '--identities', '1', '--captures', '2', ...seed], { stdio: 'ignore' });
      const identity = join(irisDir, readdirSync(irisDir)[0]);
      s.iris = readdirSync(identity).sort().map((f) => join(identity, f));
    }
    await setup?.(s);
  });
  after(async () => {
    await s.browser?.close();
    await s.server?.stop(); // a no-op wait when a test already stopped it
    if (irisDir) rmSync(irisDir, { recursive: true, force: true });
  });
  return s;
}

/**
 * Runs `fn(phone)` on a new phone page ({context, page, problems}) of the
 * suite `s`, logged in as the admin unless `login: false`, and closes the
 * context however `fn` ends. Other options go to `newPhonePage`.
 */
export async function withPhone(s, fn, { login = true, ...options } = {}) {
  const phone = await newPhonePage(s.browser, options);
  try {
    if (login) await loginAsAdmin(phone.page, s.server);
    return await fn(phone);
  } finally {
    await phone.context.close();
  }
}

/**
 * Asserts that `problems` holds nothing but the expected noise: the entries
 * `expected` (a RegExp or a predicate) accepts, e.g. Chromium's log line for
 * a request refused on purpose or failed offline.
 */
export function assertNoProblems(problems, expected = null) {
  const accept = expected instanceof RegExp ? (p) => expected.test(p) : expected ?? (() => false);
  assert.deepEqual(problems.filter((p) => !accept(p)), []);
}

const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** A phone: 360×640 CSS pixels, touch, Persian locale. */
const PHONE = {
  viewport: { width: 360, height: 640 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'fa-IR',
};

/** Debian's Chromium, headless; Playwright gives it a fresh temporary profile. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
}

/**
 * A new phone-sized browser context (its own empty localStorage) and page.
 * `problems` collects console errors, uncaught page errors and CSP
 * violations as strings; tests assert it stays empty.
 */
export async function newPhonePage(browser, options = {}) {
  const context = await browser.newContext({ ...PHONE, ...options });
  return { context, ...(await watchedPage(context)) };
}

/**
 * Like `newPhonePage`, but a browser of its own on a profile kept in a
 * temporary directory rather than an incognito-like context: Chromium
 * offers some features (the Push API) only there. Closing the context
 * closes that browser; `remove()` deletes the profile.
 */
export async function newProfilePhonePage(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kudakyar-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: BROWSER_ARGS,
    ...PHONE,
    ...options,
  });
  return { context, ...(await watchedPage(context)), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new page of `context` and the `problems` seen on it (see `newPhonePage`). */
async function watchedPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()} @ ${msg.location().url}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  // The CSP reports violations as DOM events too (also when no console line
  // is printed); injected by the DevTools protocol, so the CSP does not apply.
  await page.exposeFunction('__kudakyarCspViolation', (v) => problems.push(`csp: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__kudakyarCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  return { page, problems };
}

/** Saves a full-page screenshot as tests/artifacts/browser/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The home page's «who is logged in» card as {term: value}. */
export function userCard(page) {
  return page.locator('dl').evaluate((dl) =>
    Object.fromEntries([...dl.querySelectorAll('dt')].map((dt) => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()])),
  );
}

// --- The API, called from Node ------------------------------------------

export async function apiCall(server, method, path, { token, body } = {}) {
  const headers = { accept: 'application/json, application/problem+json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Logs in through the API and returns the bearer token. */
export async function apiLogin(server, username, password) {
  const res = await apiCall(server, 'POST', '/api/v1/auth/login', { body: { username, password } });
  if (res.status !== 200) throw new Error(`API login of ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** `GET /api/v1/auth/me` with `token`: {status, body}. */
export const apiMe = (server, token) => apiCall(server, 'GET', '/api/v1/auth/me', { token });

/** `POST /api/v1/users` as the holder of `token`: {status, body}. */
export const apiCreateUser = (server, token, user) => apiCall(server, 'POST', '/api/v1/users', { token, body: user });

/** `GET path` with `token`, following `next_cursor`: every item of a paged list. */
export async function apiGetAll(server, token, path) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await apiCall(server, 'GET', page, { token });
    if (res.status !== 200) throw new Error(`GET ${page}: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    cursor = res.body.next_cursor ?? null;
  } while (cursor);
  return items;
}

// --- The PWA ----------------------------------------------------------------

/** Logs in as the admin through the login page and waits for the home page. */
export async function loginAsAdmin(page, server) {
  await loginAs(page, server, 'admin', ADMIN_PASSWORD);
}

/** Logs in as `username` through the login page and waits for the home page. */
export async function loginAs(page, server, username, password) {
  await page.goto(server.url);
  await page.getByLabel('نام کاربری', { exact: true }).fill(username);
  await page.getByLabel('گذرواژه', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'ورود', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'خوش آمدید' }).waitFor();
}

/**
 * The URL path of the outbox module the app runs (wasm-bindgen puts it under
 * `snippets/`), from the build's precache list. `import()` of this path in
 * the page gives the app's own module instance, with its token and queue.
 */
export async function outboxModulePath(page) {
  return page.evaluate(async () => {
    const { files } = await (await fetch('/precache.json')).json();
    return files.find((f) => f.startsWith('/snippets/') && f.endsWith('/outbox.js'));
  });
}

/** Waits until the sync bar shows `n` pending items. */
export async function waitPending(page, n, timeout = 30_000) {
  await page.waitForFunction(
    (want) => document.querySelector('#sync-status')?.getAttribute('data-pending') === want,
    String(n),
    { timeout },
  );
}

/** Switches the network emulation and waits until the app has seen it. */
export async function setOnline(context, page, online) {
  await context.setOffline(!online);
  await page.waitForFunction(
    (want) => document.querySelector('#sync-status')?.getAttribute('data-online') === want,
    String(online),
  );
}

// --- The outbox module, driven from the page --------------------------------

/** Calls `outbox[name](...args)` in the page; `{blob: [bytes], type}` args become Blobs. */
export function callOutbox(phone, name, ...args) {
  return phone.page.evaluate(
    async ([path, name, args]) => {
      const outbox = await import(path);
      const blobs = args.map((a) => (a && a.blob ? new Blob([new Uint8Array(a.blob)], { type: a.type }) : a));
      return outbox[name](...blobs);
    },
    [phone.outbox, name, args],
  );
}

/** Calls `outboxSync` until a sync runs to its end ('done'), not 'busy' or 'stopped'. */
export async function syncUntilDone(phone) {
  for (let i = 0; i < 100; i++) {
    if ((await callOutbox(phone, 'outboxSync')) === 'done') return;
    await phone.page.waitForTimeout(100);
  }
  assert.fail('the outbox never finished a sync');
}

/** The outbox's items as stored on the phone, blobs as {size, type, width, height, bytes?}. */
export function storedItems(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open('kudakyar-outbox');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const items = await new Promise((resolve, reject) => {
      const req = db.transaction('items').objectStore('items').getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    db.close();
    const describe = async (blob) => {
      if (!blob) return null;
      const bitmap = await createImageBitmap(blob).catch(() => null);
      const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
      return {
        size: blob.size,
        type: blob.type,
        width: bitmap?.width,
        height: bitmap?.height,
        sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
      };
    };
    for (const item of items) {
      for (const key of ['photo', 'left', 'right']) item[key] = await describe(item[key]);
    }
    return items;
  });
}
