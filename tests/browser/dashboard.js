/*
 * dashboard.js - the tlsflow dashboard in headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core).
 *
 *   node dashboard.js --url http://127.0.0.1:PORT --out DIR
 *
 * Loads every page, checks that the charts drew something (pixels on
 * their canvases), that the numbers shown equal the API's, that search,
 * sort, paging and the time range picker work, that no script error or
 * CSP violation happens and that data is never run as markup; saves a
 * screenshot of each page in DIR.  Prints "ok - ..." / "FAIL - ..." and
 * "N passed, N failed".
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const BASE = opt('--url', 'http://127.0.0.1:8025');
const OUT = opt('--out', 'tests/out/browser');
const TOKEN_URL = opt('--token-url', '');  /* a server with web_token_file */
const TOKEN = opt('--token', '');
let passed = 0, failed = 0;
const ok = (l) => { passed++; console.log('ok - ' + l); };
const fail = (l) => { failed++; console.log('FAIL - ' + l); };
const check = (l, got, want) => {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g === w) ok(l); else fail(`${l}: got ${g}, want ${w}`);
};
const pct = (x) => (x === null || x === undefined ? '–' : (x * 100).toFixed(1) + '%');
const fmt = (n) => new Intl.NumberFormat('en-US').format(n);

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
      '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('dialog', async (d) => { problems.push('dialog opened: ' + d.message()); await d.dismiss(); });
  page.on('requestfailed', (r) => { if (!r.url().startsWith('blob:')) problems.push('request failed: ' + r.url()); });
  page.on('request', (r) => { if (!r.url().startsWith(BASE) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) problems.push('off-site request: ' + r.url()); });

  const api = (p) => page.evaluate(async (u) => (await fetch(u)).json(), '/api/v1/' + p);
  async function visit(hash, ready) {
    await page.evaluate(() => document.body && document.body.removeAttribute('data-ready')).catch(() => {});
    await page.goto(BASE + '/' + hash);
    await page.waitForSelector(`body[data-ready="${ready}"]`, { timeout: 30000 });
  }
  async function act(fn, ready) {
    await page.evaluate(() => document.body.removeAttribute('data-ready'));
    await fn();
    await page.waitForSelector(`body[data-ready="${ready}"]`, { timeout: 30000 });
  }
  /* Pixels that are not transparent on the chart's canvas. */
  async function inked(sel) {
    return page.evaluate((s) => {
      const c = document.querySelector(s + ' canvas');
      if (!c || !c.width || !c.height) return 0;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    }, sel);
  }
  async function shot(name) {
    await page.screenshot({ path: path.join(OUT, name + '.png'), fullPage: true });
    ok('screenshot ' + name + '.png');
  }
  const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());

  // ---- Overview --------------------------------------------------
  await visit('#/overview?range=30d', 'overview');
  let sum = await api('summary?range=30d');
  check('overview outbound share = API', await text('#kpi-outbound .value'), pct(sum.outbound.encrypted_share));
  check('overview inbound share = API', await text('#kpi-inbound .value'), pct(sum.inbound.encrypted_share));
  check('overview messages share = API', await text('#kpi-messages .value'), pct(sum.total.messages_encrypted_share));
  check('overview unknown shown apart = API', await text('#kpi-unknown .value'), fmt(sum.total.sessions.unknown));
  check('overview failures = API', await text('#kpi-failed .value'), fmt(sum.total.sessions.failed));
  check('overview totals in the subtitle', (await text('#subtitle')).startsWith(fmt(sum.total.sessions.total) + ' sessions'), true);
  (await inked('#chart-share')) > 500 ? ok('share chart drawn') : fail('share chart is empty');
  (await inked('#chart-volume')) > 500 ? ok('volume chart drawn') : fail('volume chart is empty');
  check('TLS version bars listed', (await page.$$('.versions .bars li')).length > 0, true);
  check('banner shown', await text('#banner'), 'Sample data: the numbers on this dashboard come from the web test data set');
  await shot('overview');

  // The time range picker.
  await act(() => page.click('#range button[data-range="7d"]'), 'overview');
  check('7 d button sets the hash', page.url().includes('range=7d'), true);
  sum = await api('summary?range=7d');
  check('7 d outbound share = API', await text('#kpi-outbound .value'), pct(sum.outbound.encrypted_share));
  check('7 d subtitle', (await text('#subtitle')).includes('last 7 days'), true);
  await act(() => page.click('#range button[data-range="24h"]'), 'overview');
  sum = await api('summary?range=24h');
  check('24 h total = API', (await text('#subtitle')).startsWith(fmt(sum.total.sessions.total) + ' sessions'), true);
  check('24 h button is on', await page.$eval('#range button[data-range="24h"]', (b) => b.classList.contains('on')), true);
  (await inked('#chart-volume')) > 100 ? ok('24 h hourly chart drawn') : fail('24 h chart is empty');
  await page.click('#range button[data-range="custom"]');
  const span = (await api('summary?range=1y')).range;
  await page.fill('#from', span.from);
  await page.fill('#to', span.to);
  await act(() => page.click('#custom button[type="submit"]'), 'overview');
  check('custom range in the hash', page.url().includes('from=' + span.from), true);
  sum = await api(`summary?from=${span.from}&to=${span.to}`);
  check('custom range outbound share = API', await text('#kpi-outbound .value'), pct(sum.outbound.encrypted_share));
  await act(() => page.click('#range button[data-range="1y"]'), 'overview');
  sum = await api('summary?range=1y');
  check('1 y outbound share = API', await text('#kpi-outbound .value'), pct(sum.outbound.encrypted_share));
  await shot('overview-1y');

  // ---- Domains ---------------------------------------------------
  await visit('#/domains?range=30d', 'domains');
  let dom = await api('domains?range=30d&limit=50');
  const rows = await page.$$eval('#domtable tbody tr', (trs) => trs.map((t) => t.getAttribute('data-key')));
  check('domain rows = API, in order', rows, dom.rows.map((r) => r.domain));
  const g = dom.rows.find((r) => r.domain === 'gmail.example');
  const cells = await page.$$eval('#domtable tr[data-key="gmail.example"] td', (tds) => tds.map((t) => t.textContent.trim()));
  check('gmail.example row numbers = API', [cells[1], cells[2], cells[3].replace(/\s+/g, ''), cells[4], cells[5], cells[6], cells[7]],
    [fmt(g.sessions), fmt(g.messages), pct(g.encrypted_share), pct(g.verified_share), fmt(g.plaintext), fmt(g.failed), fmt(g.unknown)]);
  check('pager', await text('#pageinfo'), `1–${dom.total} of ${dom.total}`);
  check('markup in data stays text', await page.$$eval('#domtable img, #domtable script', (e) => e.length), 0);
  check('the odd domain name is shown as text',
    await page.$$eval('#domtable td.domain', (tds) => tds.some((t) => t.textContent.includes('<img src=x onerror=alert(1)>'))), true);
  await shot('domains');
  // Sort by clicking a header, then again for the other order.
  await act(() => page.click('#domtable th[data-sort="domain"]'), 'domains');
  dom = await api('domains?range=30d&sort=domain');
  check('sort by domain = API', await page.$$eval('#domtable tbody tr', (t) => t.map((x) => x.getAttribute('data-key'))), dom.rows.map((r) => r.domain));
  await act(() => page.click('#domtable th[data-sort="domain"]'), 'domains');
  dom = await api('domains?range=30d&sort=domain&order=desc');
  check('sort by domain, descending = API', await page.$$eval('#domtable tbody tr', (t) => t.map((x) => x.getAttribute('data-key'))), dom.rows.map((r) => r.domain));
  await act(() => page.click('#domtable th[data-sort="plaintext"]'), 'domains');
  dom = await api('domains?range=30d&sort=plaintext');
  check('sort by plaintext = API', await page.$$eval('#domtable tbody tr', (t) => t.map((x) => x.getAttribute('data-key'))), dom.rows.map((r) => r.domain));
  // Search.
  await act(() => page.fill('#search', 'mail'), 'domains');
  dom = await api('domains?range=30d&sort=plaintext&q=mail');
  check('search = API', await page.$$eval('#domtable tbody tr', (t) => t.map((x) => x.getAttribute('data-key'))), dom.rows.map((r) => r.domain));
  check('search in the hash', page.url().includes('q=mail'), true);
  // Paging, with a page of 3 through the hash.
  await visit('#/domains?range=30d&page=2', 'domains');
  check('page 2 of one page shows nothing more', (await page.$$('#domtable tbody tr[data-key]')).length, 0);
  // MX hosts and the direction filter.
  await visit('#/domains?range=30d&group=mx&direction=outbound', 'domains');
  dom = await api('domains?range=30d&group=mx&direction=outbound');
  check('MX hosts = API', await page.$$eval('#domtable tbody tr', (t) => t.map((x) => x.getAttribute('data-key'))), dom.rows.map((r) => r.host));
  await shot('mx-hosts');
  // CSV export downloads the table.
  await visit('#/domains?range=30d', 'domains');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = fs.readFileSync(await dl.path(), 'utf8').trim().split('\n');
  dom = await api('domains?range=30d&limit=1000');
  check('CSV export has every row', csv.length - 1, dom.total);

  // ---- Domain detail -----------------------------------------------
  await act(() => page.click('#domtable tr[data-key="smallco.example"] a'), 'domain');
  check('detail title', await text('#title'), 'smallco.example');
  const det = await api('domains/smallco.example?range=30d');
  check('detail outbound share = API', await text('#kpi-outbound .value'), pct(det.summary.outbound.encrypted_share));
  check('detail hosts = API', (await page.$$('#hosts tbody tr')).length, det.hosts.length);
  check('detail failures = API', (await page.$$('#failures tbody tr')).length, Math.max(1, det.failures.length));
  (await inked('#chart-share')) > 200 ? ok('detail share chart drawn') : fail('detail share chart is empty');
  (await inked('#chart-volume')) > 200 ? ok('detail volume chart drawn') : fail('detail volume chart is empty');
  await shot('domain-detail');
  await visit('#/domain/gmail.example?range=7d', 'domain');
  const gd = await api('domains/gmail.example?range=7d');
  check('detail reports = API', (await page.$$('#reports tbody tr')).length, gd.reports.length);
  await shot('domain-detail-reports');

  // ---- Reports and Health -----------------------------------------------
  await visit('#/reports?range=30d', 'reports');
  const rep = await api('reports?range=30d&limit=50');
  check('report rows = API', (await page.$$('#reports tbody tr')).length, rep.rows.length);
  await act(() => page.selectOption('#state', 'failed'), 'reports');
  const repf = await api('reports?range=30d&state=failed&limit=50');
  check('delivery state filter = API', (await page.$$('#reports tbody tr')).length, Math.max(1, repf.rows.length));
  await visit('#/reports?range=30d', 'reports');
  await shot('reports');
  await visit('#/health', 'health');
  const hl = await api('health');
  check('collector rows = API', (await page.$$('#collectors tbody tr')).length, hl.collectors.length);
  check('range picker hidden on health', await page.$eval('#range', (e) => e.hidden), true);
  await shot('health');

  check('no script errors, CSP violations or off-site requests', problems, []);

  // ---- A server that wants a bearer token: the page asks for it -------
  if (TOKEN_URL) {
    const tp = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await tp.goto(TOKEN_URL + '/#/overview?range=30d');
    await tp.waitForSelector('#login:not([hidden])', { timeout: 30000 });
    ok('token server: the page asks for the token');
    await tp.screenshot({ path: path.join(OUT, 'token-login.png') });
    await tp.fill('#token', 'wrong-token');
    await tp.click('#login button[type="submit"]');
    await tp.waitForTimeout(1000);
    check('token server: a wrong token is asked again', await tp.$eval('#login', (e) => e.hidden), false);
    check('token server: and says it was not accepted', await tp.$eval('#login-error', (e) => e.hidden), false);
    await tp.fill('#token', TOKEN);
    await tp.evaluate(() => document.body.removeAttribute('data-ready'));
    await tp.click('#login button[type="submit"]');
    await tp.waitForSelector('body[data-ready="overview"]', { timeout: 30000 });
    const v = await tp.$eval('#kpi-outbound .value', (e) => e.textContent.trim());
    check('token server: the overview shows with the token', /%$/.test(v), true);
    await tp.close();
  }
  await browser.close();
}

main().catch((e) => { fail('the test stopped: ' + (e && e.stack ? e.stack : e)); })
  .finally(() => { console.log(`${passed} passed, ${failed} failed`); process.exit(failed ? 1 : 0); });
