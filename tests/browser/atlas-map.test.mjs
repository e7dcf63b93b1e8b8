// The printable atlas map (server/src/atlas/svg.rs) as Chromium draws it:
// the SVG of Tehran province's counties that the server's test
// `atlas_svg::tehran_province_map_is_written_for_print` writes to
// target/test-artifacts/atlas-IR-23.svg (or KUDAKYAR_ATLAS_SVG), opened as a
// file at A4 landscape size. Checks what a parser cannot: every county is
// painted inside the page, the Persian title and legend lay out right to
// left, and the hatch pattern resolves; then saves a screenshot
// (tests/artifacts/browser/atlas-IR-23.png). Skipped, saying so, when the
// SVG has not been written (run the server's tests first).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as h from './helpers.mjs';

const SVG =
  process.env.KUDAKYAR_ATLAS_SVG || join(h.REPO_ROOT, 'target', 'test-artifacts', 'atlas-IR-23.svg');

test('the printable map of a province opens in a browser', { skip: !existsSync(SVG) && `no ${SVG}: run \`cargo test -p kudakyar --test it atlas_svg::\` first` }, async () => {
  const browser = await h.launchBrowser();
  try {
    // A4 landscape at 96 dpi: 297 × 210 mm.
    const context = await browser.newContext({ viewport: { width: 1123, height: 794 } });
    const page = await context.newPage();
    await page.goto(pathToFileURL(SVG).href);
    const drawn = await page.evaluate(() => {
      const svg = document.documentElement;
      const page = svg.getBoundingClientRect();
      const counties = [...document.querySelectorAll('path[data-code]')].map((p) => {
        const b = p.getBoundingClientRect();
        return {
          code: p.dataset.code,
          fill: getComputedStyle(p).fill,
          inside: b.width > 0 && b.height > 0 && b.left >= page.left - 1 && b.right <= page.right + 1
            && b.top >= page.top - 1 && b.bottom <= page.bottom + 1,
        };
      });
      const title = document.querySelector('svg > text');
      const legend = document.getElementById('legend');
      return {
        counties,
        titleDirection: getComputedStyle(title).direction,
        legendRows: legend.querySelectorAll('rect').length,
        legendRight: legend.getBoundingClientRect().right,
        pageRight: page.right,
        attribution: [...document.querySelectorAll('text')].some((t) => t.textContent === '© OpenStreetMap contributors'),
      };
    });
    assert.ok(drawn.counties.length >= 10, `${drawn.counties.length} counties`);
    for (const c of drawn.counties) assert.ok(c.inside, `${c.code} painted inside the page`);
    assert.ok(drawn.counties.some((c) => c.fill.includes('url(')), 'a suppressed county is hatched');
    assert.equal(drawn.titleDirection, 'rtl');
    assert.equal(drawn.legendRows, 6, 'four classes, suppressed, no data');
    assert.ok(drawn.pageRight - drawn.legendRight < drawn.pageRight * 0.1, 'the legend stands at the right');
    assert.ok(drawn.attribution);
    // The viewport is the page; a full-page screenshot of a bare SVG
    // document never settles in Chromium.
    mkdirSync(h.ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(h.ARTIFACTS, 'atlas-IR-23.png') });
  } finally {
    await browser.close();
  }
});
