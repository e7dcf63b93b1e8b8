// The atlas map's basemap is the server's configuration (issue 20): with
// `map_tiles` naming a tile server — here a small one started by the test,
// on its own port, so another origin than the app's — the page served
// carries the template, the Content-Security-Policy lets that origin's
// images in (and only those), and Leaflet draws its tiles under the
// boundaries, credited with `map_tiles_attribution`. Without it (every
// other test's server) the map draws boundaries alone.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as h from './helpers.mjs';

// A 1×1 PNG, grey: Leaflet stretches it over the tile's 256 px.
const TILE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==',
  'base64',
);
const CREDIT = 'نقشهٔ پایه © آزمون';

/** Tile requests the tile server has answered, as `z/x/y`. */
const served = [];
const tiles = createServer((req, res) => {
  const match = req.url.match(/^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/);
  if (!match) {
    res.writeHead(404).end();
    return;
  }
  served.push(match.slice(1).join('/'));
  res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }).end(TILE);
});
after(() => tiles.close());

const s = h.suite('atlas-basemap', {
  async env() {
    await new Promise((resolve) => tiles.listen(0, '127.0.0.1', resolve));
    const { port } = tiles.address();
    return {
      KUDAKYAR_MAP_TILES: `http://127.0.0.1:${port}/tiles/{z}/{x}/{y}.png`,
      KUDAKYAR_MAP_TILES_ATTRIBUTION: CREDIT,
    };
  },
});

test('the configured basemap\'s tiles load on the atlas map under the CSP, credited', () =>
  h.withPhone(s, async ({ page, problems }) => {
    const { port } = tiles.address();
    await page.goto(`${s.server.url}/atlas`);
    await page.locator('#atlas-map .leaflet-tile-loaded').first().waitFor({ timeout: 30_000 });
    const state = await page.evaluate(() => {
      const map = document.getElementById('atlas-map');
      const tile = map.querySelector('.leaflet-tile-loaded');
      return {
        src: tile.getAttribute('src'),
        width: tile.naturalWidth,
        loaded: map.querySelectorAll('.leaflet-tile-loaded').length,
        attribution: map.querySelector('.leaflet-control-attribution')?.textContent ?? '',
        meta: document.querySelector('meta[name=kudakyar-tiles]').content,
      };
    });
    assert.match(state.src, new RegExp(`^http://127\\.0\\.0\\.1:${port}/tiles/\\d+/\\d+/\\d+\\.png$`));
    assert.equal(state.width, 1, 'the tile image decoded');
    assert.ok(state.loaded >= 4, `${state.loaded} tiles drawn`);
    assert.ok(served.length >= state.loaded, `${served.length} served`);
    assert.ok(state.attribution.includes(CREDIT), state.attribution);
    assert.equal(state.meta, `http://127.0.0.1:${port}/tiles/{z}/{x}/{y}.png`);
    await h.screenshot(page, 'atlas-basemap');
    // No image of another origin is let in: the policy names the tile server only.
    const policy = (await fetch(`${s.server.url}/`)).headers.get('content-security-policy');
    assert.match(policy, new RegExp(`img-src 'self' data: blob: http://127\\.0\\.0\\.1:${port};`));
    // A fresh server has no hot-spot run to show (the screen says so).
    h.assertNoProblems(problems, /atlas\/hotspots/);
  }));
