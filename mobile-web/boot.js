// Loads the Kudakyar wasm app. An external file because the CSP forbids
// inline scripts; `cargo xtask` (xtask/src/web.rs) replaces the two
// __PLACEHOLDERS__ with content-hashed file names.
//
// The wasm-bindgen glue would look for its wasm next to itself under the
// unhashed name, so the hashed wasm path is passed explicitly. A dynamic
// import lets one handler report both a missing glue file and a failed
// wasm instantiation (e.g. a very old browser) instead of a silent blank page.
//
// It also registers the service worker (sw.js, see its comments) that lets
// the app open with no network and syncs the outbox in the background.
// Registered from here because the CSP allows no inline script; a browser
// without (module) service workers simply runs online. `updateViaCache:
// 'none'` makes update checks fetch the imported outbox module afresh too.
// Registered once the first screen has settled (the app dispatches
// `kudakyar:settled`, see mobile-web/src/settle.rs): installing the worker
// precaches every file, including the code loaded on demand, and on a first
// visit that must not compete with the shell, nor with the first screen's
// own data, for a slow connection.
const settled = new Promise((resolve) => addEventListener('kudakyar:settled', resolve, { once: true }));
if (location.pathname === '/atlas') firstMap();
import('/__KUDAKYAR_JS__')
  .then((glue) => glue.default({ module_or_path: '/__KUDAKYAR_WASM__' }))
  .then(() => settled)
  .then(registerServiceWorker)
  .catch((err) => {
    console.error(err);
    const splash = document.getElementById('splash');
    if (splash) {
      splash.textContent =
        'بارگذاری کودک‌یار ناموفق بود. اتصال را بررسی کنید و صفحه را دوباره بارگذاری کنید.';
      splash.setAttribute('role', 'alert');
    }
  });

// The font, Vazirmatn (see app.css): declared from here, not by an
// @font-face rule, because the page's first text would make the browser
// fetch it at once, and on a first visit its 48 KB would share the slow
// link with the wasm and the first screen's data. So a first visit shows
// the system font (which has Persian glyphs) until the first screen has
// settled, then swaps. Once this phone has the font (the service worker
// precaches it), it is declared at once, so a return visit never flashes
// the system font.
const FONT = '/__VAZIRMATN_WOFF2__';
const FONT_KEY = 'kudakyar.font';
if (localStorage.getItem(FONT_KEY) === FONT) useFont();
else settled.then(useFont);

function useFont() {
  if (!('fonts' in document)) return;
  const face = new FontFace('Vazirmatn', `url(${FONT}) format('woff2')`, {
    weight: '100 900',
    style: 'normal',
    display: 'swap',
  });
  document.fonts.add(face);
  face.load().then(
    () => localStorage.setItem(FONT_KEY, FONT),
    // Offline before it was cached: the system font stays, nothing breaks.
    () => {},
  );
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/', type: 'module', updateViaCache: 'none' }).catch((err) => {
    // Not fatal: the app works online without it.
    console.warn('service worker registration failed', err);
  });
}

// The atlas opened by its address draws its first map before the app: on a
// slow link the shell's wasm and the screen's code are most of a few
// hundred KB, while the map needs only the map module and Leaflet (which
// /atlas preloads) and its two answers. With a stored session, the answers
// the screen opens with are asked for here, at once; the map module draws
// them (`first` in atlas/map.js) over the page until the atlas screen takes
// the map into its own box, and the screen takes these answers instead of
// asking again (`atlasFirstAnswer` in atlas.js). The URLs are the screen's
// first map's (`fetch_map` and `Filters::first` in
// src/pages/atlas/mod.rs): the counties of the user's province (the
// provinces for national admins), the hexes of their scope at resolution
// 7 (5 for the provinces). A browser test fails if the two differ: each
// answer would then be asked for twice.
function firstMap() {
  let session = null;
  try {
    session = JSON.parse(localStorage.getItem('kudakyar.session.v1'));
  } catch {
    return;
  }
  const user = session?.user;
  if (!session?.token || !user) return;
  const provinces = !user.province && user.role === 'national_admin';
  const urls = [
    `/api/v1/atlas/choropleth?level=${provinces ? 'province' : 'county'}&measure=children`,
    `/api/v1/atlas/hexes?res=${provinces ? 5 : 7}&format=geojson&measure=children`,
  ];
  const answers = urls.map((url) =>
    fetch(url, { headers: { authorization: `Bearer ${session.token}` }, cache: 'no-store', priority: 'high' })
      .then((res) => (res.ok ? res.text() : null))
      .catch(() => null),
  );
  globalThis.kudakyarFirstMap = { urls, answers };
  const module = document.querySelector('meta[name=kudakyar-atlas]')?.content;
  if (module) import(module).then((map) => map.call('first', '')).catch((err) => console.warn('the first map was not drawn', err));
}
