// The quarterly report (`kudakyar report quarterly`, server/src/indicators/
// report.rs) as Chromium draws it: the page of Tehran province (IR-23) for the
// last quarter on the demo data, which the server's test
// `indicators::on_the_demo_data_each_role_sees_the_programme` writes to
// target/test-artifacts/quarterly-report-IR-23.html (or KUDAKYAR_QUARTERLY_HTML),
// opened as a file at A4 portrait width. Checks what a string search cannot:
// the page asks for nothing beyond its own file (it must open offline), lays
// out right to left with its Persian title, every chart is drawn with its
// bars inside the page, tables fit the page width; then saves a full-page
// screenshot (tests/artifacts/browser/quarterly-report-IR-23.png). Skipped,
// saying so, when the report has not been written (run the server's tests
// first).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as h from './helpers.mjs';

const HTML =
  process.env.KUDAKYAR_QUARTERLY_HTML
  || join(h.REPO_ROOT, 'target', 'test-artifacts', 'quarterly-report-IR-23.html');

test('the quarterly report opens in a browser, self-contained and right to left', { skip: !existsSync(HTML) && `no ${HTML}: run \`cargo test -p kudakyar --test it indicators::on_the_demo_data\` first` }, async () => {
  const browser = await h.launchBrowser();
  try {
    // A4 portrait at 96 dpi: 210 mm wide.
    const context = await browser.newContext({ viewport: { width: 794, height: 1123 } });
    const page = await context.newPage();
    const url = pathToFileURL(HTML).href;
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    assert.deepEqual(requests.filter((r) => r !== url), [], 'nothing beyond the file itself');
    assert.deepEqual(errors, []);
    const drawn = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const charts = [...document.querySelectorAll('svg')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const bars = [...svg.querySelectorAll('rect')].filter((r) => r.getBoundingClientRect().width > 0);
        return {
          inside: box.width > 0 && box.left >= -1 && box.right <= width + 1,
          bars: bars.length,
          barsInside: bars.every((b) => {
            const r = b.getBoundingClientRect();
            return r.left >= box.left - 1 && r.right <= box.right + 1;
          }),
        };
      });
      const tables = [...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right <= width + 1);
      return {
        lang: document.documentElement.lang,
        direction: getComputedStyle(document.body).direction,
        title: document.querySelector('h1').textContent,
        sections: document.querySelectorAll('section h2').length,
        charts,
        tables,
        scrollsSideways: document.documentElement.scrollWidth > width + 1,
        persianDigits: /[۰-۹]/.test(document.body.textContent),
        shown: [...document.querySelectorAll('td')].filter((td) => /[۰-۹]/.test(td.textContent)).length,
      };
    });
    assert.equal(drawn.lang, 'fa');
    assert.equal(drawn.direction, 'rtl');
    assert.match(drawn.title, /گزارش فصلی/);
    assert.ok(drawn.sections >= 9, `${drawn.sections} sections`);
    assert.ok(drawn.charts.length >= 4, `${drawn.charts.length} charts`);
    for (const [k, c] of drawn.charts.entries()) {
      assert.ok(c.inside, `chart ${k} inside the page`);
      assert.ok(c.barsInside, `chart ${k}'s bars inside the chart`);
    }
    assert.ok(drawn.charts.some((c) => c.bars > 0), 'some bars drawn (figures not all suppressed)');
    assert.ok(drawn.tables.every(Boolean), 'every table fits the page width');
    assert.ok(!drawn.scrollsSideways, 'no sideways scrolling');
    assert.ok(drawn.persianDigits);
    assert.ok(drawn.shown >= 10, `${drawn.shown} figures shown in Persian digits`);
    await h.screenshot(page, 'quarterly-report-IR-23');
  } finally {
    await browser.close();
  }
});
