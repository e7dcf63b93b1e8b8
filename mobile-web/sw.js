// Kudakyar's service worker: makes the app open with no network, and sends
// the outbox when the network returns even if no page is open.
//
// `cargo xtask` (xtask/src/web.rs) writes it to dist/sw.js with the
// placeholders below replaced by the generated precache list (precache.json's
// content) and the paths of the outbox and push modules, so every release changes these
// bytes and the browser installs the new worker. Served `no-cache` from the
// origin's root (scope `/`). A module worker (boot.js registers it with
// `type: 'module'`) so that it runs the page's own outbox.js: one sync
// engine, not two that could drift apart.
//
// Strategy:
// - install: cache the app shell (the hashed files, the page) in a cache
//   named after the build's version; activate: drop older caches.
// - content-hashed files: cache first (their content never changes).
// - pages (navigations): network first so a new release is seen at once,
//   falling back to the cached page when offline (the app routes itself,
//   so one page serves every path).
// - the API is never touched: the app's outbox (outbox.js) handles offline
//   writes, and reads must not come from a stale cache.
// - Background Sync: the outbox registers the `kudakyar-outbox` tag after
//   each write and after a sync that failed for want of network; the browser
//   fires `sync` once it is online, and a rejected sync is retried later by
//   the browser.
// - Web Push (push.js, shared with the settings screen): `push` shows a
//   notification titled by the kind, in the user's language, with no child
//   data; `notificationclick` opens the app at its subject (or the inbox);
//   `pushsubscriptionchange` subscribes again and tells the server.
import { SYNC_TAG, outboxBackgroundSync } from '__OUTBOX_JS__';
import { pushOpen, pushResubscribe, pushShow } from '__PUSH_JS__';

const PRECACHE = __PRECACHE__;
const PREFIX = 'kudakyar-shell-';
const CACHE = PREFIX + PRECACHE.version;
const PAGE = '/';

self.addEventListener('install', (event) => {
  // The API goes straight to the network without waking this worker (the
  // static routing API, Chromium 123+): the `fetch` handler below would only
  // let it through, but a stopped worker must start first, which on a cheap
  // phone delays the first request after a pause. (In the 1,000-record
  // sync bench, with the worker already running, it saves about 3%.)
  // Elsewhere the `fetch` handler lets the API through untouched.
  event.addRoutes?.({ condition: { urlPattern: '/api/*' }, source: 'network' })?.catch?.((err) => console.warn('routes', err));
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([PAGE, ...PRECACHE.files]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  // The citizens' report page has its own worker (report-sw.js, scope /report).
  if (url.pathname === '/report' || url.pathname.startsWith('/report/')) return;

  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(CACHE).then((cache) => cache.put(PAGE, copy));
          }
          return res;
        })
        .catch(() => caches.match(PAGE, { cacheName: CACHE, ignoreVary: true }).then((hit) => hit || Response.error())),
    );
    return;
  }

  event.respondWith(
    caches.match(req, { cacheName: CACHE, ignoreVary: true }).then((hit) => hit || fetch(req)),
  );
});

self.addEventListener('sync', (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(outboxBackgroundSync());
});


self.addEventListener('push', (event) => {
  event.waitUntil(pushShow(self, event.data));
});

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(pushOpen(self, event.notification));
});

self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(
    pushResubscribe(self, event.oldSubscription, event.newSubscription).catch((err) => console.warn('push resubscribe', err)),
  );
});
