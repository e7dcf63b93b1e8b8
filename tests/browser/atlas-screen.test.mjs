// The provincial staff's atlas and indicators screens in the worker PWA
// (issue 20), in a real browser on a 360×640 phone in Persian: with the OSM
// boundaries of ../shared/geo/iran imported and a small demo seed (`kudakyar
// demo seed`, then the atlas rollups, the hot-spot run and the indicators
// computed as the nightly jobs would), Tehran's staff member (IR-23) opens
// «اطلس» from the bottom bar: the map draws Tehran's county polygons, the
// hex heat map and the hot spots (counted from the layers' <path>s, checked
// against what the API gives the same user), the zoning legend, the
// attribution of the OSM boundaries and a trend chart; no county of another
// province is drawn, although the national admin's map has them; a CSV is
// downloaded. Then the indicators screen shows figures (or «suppressed»)
// and the quarterly report downloads. A screenshot of each screen goes to
// tests/artifacts/browser/. Nothing the CSP refuses, no console error.
//
// Skipped, saying so, without ../shared/geo/iran.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as h from './helpers.mjs';

const GEO = join(h.REPO_ROOT, '..', 'shared', 'geo', 'iran');
const HAVE_GEO = existsSync(join(GEO, 'provinces.geojson'));
const STAFF = 'demo-ir-23-staff';
const ADMIN = 'demo-admin';
const PASSWORD = 'kudakyar-demo-1404';
const FA = {
  atlas: 'اطلس',
  atlasTitle: 'اطلس حضور',
  indicators: 'شاخص\u200cهای برنامه',
  attribution: '© OpenStreetMap contributors',
  csv: 'جدول (CSV)',
  svg: 'نقشهٔ چاپی (SVG)',
  report: 'دریافت گزارش فصلی',
  suppressed: 'کمتر از ۵ (پنهان)',
};

const s = HAVE_GEO
  ? h.suite('atlas-screen', {
    // Small, so the test stays quick: every province, the counties of
    // Tehran and its neighbour Alborz (enough to tell one province's from
    // another's), a demo seed big enough for every layer and for the
    // hot-spot run's minimums (10 weeks, 60 events), and the indicators of
    // the last days only.
    async prepare(run) {
      const counties = mkdtempSync(join(tmpdir(), 'kudakyar-counties-'));
      for (const p of ['IR-23', 'IR-30']) copyFileSync(join(GEO, 'counties', `${p}.geojson`), join(counties, `${p}.geojson`));
      run(['geo', 'import', '--provinces', join(GEO, 'provinces.geojson'), '--counties', counties]);
      rmSync(counties, { recursive: true, force: true });
      run(['demo', 'seed', '--children', '120', '--encounters', '1500', '--reports', '300', '--seed', '20']);
      run(['atlas', 'rebuild']);
      run(['atlas', 'hotspots']);
      const from = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
      run(['indicators', 'rebuild', '--from', from]);
    },
  })
  : null;

