// The citizens' report page's service worker (scope /report, apart from the
// workers' app's /sw.js): the page opens with no network, and queued reports
// are sent by Background Sync even when no page is open.
//
// `cargo xtask` (xtask/src/web/dist/citizen.rs) fills in the precache list
// (the page's files and version) and the hashed module names below, so every
// release changes these bytes and the browser updates.
import { SYNC_TAG, sendAll } from '__QUEUE_JS__';
import { solve } from '__POW_JS__';

const PRECACHE = __PRECACHE__;
const PREFIX = 'kudakyar-report-';
const CACHE = PREFIX + PRECACHE.version;
const PAGE = '/report';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll([PAGE, ...PRECACHE.files])).then(() => self.skipWaiting()),
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
  if (req.mode === 'navigate') {
    // Network first, so a new release is seen at once; the cached page offline.
    event.respondWith(
      fetch(req).catch(() => caches.match(PAGE, { cacheName: CACHE }).then((hit) => hit || Response.error())),
    );
    return;
  }
  event.respondWith(caches.match(req, { cacheName: CACHE }).then((hit) => hit || fetch(req)));
});

self.addEventListener('sync', (event) => {
  if (event.tag !== SYNC_TAG) return;
  // A rejected promise asks the browser to try again later.
  event.waitUntil(
    sendAll(solve).then((r) => {
      if (r.waiting > 0) throw new Error(`${r.waiting} reports still waiting`);
    }),
  );
});
