// The citizens' map picker: a point placed by hand where GPS is not at hand
// or not where the child was. report.js imports this module only when the
// reporter opens the map, so Leaflet (the atlas's own hashed copy) and the
// outlines are never part of the page's first download.
//
// What the map shows: the basemap the server is configured with (the
// page's `<meta name="kudakyar-tiles">`, filled as /report is served), and
// the provinces' outlines (Natural Earth, public domain: the server's
// built-in outlines, assets/geo) so the map is never blank without one.
// A tap places the point; «the middle of the map» places it at the centre
// crosshair, for keyboards (Leaflet pans with the arrow keys) and screen
// readers. `cargo xtask` (xtask/src/web/dist/citizen.rs) fills in the paths.

import * as L from '__LEAFLET_JS__';

const CSS = '__ATLAS_CSS__';
const OUTLINES = '__PROVINCES_GEOJSON__';
/** Iran, and how close to start when the phone's position is known. */
const IRAN = [32.5, 54.0];
const NEAR_ZOOM = 16;

function setting(name) {
  return document.querySelector(`meta[name="${name}"]`)?.content || '';
}

function style() {
  return new Promise((resolve) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = CSS;
    link.onload = link.onerror = () => resolve();
    document.head.append(link);
  });
}

/**
 * Opens the picker in `el`, centred on `near` ({lat, lng}) if given;
 * `onPick(lat, lng)` is called with each point placed. Resolves once the
 * map is drawn; rejects when the outlines cannot be fetched (offline).
 */
export async function open(el, near, onPick) {
  const [outlines] = await Promise.all([fetch(OUTLINES).then((r) => {
    if (!r.ok) throw new Error(`outlines: ${r.status}`);
    return r.json();
  }), style()]);
  const map = L.map(el, { attributionControl: true });
  map.attributionControl.setPrefix(false);
  const tiles = setting('kudakyar-tiles');
  if (tiles) {
    // Leaflet writes an attribution as HTML: the deployer's credit is text
    // (escaped as the atlas's map does).
    const credit = setting('kudakyar-tiles-attribution').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    L.tileLayer(tiles, { maxZoom: 19, attribution: credit }).addTo(map);
  }
  L.geoJSON(outlines, { interactive: false, style: { color: '#0b4f8a', weight: 1, fill: false } }).addTo(map);
  if (near) map.setView([near.lat, near.lng], NEAR_ZOOM);
  else map.setView(IRAN, 5);
  let marker = null;
  const place = (latlng) => {
    marker?.remove();
    marker = L.circleMarker(latlng, { radius: 9, color: '#a4161a', weight: 3, fillOpacity: 0.5 }).addTo(map);
    marker.getElement()?.classList.add('picked');
    onPick(latlng.lat, latlng.lng);
  };
  map.on('click', (e) => place(e.latlng));
  return { centre: () => place(map.getCenter()) };
}