async function api(token, path) {
  const res = await fetch(`${s.server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

/** The map's layers as the page holds them. */
function mapState(page) {
  return page.evaluate(() => {
    const map = document.getElementById('atlas-map');
    const paths = (cls) => [...map.querySelectorAll(`path.${cls}`)].map((p) => ({ ...p.dataset }));
    return {
      counted: { counties: map.dataset.counties, hexes: map.dataset.hexes, hotspots: map.dataset.hotspots },
      counties: paths('atlas-county'),
      hexes: paths('atlas-hex'),
      hotspots: paths('atlas-hotspot'),
      attribution: map.querySelector('.leaflet-control-attribution')?.textContent ?? '',
      legend: [...document.querySelectorAll('.legend li')].map((li) => li.dataset.class),
      trendBars: document.querySelectorAll('svg.trend rect').length,
      hotspotRows: [...document.querySelectorAll('.hotspots li')].map((li) => li.textContent),
      hotspotStatus: document.querySelector('[aria-labelledby=hotspots-title] [role=status]')?.textContent ?? null,
      width: document.documentElement.scrollWidth,
    };
  });
}

test('Tehran\'s staff see Tehran\'s atlas, layers, legend and trend, and nothing of another province', { skip: !HAVE_GEO && `no ${GEO}` }, async () => {
  const staffToken = await h.apiLogin(s.server, STAFF, PASSWORD);
  const adminToken = await h.apiLogin(s.server, ADMIN, PASSWORD);
  // What the API gives each: the staff member Tehran's counties only.
  const mine = await api(staffToken, '/api/v1/atlas/choropleth?level=county');
  assert.equal(mine.status, 200);
  const myHexes = await api(staffToken, '/api/v1/atlas/hexes?res=7&measure=children');
  assert.equal(myHexes.status, 200);
  const all = await api(adminToken, '/api/v1/atlas/choropleth?level=county');
  const provinces = new Set(all.body.features.map((f) => f.properties.province));
  assert.ok(provinces.size > 1, 'the national map has several provinces, so scope can show');
  assert.ok(mine.body.features.length >= 10, `${mine.body.features.length} Tehran counties`);

  await h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, STAFF, PASSWORD);
    await page.getByRole('navigation').getByRole('link', { name: FA.atlas, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: FA.atlasTitle }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/atlas');
    await page.waitForFunction(() => {
      const map = document.getElementById('atlas-map');
      // Hexes > 0, not merely set: a draw started before the user's area
      // was known may set the layer first and be replaced.
      return map?.dataset.counties > 0 && map.dataset.hexes > 0 && map.dataset.hotspots !== undefined;
    }, null, { timeout: 60_000 });
    await page.locator('.legend li').first().waitFor();
    await page.locator('svg.trend').waitFor();
    const state = await mapState(page);

    // The county polygons: every one of the API's, all in Tehran.
    assert.equal(state.counties.length, mine.body.features.length);
    assert.equal(Number(state.counted.counties), state.counties.length);
    assert.deepEqual(
      state.counties.map((c) => c.code).sort(),
      mine.body.features.map((f) => f.properties.code).sort(),
    );
    for (const c of state.counties) assert.equal(c.province, 'IR-23', `${c.code} is Tehran's`);
    assert.ok(state.counties.some((c) => ['low', 'medium', 'high', 'critical'].includes(c.class)), 'classes drawn');
    // The hexes: the API's cells of the user's scope (Tehran), each once.
    assert.ok(state.hexes.length > 0, 'hexes drawn');
    assert.equal(Number(state.counted.hexes), state.hexes.length);
    assert.deepEqual(state.hexes.map((x) => x.cell).sort(), myHexes.body.cells.slice().sort());
    // The zoning legend: four classes, then hidden and no data.
    assert.deepEqual(state.legend, ['low', 'medium', 'high', 'critical', 'suppressed', 'no-data']);
    assert.ok(state.attribution.includes(FA.attribution), state.attribution);
    assert.ok(state.trendBars >= 12, `${state.trendBars} months`);
    // Hot spots: drawn as counted on the list, or the reason there are none.
    const listed = state.hotspotRows.length;
    assert.ok(listed > 0 || state.hotspotStatus, 'hot spots listed or explained');
    if (listed > 0) {
      assert.ok(state.hotspots.length > 0, 'hot-spot cells drawn');
      assert.ok(state.hotspotRows.every((r) => /نقطهٔ (داغ|سرد)/.test(r)), state.hotspotRows.join(' | '));
    }
    assert.ok(state.width <= 360, `fits the phone: ${state.width}px`);
    // Seven sections in the bar, each on the screen and its label inside it.
    const tabs = await page.locator('nav.tabs a').evaluateAll((as) => as.map((a) => {
      const r = a.getBoundingClientRect();
      return { text: a.textContent, fits: a.scrollWidth <= a.clientWidth + 1 && r.left >= 0 && r.right <= innerWidth + 1 };
    }));
    assert.equal(tabs.length, 7);
    assert.deepEqual(tabs.filter((t) => !t.fits), [], 'every tab label fits');

    // Nothing of another province reaches this user: another province's
    // series is not found, and its counties never come.
    assert.equal((await api(staffToken, '/api/v1/atlas/timeseries?area=IR-07')).status, 404);
    const other = all.body.features.find((f) => f.properties.province !== 'IR-23');
    assert.ok(!state.counties.some((c) => c.code === other.properties.code));

    // A filter redraws: only girls.
    await page.getByLabel('جنس', { exact: true }).selectOption('female');
    await page.getByRole('button', { name: 'نمایش', exact: true }).click();
    await page.waitForFunction(() => document.getElementById('atlas-map').getAttribute('aria-busy') === 'false');

    // A download: the table of counties, with the bearer token.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: FA.csv, exact: true }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\ufeffcode,province,name_fa'), csv.slice(0, 80));
    assert.ok(csv.split('\n').slice(1).filter(Boolean).every((row) => row.split(',')[1] === 'IR-23'));
    // The printable map: Tehran's counties as the server zones them, an
    // SVG that opens in the browser (its screenshot is an artifact).
    const [printable] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: FA.svg, exact: true }).click(),
    ]);
    const svg = readFileSync(await printable.path(), 'utf8');
    assert.ok(svg.includes('استان تهران'), svg.slice(0, 400));
    assert.equal((svg.match(/<path data-code=/g) ?? []).length, state.counties.length, 'every county printed');
    const printed = join(h.ARTIFACTS, 'atlas-print-IR-23.svg');
    copyFileSync(await printable.path(), printed);
    const sheet = await page.context().newPage();
    await sheet.goto(`file://${printed}`);
    assert.equal(await sheet.locator('svg path[data-code]').count(), state.counties.length);
    await sheet.screenshot({ path: join(h.ARTIFACTS, 'atlas-print-IR-23.png') });
    await sheet.close();
    await h.screenshot(page, 'atlas-screen-IR-23');
    await page.locator('#atlas-map').screenshot({ path: join(h.ARTIFACTS, 'atlas-map-IR-23.png') });
    h.assertNoProblems(problems);
  }, { login: false });
});

