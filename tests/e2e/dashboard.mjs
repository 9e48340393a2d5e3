// End-to-end test of the dashboard in headless Chromium: the numbers the
// page shows equal what MySQL holds for the same range, and they follow
// new events through `adtally import` and `adtally process`. Prints PASS
// and FAIL lines; run by tests/integration/test_serve_e2e.sh, which starts
// `adtally serve` and exports BASE_URL, ADTALLY, ARTIFACTS and the MySQL
// settings.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'web/package.json'));
const { chromium } = require('playwright-core');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE_URL = env('BASE_URL');
const ADTALLY = env('ADTALLY');
const ARTIFACTS = env('ARTIFACTS');

let failed = 0;
const pass = (name) => console.log(`PASS ${name}`);
const fail = (name, why) => {
  console.log(`FAIL ${name}: ${why}`);
  failed = 1;
};
const check = (name, got, want) => {
  if (got === want) pass(name);
  else fail(name, `got '${got}', expected '${want}'`);
};

// One row of a query on the test database, as strings.
function sqlRow(query) {
  const args = ['-h', env('MYSQL_HOST'), '-P', env('MYSQL_PORT'), '-uroot',
    '-N', '-B', env('MYSQL_DB'), '-e', query];
  const out = execFileSync('mariadb', args, { encoding: 'utf8' });
  return out.replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
}

// The hour range as an SQL condition written independently of the API's:
// the hour's timestamp between the two ends.
function hourCond(from, to, extra = '', t = '') {
  const ts = (h) => `'${h.slice(0, 10)} ${h.slice(11, 13)}:00:00'`;
  return `TIMESTAMP(${t}dates) + INTERVAL ${t}hours HOUR`
    + ` BETWEEN ${ts(from)} AND ${ts(to)}${extra}`;
}

function expectedKpis(from, to, extra = '') {
  const [r] = sqlRow(`SELECT SUM(impressions), SUM(clicks), SUM(spend_hour),
    SUM(conversion), SUM(qualified_application), SUM(disqualified_application)
    FROM events WHERE ${hourCond(from, to, extra)}`);
  const n = r.map((v) => (v === 'NULL' ? 0 : Number(v)));
  const div = (a, b) => (b === 0 ? null : a / b);
  return {
    impressions: n[0],
    clicks: n[1],
    ctr: div(n[1], n[0]),
    spend: n[2],
    avg_cpc: div(n[2], n[1]),
    conversions: n[3],
    cost_per_conversion: div(n[2], n[3]),
    qualified: n[4],
    disqualified: n[5],
    qualified_rate: div(n[4], n[4] + n[5]),
  };
}

// What a person reads: counts with thousands separators, money with two
// decimals, rates as percentages with two decimals; a dash for none.
function shown(kind, v) {
  if (v === null) return '—';
  const f = (x, d) => x.toLocaleString('en-US', { minimumFractionDigits: d,
    maximumFractionDigits: d });
  if (kind === 'money') return f(v, 2);
  if (kind === 'pct') return `${f(v * 100, 2)}%`;
  return f(v, 0);
}

const KINDS = { impressions: 'int', clicks: 'int', ctr: 'pct', spend: 'money',
  avg_cpc: 'money', conversions: 'int', cost_per_conversion: 'money',
  qualified: 'int', disqualified: 'int', qualified_rate: 'pct' };

const RATIOS = new Set(['ctr', 'avg_cpc', 'cost_per_conversion',
  'qualified_rate']);

async function pageKpis(page) {
  return page.$$eval('.kpi', (els) => Object.fromEntries(els.map((el) => {
    const v = el.querySelector('.value');
    return [el.dataset.kpi, { value: v.dataset.value, text: v.textContent }];
  })));
}

// The page's KPIs against MySQL: the raw value within rounding of the
// API (6 decimals for rates, 4 for money) and the text exactly.
async function compareKpis(page, label, extra = '') {
  const range = await page.$eval('#range', (el) => ({ ...el.dataset }));
  const want = expectedKpis(range.from, range.to, extra);
  const got = await pageKpis(page);
  const bad = [];
  for (const [name, kind] of Object.entries(KINDS)) {
    const g = got[name];
    const w = want[name];
    const tol = kind === 'pct' ? 1e-6 : kind === 'money' ? 1e-4 : 0;
    const gv = g.value === '' ? null : Number(g.value);
    const off = w === null ? gv !== null
      : gv === null || Math.abs(gv - w) > tol + 1e-9;
    if (off) {
      bad.push(`${name} value ${g.value} != ${w}`);
    }
    // Sums are exact; a ratio is shown from the API's rounded value,
    // which was checked against MySQL's just above.
    const ws = shown(kind, RATIOS.has(name) ? gv : w);
    if (g.text !== ws) bad.push(`${name} shows '${g.text}', expected '${ws}'`);
  }
  if (bad.length) fail(label, bad.join('; '));
  else pass(label);
  return { range, want };
}

async function waitLoaded(page, after = 0) {
  await page.waitForFunction(
    (n) => Number(document.body.dataset.loaded || 0) > n,
    after, { timeout: 20000 });
  return page.evaluate(() => Number(document.body.dataset.loaded));
}

