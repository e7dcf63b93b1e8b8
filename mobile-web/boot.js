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
// Registered once the app has started: installing the worker precaches
// every file, including the code loaded on demand, and on a first visit that
// must not compete with the app shell for a slow connection.
import('/__KUDAKYAR_JS__')
  .then((glue) => glue.default({ module_or_path: '/__KUDAKYAR_WASM__' }))
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

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/', type: 'module', updateViaCache: 'none' }).catch((err) => {
    // Not fatal: the app works online without it.
    console.warn('service worker registration failed', err);
  });
}