test('opened by its address, the atlas preloads its files and fetches each once', { skip: !HAVE_GEO && `no ${GEO}` }, async () => {
  await h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, STAFF, PASSWORD);
    const requested = new Map();
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.origin === s.server.url) requested.set(url.pathname, (requested.get(url.pathname) ?? 0) + 1);
    });
    await page.goto(`${s.server.url}/atlas`);
    await page.waitForFunction(() => document.getElementById('atlas-map')?.dataset.hexes > 0, null, { timeout: 60_000 });
    const preloaded = await page.evaluate(() => [...document.querySelectorAll('link[rel=preload], link[rel=modulepreload]')]
      .map((l) => new URL(l.href).pathname));
    // The shell's own two, and the atlas's: its chunks, texts, map module,
    // Leaflet and stylesheet.
    assert.ok(preloaded.some((p) => p.startsWith('/atlas/map-')), preloaded.join(' '));
    assert.ok(preloaded.some((p) => p.startsWith('/atlas/leaflet-')), preloaded.join(' '));
    assert.ok(preloaded.some((p) => p.startsWith('/texts-')), preloaded.join(' '));
    assert.ok(preloaded.filter((p) => p.endsWith('.wasm')).length >= 3, preloaded.join(' '));
    // Each used as it was preloaded: a preload the code's own request does
    // not match would be fetched a second time.
    const twice = preloaded.filter((p) => requested.get(p) !== 1).map((p) => `${p}: ${requested.get(p) ?? 0}`);
    assert.deepEqual(twice, [], 'each preloaded file fetched exactly once');
    // The first map's figures, asked for by the shell while the screen's
    // code loads, are the ones the screen draws: asked for once each.
    for (const path of ['/api/v1/atlas/choropleth', '/api/v1/atlas/hexes']) {
      assert.equal(requested.get(path), 1, path);
    }
    h.assertNoProblems(problems);
  }, { login: false });
});