// Five clicks at 1.25 and two page views in the range's last hour, on a
// job of the real log, through the real path: import, then process.
function feedEvents(toHour, dir) {
  const ts = `${toHour.slice(0, 10)} ${toHour.slice(11, 13)}:30:00`;
  const lines = [];
  const nonce = Date.now().toString(36);
  for (let i = 0; i < 5; i++) {
    lines.push(JSON.stringify({ ts, job_id: 188, publisher_id: 1,
      custom_track: 'click', bid: '1.25', uid: `e2e-${nonce}-${i}` }));
  }
  for (let i = 0; i < 2; i++) {
    lines.push(JSON.stringify({ ts, job_id: 188, publisher_id: 1,
      uid: `e2e-${nonce}-v${i}` }));
  }
  const file = join(dir, 'more.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);
  execFileSync(ADTALLY, ['import', file],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  // A busy broker can answer "not leader" for a moment: try a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync(ADTALLY, ['process', '--drain', '--status-interval', '0'],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
      execFileSync('sleep', ['2']);
    }
  }
}

function shoot(page, name) {
  return page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

async function run() {
  const profile = mkdtempSync(join(tmpdir(), 'adtally-e2e-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const problems = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });

    await page.goto(`${BASE_URL}/?refresh=1`);
    let gen = await waitLoaded(page);
    pass('page_loads_and_fetches_data');
    check('page_title', await page.title(), 'adtally — live job-ad dashboard');

    const { range, want } = await compareKpis(page, 'kpis_shown_equal_mysql');
    check('range_is_latest_24_hours', await page.$eval('#range',
      (el) => el.textContent.includes('24 h')), true);
    const series = await page.$eval('#series', (el) => ({ ...el.dataset }));
    check('series_has_every_hour', series.points, '24');
    check('series_clicks_add_up_to_kpi', Number(series.clicks), want.clicks);

    const topCampaigns = await page.$$eval('.top[data-dim="campaign"] tbody tr',
      (trs) => trs.map((tr) => [tr.dataset.id,
        tr.querySelector('.name').textContent, tr.dataset.value]));
    const sqlTop = sqlRow(`SELECT e.campaign_id, COALESCE(MAX(c.campaign_name),
      CONCAT('#', e.campaign_id)), SUM(e.spend_hour) AS s FROM events e
      LEFT JOIN campaign c ON c.id = e.campaign_id
      WHERE ${hourCond(range.from, range.to, '', 'e.')}
      GROUP BY e.campaign_id ORDER BY s DESC, e.campaign_id LIMIT 10`);
    check('top_campaigns_names_and_spend_equal_mysql',
      JSON.stringify(topCampaigns.map(([id, n, v]) => [id, n, Number(v)])),
      JSON.stringify(sqlTop.map(([id, n, v]) => [id, n, Number(v)])));
    await shoot(page, 'serve-dashboard.png');

    // New events arrive: the page follows without a reload.
    const before = await pageKpis(page);
    feedEvents(range.to, profile);
    await page.waitForFunction((c) => {
      const v = document.querySelector('.kpi[data-kpi="clicks"] .value');
      return v && Number(v.dataset.value) === c;
    }, Number(before.clicks.value) + 5, { timeout: 30000 }).then(
      () => pass('page_shows_new_clicks_without_reload'),
      () => fail('page_shows_new_clicks_without_reload',
        `clicks stayed at ${before.clicks.value}, expected `
        + `${Number(before.clicks.value) + 5}`));
    gen = await waitLoaded(page,
      await page.evaluate(() => Number(document.body.dataset.loaded)));
    const after = await compareKpis(page, 'kpis_after_new_events_equal_mysql');
    check('spend_grew_by_the_new_clicks',
      Math.round((after.want.spend - want.spend) * 1e4), 62500);
    await shoot(page, 'serve-dashboard-after.png');

    // A click on a campaign filters everything by it.
    const first = await page.$(
      '.top[data-dim="campaign"] tbody tr .name button');
    const id = await first.evaluate((b) => b.closest('tr').dataset.id);
    await first.click();
    await page.waitForSelector(`.chip[data-dim="campaign"]`);
    await waitLoaded(page, gen + 1);
    check('filter_is_in_the_address',
      new URL(page.url()).searchParams.get('campaign'), id);
    await compareKpis(page, 'filtered_kpis_equal_mysql',
      ` AND campaign_id = ${Number(id)}`);
    await shoot(page, 'serve-dashboard-filtered.png');

    // A bad range typed by hand shows the API's message and keeps going.
    await page.fill('#from', '2022-07-20T10');
    await page.fill('#to', '2022-07-20T09');
    await page.click('#range-form button[type="submit"]');
    await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
    check('api_error_is_shown',
      await page.$eval('#error', (el) => el.textContent),
      'The API said: from is after to');
    problems.splice(0, problems.length,
      ...problems.filter((p) => !p.includes('400 (Bad Request)')));
    if (problems.length) fail('no_console_errors', problems.join(' | '));
    else pass('no_console_errors');
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

run().then(() => process.exit(failed), (e) => {
  fail('e2e_run', e.stack || String(e));
  process.exit(1);
});
