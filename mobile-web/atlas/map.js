// The atlas map (اطلس حضور): Leaflet drawing what the atlas screen
// (src/pages/atlas/) fetched from the server. Loaded on demand through
// ../atlas.js; `cargo xtask` (xtask/src/web/dist/atlas.rs) fills in the
// hashed paths of Leaflet's ES module (npm `leaflet`, minified) and of the
// stylesheet (Leaflet's own, then atlas.css) and writes this file as
// dist/atlas/map-<hash>.js.
//
// Layers, each drawn by Leaflet's SVG renderer as one <path> per feature
// carrying its code in `data-*` (what the browser test and screen readers'
// tooltips read):
// - counties (or provinces): the choropleth, filled by zoning class
//   (ColorBrewer YlOrRd as on the printed map); a suppressed area (fewer
//   than 5 children) grey and dashed, never a colour that reads as "low";
// - hexes: H3 cells shaded by their figure against the largest shown;
// - hot spots: the cells with an emerging hot- or cold-spot pattern, outlined.
// No basemap unless the server names a tile URL (`open`'s `tiles`): the
// boundaries alone work offline. The server's attribution («© OpenStreetMap
// contributors» for OSM boundaries) goes in the map's attribution control.
//
// Every command takes and answers a string (see ../atlas.js).

import * as L from '__LEAFLET_JS__';

const CSS = '__ATLAS_CSS__';
const ZONE_FILL = { low: '#ffffb2', medium: '#fecc5c', high: '#fd8d3c', critical: '#e31a1c' };
const NO_DATA = '#eeeeee';

let map = null;
let container = null;
/** The first map (`first`) while it waits for the screen to take it. */
let firstBox = null;
const layers = { counties: null, hexes: null, hotspots: null, reports: null, outlines: null };
/** A report's fill on the triage map, by its state. */
const STATE_FILL = { new: '#e31a1c', assigned: '#fd8d3c', visited: '#6baed6' };
let attribution = null;

/** The stylesheet, once: resolved when it has loaded (or failed). */
let styled = null;
function style() {
  styled ??= new Promise((resolve) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = CSS;
    link.onload = link.onerror = () => resolve();
    document.head.append(link);
  });
  return styled;
}

/** A tooltip as a text node: names come from imported data, never HTML. */
function tip(text) {
  const span = document.createElement('span');
  span.dir = 'auto';
  span.textContent = text;
  return span;
}

/** Marks each feature's <path> with its properties, for tests and tools. */
function mark(layer, name, attrs) {
  layer.eachLayer((l) => {
    const el = l.getElement?.();
    if (!el) return;
    el.classList.add(name);
    for (const [key, value] of Object.entries(attrs(l.feature.properties ?? {}))) {
      el.setAttribute(`data-${key}`, value ?? '');
    }
  });
}

function replace(name, layer, visible = true) {
  layers[name]?.remove();
  layers[name] = layer;
  if (layer && visible) layer.addTo(map);
  if (container) container.dataset[name] = String(layer ? layer.getLayers().length : 0);
}

/**
 * A Leaflet map in `el`, with a basemap when the page names a tile URL
 * template (the server's `map_tiles`, in `<meta name="kudakyar-tiles">`),
 * credited with `map_tiles_attribution`; no layer yet.
 */
function create(el) {
  const setting = (name) => document.querySelector(`meta[name=${name}]`)?.content || null;
  const tiles = setting('kudakyar-tiles');
  const credit = setting('kudakyar-tiles-attribution');
  map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
  map.attributionControl = L.control.attribution({ prefix: '<a href="https://leafletjs.com">Leaflet</a>' }).addTo(map);
  // Leaflet draws nothing before it has a view: Iran, until the first
  // layer's bounds are known.
  map.setView([32.5, 53.7], 5);
  // Leaflet writes an attribution as HTML: the deployer's credit is text.
  const text = (credit ?? '').replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  if (tiles) L.tileLayer(tiles, { maxZoom: 18, attribution: text }).addTo(map);
  attribution = null;
  for (const name of Object.keys(layers)) replace(name, null);
}

