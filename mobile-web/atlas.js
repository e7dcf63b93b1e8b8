// The atlas map's loader, for the app shell (imported by the wasm through
// src/atlas.rs). Everything else of the map — Leaflet (npm `leaflet`, pinned
// in package.json) and the code drawing the layers, atlas/map.js — is one
// module fetched the first time the atlas screen (or a download) asks, from
// the hashed path the build writes into `<meta name="kudakyar-atlas">`. So
// Leaflet costs the app shell these few lines, not its 40 KB.
//
// One function, strings in and out: code loaded on demand must not convert
// other JS values (see mobile-web/README.md).

let loading = null;

/** Runs `command` of atlas/map.js with its JSON argument; resolves to a string. */
export function atlasCall(command, json) {
  if (!loading) {
    const url = document.querySelector('meta[name=kudakyar-atlas]')?.content;
    // A failed fetch (offline before the service worker cached it) may be
    // tried again.
    loading = import(url).catch((err) => {
      loading = null;
      throw err;
    });
  }
  return loading.then((map) => map.call(command, json));
}

/**
 * The answer `boot.js` asked for `url` before the app ran, when it did (the
 * atlas opened by its address): resolves to its text, once, or to '' (not
 * asked for, taken already, or failed: the caller asks itself).
 */
export function atlasFirstAnswer(url) {
  const first = globalThis.kudakyarFirstMap;
  const i = first ? first.urls.indexOf(url) : -1;
  if (i < 0) return Promise.resolve('');
  first.urls[i] = null;
  return first.answers[i].then((text) => text ?? '');
}
