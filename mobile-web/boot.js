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