test('a first visit to the atlas keeps the link for its map: the service worker, the working set and the font wait for it', { skip: !HAVE_GEO && `no ${GEO}` }, async () => {
  // A phone that has never loaded the app (no service worker, no cache)
  // with the session already stored, as after a login on the device.
  const token = await h.apiLogin(s.server, STAFF, PASSWORD);
  const user = (await h.apiMe(s.server, token)).body;
  await h.withPhone(s, async ({ page, problems }) => {
    await page.addInitScript(([key, value]) => {
      if (!localStorage.getItem(key)) localStorage.setItem(key, value);
      // When the service worker is registered, and when the first hex is on the map.
      const workers = navigator.serviceWorker;
      const register = workers.register.bind(workers);
      workers.register = (...args) => {
        window.registeredAt ??= performance.now();
        return register(...args);
      };
      new MutationObserver((_, observer) => {
        if (document.querySelector('path.atlas-hex')) {
          window.firstHexAt = performance.now();
          // Drawn before the app ran: in the first map's own box, with
          // the app's page not yet mounted.
          window.firstHexBeforeApp = !!document.querySelector('.atlas-first path.atlas-hex')
            && !document.getElementById('atlas-map');
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    }, ['kudakyar.session.v1', JSON.stringify({ token, user })]);
    // The app's wasm slow to come, as on a slow link, where the map's few
    // files and answers come first.
    await page.route(/\.wasm$/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    await page.goto(`${s.server.url}/atlas`);
    await page.waitForFunction(() => window.registeredAt !== undefined, null, { timeout: 60_000 });
    // When requests to paths matching `pattern` started (ms). Functions
    // with arguments, never strings: the page's CSP forbids eval.
    const starts = (pattern) => performance.getEntriesByType('resource')
      .filter((e) => new RegExp(pattern).test(new URL(e.name).pathname))
      .map((e) => e.startTime);
    const WORKSET = '^/api/v1/children$';
    const FONT = '^/fonts/vazirmatn-';
    await page.waitForFunction((pattern) => performance.getEntriesByType('resource')
      .some((e) => new RegExp(pattern).test(new URL(e.name).pathname)), WORKSET, { timeout: 30_000 });
    await page.waitForFunction(() => [...document.fonts].some((f) => f.family === 'Vazirmatn' && f.status === 'loaded'), null, { timeout: 30_000 });
    const at = {
      ...(await page.evaluate(() => ({ hex: window.firstHexAt, registered: window.registeredAt }))),
      workset: await page.evaluate(starts, WORKSET),
      font: await page.evaluate(starts, FONT),
    };
    assert.ok(at.hex > 0, 'the first map has hexes');
    // The first map was drawn from boot.js's answers before the app, then
    // taken into the screen's box: one map, in the screen, with its layers.
    assert.equal(await page.evaluate(() => window.firstHexBeforeApp), true, 'the first hex drawn before the app');
    await page.waitForFunction(() => document.getElementById('atlas-map')?.dataset.hexes > 0, null, { timeout: 30_000 });
    const maps = await page.evaluate(() => ({
      all: document.querySelectorAll('.leaflet-container').length,
      inScreen: document.querySelectorAll('#atlas-map .leaflet-container, #atlas-map.leaflet-container').length,
      left: document.querySelectorAll('.atlas-first').length,
    }));
    assert.deepEqual(maps, { all: 1, inScreen: 1, left: 0 }, 'one map, in the screen');
    assert.ok(at.registered > at.hex, `service worker registered at ${at.registered} ms, first hex at ${at.hex} ms`);
    assert.ok(at.workset.every((start) => start > at.hex), `working set fetched at ${at.workset} ms, first hex at ${at.hex} ms`);
    assert.ok(at.font.length > 0 && at.font.every((start) => start > at.hex), `font fetched at ${at.font} ms, first hex at ${at.hex} ms`);
    // The worker is installed all the same, for the next visit offline; and
    // now that the phone has the font, the next page declares it at once.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload({ waitUntil: 'domcontentloaded' });
    assert.ok(await page.evaluate(() => [...document.fonts].some((f) => f.family === 'Vazirmatn')), 'the font declared before the app starts');
    h.assertNoProblems(problems);
  }, { login: false });
});

test('the triage map lies on the outlines of the supervisor\'s counties', { skip: !HAVE_GEO && `no ${GEO}` }, async () => {
  const supervisor = 'demo-ir-23-supervisor';
  const token = await h.apiLogin(s.server, supervisor, PASSWORD);
  const theirs = (await api(token, '/api/v1/atlas/choropleth?level=county')).body.features.map((f) => f.id).sort();
  assert.ok(theirs.length > 0);
  await h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, supervisor, PASSWORD);
    await page.goto(`${s.server.url}/triage`);
    const drawn = page.locator('#triage-map path.triage-county');
    await drawn.first().waitFor({ state: 'attached', timeout: 30_000 });
    const codes = await drawn.evaluateAll((paths) => paths.map((p) => p.dataset.code).sort());
    assert.deepEqual(codes, theirs, 'their counties, and no other');
    await page.locator('#triage-map path.triage-report').first().waitFor({ state: 'attached' });
    await h.screenshot(page, 'triage-map-outlines');
    h.assertNoProblems(problems);
  }, { login: false });
});

test('the indicators screen shows figures and the quarterly report downloads', { skip: !HAVE_GEO && `no ${GEO}` }, async () => {
  await h.withPhone(s, async ({ page, problems }) => {
    await h.loginAs(page, s.server, STAFF, PASSWORD);
    await page.goto(`${s.server.url}/indicators`);
    await page.getByRole('heading', { level: 1, name: FA.indicators }).waitFor();
    await page.locator('[data-indicator=reentry] tr[data-figure]').first().waitFor({ timeout: 30_000 });
    const shown = await page.evaluate(() => Object.fromEntries(
      [...document.querySelectorAll('[data-indicator]')].map((sec) => [
        sec.dataset.indicator,
        Object.fromEntries([...sec.querySelectorAll('tr[data-figure]')].map((tr) => [tr.dataset.figure, tr.querySelector('td').textContent])),
      ]),
    ));
    for (const name of ['centre_load', 'timeliness', 'reentry']) {
      assert.ok(Object.keys(shown[name] ?? {}).length > 0, `${name}: ${JSON.stringify(shown[name])}`);
    }
    // Each figure a Persian number, a percentage, or said to be hidden.
    for (const figures of Object.values(shown)) {
      for (const [figure, text] of Object.entries(figures)) {
        assert.match(text, /^([۰-۹]+(٫[۰-۹])?٪?|کمتر از ۵ \(پنهان\))$/, `${figure}: ${text}`);
      }
    }
    // The same figure as the API gives this user.
    const token = await h.apiLogin(s.server, STAFF, PASSWORD);
    const load = (await api(token, '/api/v1/indicators?indicator=centre_load')).body;
    const centres = load.items.find((i) => i.figure === 'centres' && i.area === load.area);
    const persian = (n) => String(n).replace(/\d/g, (d) => '۰۱۲۳۴۵۶۷۸۹'[d]);
    assert.equal(shown.centre_load.centres, centres.value === 'suppressed' ? FA.suppressed : persian(centres.value));
    // The cohorts' table.
    await page.locator('table[data-cohort] tr[data-outcome]').first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: FA.report, exact: true }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^report-IR-23-14\d\d-Q[1-4]\.html$/);
    const html = readFileSync(await download.path(), 'utf8');
    assert.ok(html.includes('<html lang="fa" dir="rtl">'));
    await h.screenshot(page, 'indicators-IR-23');
    h.assertNoProblems(problems);
  }, { login: false });
});