const commands = {
  /**
   * `[el, label]`: a map in element `el` (see `create`), or the first map
   * (`first`) moved into it.
   */
  async open([el, label]) {
    await style();
    // The screen may call before its view is in the document.
    for (let i = 0; i < 120 && !document.getElementById(el); i++) {
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    const box = document.getElementById(el);
    box.setAttribute('aria-label', label);
    if (firstBox && map) {
      // The first map, drawn before the app: moved into the screen's box
      // with its layers and view; the screen draws the same figures next.
      box.append(firstBox);
      firstBox.classList.remove('atlas-map', 'atlas-first');
      firstBox.classList.add('atlas-taken');
      firstBox = null;
      container = box;
      for (const [name, layer] of Object.entries(layers)) {
        container.dataset[name] = String(layer ? layer.getLayers().length : 0);
      }
      map.invalidateSize();
      return '';
    }
    commands.close();
    container = box;
    create(container);
    return '';
  },

  /**
   * The first map of the atlas opened by its address, before the app runs
   * (boot.js asked for its answers): drawn in a box of its own over the
   * page, until `open` moves it into the screen. Nothing when the screen
   * has opened its map already, the answers failed, or the user has left.
   */
  async first() {
    const answers = await Promise.all(globalThis.kudakyarFirstMap?.answers ?? []);
    await style();
    const [counties, hexes] = answers;
    if (map || !counties || !hexes || location.pathname !== '/atlas') return '';
    firstBox = document.createElement('div');
    firstBox.className = 'atlas-map atlas-first';
    firstBox.dir = 'ltr';
    document.body.append(firstBox);
    container = firstBox;
    create(firstBox);
    commands.counties({ collection: JSON.parse(counties), lang: document.documentElement.lang === 'en' ? 'en' : 'fa' });
    commands.hexes({ collection: JSON.parse(hexes), visible: true });
    // The app's router changes the address without an event here: a user
    // who leaves before the screen takes the map must not keep it.
    const left = setInterval(() => {
      if (!firstBox) clearInterval(left);
      else if (location.pathname !== '/atlas') {
        clearInterval(left);
        commands.close();
      }
    }, 500);
    return '';
  },

  /**
   * The choropleth (`/api/v1/atlas/choropleth`, a FeatureCollection whose
   * features carry code, name_fa, name_en, value, class); fits the map to it
   * and answers how many areas it drew.
   */
  counties({ collection, lang }) {
    const layer = L.geoJSON(collection, {
      style: (f) => {
        const p = f.properties;
        const hidden = p.value === 'suppressed';
        return {
          color: '#5a6470',
          weight: 1,
          dashArray: hidden ? '4 3' : null,
          fillColor: hidden ? '#bdbdbd' : ZONE_FILL[p.class] ?? NO_DATA,
          fillOpacity: 0.7,
        };
      },
      onEachFeature: (f, l) => {
        const p = f.properties;
        const name = (lang === 'en' && p.name_en) || p.name_fa || p.code;
        l.bindTooltip(tip(`${name}: ${p.value}`), { sticky: true });
      },
    });
    replace('counties', layer);
    mark(layer, 'atlas-county', (p) => ({ code: p.code, province: p.province, class: p.class, value: p.value }));
    // Leaflet's control takes HTML: the server's words are escaped first.
    const text = collection.properties?.attribution;
    const html = text ? tip(text).outerHTML : null;
    if (html !== attribution) {
      if (attribution) map.attributionControl?.removeAttribution(attribution);
      if (html) map.attributionControl?.addAttribution(html);
      attribution = html;
    }
    const drawn = layer.getLayers().length;
    if (drawn) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    return String(drawn);
  },

  /** The hex heat map (`/api/v1/atlas/hexes?format=geojson`). */
  hexes({ collection, visible }) {
    const values = collection.features.map((f) => f.properties.value).filter((v) => typeof v === 'number');
    const max = Math.max(1, ...values);
    const layer = L.geoJSON(collection, {
      style: (f) => {
        const v = f.properties.value;
        const shown = typeof v === 'number';
        return {
          color: shown ? '#54278f' : '#757575',
          weight: 0.5,
          dashArray: shown ? null : '2 2',
          fillColor: shown ? '#6a51a3' : '#bdbdbd',
          fillOpacity: shown ? 0.15 + 0.7 * Math.sqrt(v / max) : 0.3,
        };
      },
      onEachFeature: (f, l) => l.bindTooltip(tip(String(f.properties.value)), { sticky: true }),
    });
    replace('hexes', layer, visible);
    if (visible) mark(layer, 'atlas-hex', (p) => ({ cell: p.cell, value: p.value }));
    return String(layer.getLayers().length);
  },

  /** Emerging hot spots (`/api/v1/atlas/hotspots?format=geojson`), labelled by the screen. */
  hotspots({ collection, labels, visible }) {
    const layer = L.geoJSON(collection, {
      filter: (f) => f.properties.pattern !== 'no_pattern',
      style: (f) => {
        const hot = f.properties.pattern.startsWith('hot_');
        return { color: hot ? '#b10026' : '#08519c', weight: 2.5, fill: false };
      },
      onEachFeature: (f, l) => l.bindTooltip(tip(labels[f.properties.pattern] ?? f.properties.pattern), { sticky: true }),
    });
    replace('hotspots', layer, visible);
    if (visible) mark(layer, 'atlas-hotspot', (p) => ({ cell: p.cell, pattern: p.pattern }));
    return String(layer.getLayers().length);
  },

  /**
   * The triage map's reports (a FeatureCollection of points with id, state
   * and label): a dot each, filled by state; a tap opens the report in the
   * app (its router follows the history). Fits the map to them; answers
   * how many.
   */
  reports(collection) {
    const layer = L.geoJSON(collection, {
      pointToLayer: (f, at) => L.circleMarker(at, {
        radius: 9,
        color: '#1b1f24',
        weight: 1.5,
        fillColor: STATE_FILL[f.properties.state] ?? '#bdbdbd',
        fillOpacity: 0.85,
      }),
      onEachFeature: (f, l) => {
        l.bindTooltip(tip(f.properties.label));
        l.on('click', () => {
          history.pushState(null, '', `/triage/${f.properties.id}`);
          dispatchEvent(new PopStateEvent('popstate'));
        });
      },
    });
    replace('reports', layer);
    mark(layer, 'triage-report', (p) => ({ id: p.id, state: p.state }));
    if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [16, 16], maxZoom: 15 });
    return String(layer.getLayers().length);
  },

  /**
   * The triage map's ground: the outlines of the user's counties (the
   * choropleth's FeatureCollection; its figures unused), lines only, under
   * the reports, so the dots have a place without a basemap. Fits the map
   * to them when there is no report to fit to; answers how many.
   */
  outlines(collection) {
    const layer = L.geoJSON(collection, {
      interactive: false,
      style: { color: '#5a6470', weight: 1, fill: false },
    });
    replace('outlines', layer);
    layer.bringToBack();
    mark(layer, 'triage-county', (p) => ({ code: p.code }));
    if (!layers.reports?.getLayers().length && layer.getLayers().length) map.fitBounds(layer.getBounds());
    return String(layer.getLayers().length);
  },

  /** `{layer, on}`: shows or hides one layer. */
  show({ layer, on }) {
    const l = layers[layer];
    if (!l) return '';
    if (on) {
      l.addTo(map);
      const kind = { counties: 'atlas-county', hexes: 'atlas-hex', hotspots: 'atlas-hotspot' }[layer];
      mark(l, kind, (p) => ({ code: p.code, cell: p.cell, pattern: p.pattern, value: p.value }));
    } else {
      l.remove();
    }
    return '';
  },

  close() {
    map?.remove();
    map = null;
    firstBox?.remove();
    firstBox = null;
    container = null;
    for (const name of Object.keys(layers)) layers[name] = null;
    return '';
  },

  /**
   * `{url, token, name}`: downloads an API file (the bearer token cannot
   * ride on a plain link) and saves it as `name`. Answers '' or the HTTP
   * status that refused it ('0': no network).
   */
  async download({ url, token, name }) {
    let res;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    } catch {
      return '0';
    }
    if (!res.ok) return String(res.status);
    const href = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = href;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
    return '';
  },
};

/** Runs `command` with its JSON argument (see `commands`). */
export async function call(command, json) {
  const run = commands[command];
  if (!run) throw new Error(`atlas: no command ${command}`);
  return String(await run(json ? JSON.parse(json) : {}));
}
