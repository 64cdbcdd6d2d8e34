// The console that remembers: `iotplot serve -c` with logins (a password file and
// `pattern readwrite %u/#`), alice in chromium. Series stored before the page opens are
// listed from the broker's HTTP API (only alice's, not bob's), one is loaded into a live
// chart with its plot_series title and axis labels and keeps growing as rows arrive, and
// after a reload it is listed again. Numeric topics are charted from the message table
// and from the topic tree, two in one chart on a time axis; the topic tree shows a
// topic's last values; the message table exports to CSV. Charts are checked in their
// pixels (the plot area is drawn on, with the expected number of line colours), not only
// for being there. Each check prints "ok"/"FAIL"; the last line is "N passed, N failed".
// Environment: IOTPLOT_BIN, IOTPLOT_ARTIFACTS (screenshots folder), CHROMIUM.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, IOTPLOT_BIN, eventually, expectEq, results, run, start, tempDir, webRequire } from './fixtures.mjs';

const DEADLINE_MS = 150000;
const ARTIFACTS = process.env.IOTPLOT_ARTIFACTS || join(tmpdir(), 'iotplot-browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const USERS = { alice: 'alice pw', bob: 'b0b' };
// The first two colours of the charts' cycle (matplotlib's).
const LINE_COLORS = { '#1f77b4': [0x1f, 0x77, 0xb4], '#ff7f0e': [0xff, 0x7f, 0x0e] };

const errors = [];
const results_ = results('store test', DEADLINE_MS);
const { check } = results_;

function watch(page) {
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => !r.url().startsWith('blob:') && errors.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
}

async function tab(page, name) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#panel-${name}:not([hidden])`, { timeout: 5000 });
}

async function startServe(dir) {
  const pw = join(dir, 'passwd');
  for (const [name, password] of Object.entries(USERS)) {
    const create = name === 'alice' ? ['-c'] : [];
    const r = await run(IOTPLOT_BIN, ['passwd', ...create, '-b', '-I', '1000', pw, name, password]);
    if (r.code !== 0) throw new Error(`iotplot passwd: ${r.out}`);
  }
  writeFileSync(join(dir, 'acl'), 'pattern readwrite %u/#\n');
  const conf = join(dir, 'serve.conf');
  writeFileSync(conf, `allow_anonymous false\npassword_file ${pw}\nacl_file ${join(dir, 'acl')}\n` +
    `log_dest stdout\nlog_type all\nlistener 0 ${HOST}\nlistener 0 ${HOST}\nprotocol websockets\n`);
  const plots = join(dir, 'plots');
  const proc = start(IOTPLOT_BIN, ['serve', '-c', conf, '-d', plots], { cwd: dir });
  const ports = await eventually(() => {
    if (proc.exitCode !== null) throw new Error(`iotplot serve exited: ${proc.out}`);
    const found = Array.from(proc.out.matchAll(/Opening ipv4 listen socket on port (\d+)\./g), (m) => Number(m[1]));
    return found.length === 2 && /plot server attached/.test(proc.out) ? found : null;
  }, 'iotplot serve listening', 15000);
  return { proc, tcp: ports[0], ws: ports[1], plots };
}

/**
 * The pixels of a chart's canvas inside its plot area (uPlot's bbox): how many are not
 * the background, and how many are near each line colour.
 */
async function chartPixels(page, selector) {
  return page.evaluate(({ selector, colors }) => {
    const canvas = document.querySelector(`${selector} canvas`);
    const box = document.querySelector(`${selector} .u-over`);
    if (!canvas || !box) return null;
    const ctx = canvas.getContext('2d');
    const scale = canvas.width / canvas.getBoundingClientRect().width;
    const c = canvas.getBoundingClientRect();
    const o = box.getBoundingClientRect();
    const x = Math.round((o.left - c.left) * scale);
    const y = Math.round((o.top - c.top) * scale);
    const w = Math.round(o.width * scale);
    const h = Math.round(o.height * scale);
    const px = ctx.getImageData(x, y, w, h).data;
    const near = Object.fromEntries(Object.keys(colors).map((k) => [k, 0]));
    let drawn = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] === 0) continue; // transparent: the page's white shows through
      drawn++;
      for (const [name, [r, g, b]] of Object.entries(colors)) {
        if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 40) near[name]++;
      }
    }
    return { drawn, near, area: w * h };
  }, { selector, colors: LINE_COLORS });
}

/** Which line colours a chart shows (at least `min` pixels of each). */
function lineColors(pixels, min = 30) {
  return Object.entries(pixels.near).filter(([, n]) => n >= min).map(([name]) => name).sort();
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = tempDir('iotplot-store-');
  const serve = await startServe(dir);
  console.log(`iotplot serve: mqtt :${serve.tcp}, console :${serve.ws}, files in ${serve.plots}`);
  const pub = async (user, topic, message) => {
    const r = await run(IOTPLOT_BIN, ['pub', '-h', HOST, '-p', String(serve.tcp), '-u', user, '-P', USERS[user],
      '-q', '1', '-t', topic, '-m', message]);
    if (r.code !== 0) throw new Error(`iotplot pub as ${user} exited ${r.code}: ${r.out}`);
  };
  const pubLines = async (user, topic, lines) => {
    const r = await run(IOTPLOT_BIN, ['pub', '-h', HOST, '-p', String(serve.tcp), '-u', user, '-P', USERS[user],
      '-q', '1', '-t', topic, '-l'], { input: lines.join('\n') + '\n' });
    if (r.code !== 0) throw new Error(`iotplot pub -l as ${user} exited ${r.code}: ${r.out}`);
  };
  const auth = `Basic ${Buffer.from(`alice:${USERS.alice}`).toString('base64')}`;
  const storedRows = async () => {
    const r = await fetch(`http://${HOST}:${serve.ws}/api/rows?session=alice&name=wave&limit=1`,
      { headers: { Authorization: auth }, signal: AbortSignal.timeout(5000) });
    return r.ok ? (await r.json()).total : -1;
  };

  // Before any page: a series stored with its plot_series labels; one of bob's.
  const sine = (i) => `["wave", ${i}, ${Math.sin(i / 8).toFixed(6)}]`;
  await pub('alice', 'alice/new_series', '["wave", "t", "amplitude"]');
  await pubLines('alice', 'alice/data', Array.from({ length: 120 }, (_, i) => sine(i)));
  await pub('alice', 'alice/plot_series', '["wave", {"title": "Stored wave", "xlabel": "time [s]", "ylabel": "amplitude [V]"}]');
  // One column and no clock: its figure is drawn against arrival time, labelled in UTC.
  const levelFrom = Date.now() / 1000;
  await pub('alice', 'alice/new_series', '["level", "cm"]');
  await pubLines('alice', 'alice/data', Array.from({ length: 40 }, (_, i) => `["level", ${20 + (i % 7)}]`));
  await pub('alice', 'alice/plot_series', '["level", {"utc": true}]');
  const levelTo = Date.now() / 1000;
  await pub('bob', 'bob/new_series', '["bobs", "x", "y"]');
  await pub('bob', 'bob/data', '["bobs", 1, 2]');
  await eventually(async () => (await storedRows()) === 120, 'the 120 rows in the store', 15000);

  const { chromium } = webRequire('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  // Half an hour off UTC, so that a label in local time cannot pass for one in UTC.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, timezoneId: 'Asia/Kolkata' });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  watch(page);
  try {
    await page.goto(`http://${HOST}:${serve.ws}/`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]');
    await tab(page, 'connect');
    await page.fill('input[name="clientId"]', 'alice-store');
    await page.fill('input[name="username"]', 'alice');
    await page.fill('input[name="password"]', USERS.alice);
    await page.check('input[name="remember"]');
    await page.click('#connect-submit');
    await page.waitForSelector('#conn-state[data-state="connected"]');

    const item = '#stored-list li[data-session="alice"][data-series="wave"]';
    const card = 'article[data-session="alice"][data-series="wave"]';
    await check('the Plots tab lists alice\'s stored series (and not bob\'s) from the store API', async () => {
      await tab(page, 'plots');
      await page.waitForSelector(`${item}[data-rows="120"]`);
      const listed = await page.$$eval('#stored-list li', (lis) => lis.map((li) => `${li.dataset.session}/${li.dataset.series}`));
      expectEq(JSON.stringify(listed), JSON.stringify(['alice/level', 'alice/wave']), 'stored series listed');
      const text = await page.textContent(item);
      if (!text.includes('t, amplitude') || !text.includes('120 rows') || !text.includes('Stored wave')) throw new Error(`entry ${JSON.stringify(text)}`);
    });

    await check('Load draws the stored series with its plot_series title and axis labels', async () => {
      await page.click(`${item} button`);
      await page.waitForSelector(`${card} .chart[data-points="120"]`);
      expectEq(await page.textContent(`${card} .u-title`), 'Stored wave', 'chart title in the DOM');
      const info = await page.evaluate(() => window.iotplotConsole.plots.inspect('alice', 'wave'));
      expectEq(info.stored && info.rows === 120 && info.title === 'Stored wave', true, `inspect ${JSON.stringify(info)}`);
      // uPlot draws axis labels into the canvas: the chart's own axes hold them
      expectEq(JSON.stringify(info.axisLabels), JSON.stringify(['time [s]', 'amplitude [V]']), 'axis labels');
      const px = await chartPixels(page, `${card} .chart`);
      if (!px || px.drawn < 200) throw new Error(`plot area barely drawn: ${JSON.stringify(px)}`);
      expectEq(JSON.stringify(lineColors(px)), JSON.stringify(['#1f77b4']), `line colours ${JSON.stringify(px.near)}`);
      await page.locator(card).screenshot({ path: join(ARTIFACTS, 'store-loaded.png') });
    });

    await check('a stored one-column series is drawn against its arrival times, in UTC as its plot_series asks', async () => {
      const levelItem = '#stored-list li[data-session="alice"][data-series="level"]';
      const levelCard = 'article[data-session="alice"][data-series="level"]';
      await page.click(`${levelItem} button`);
      await page.waitForSelector(`${levelCard} .chart[data-points="40"]`);
      const info = await page.evaluate(() => window.iotplotConsole.plots.inspect('alice', 'level'));
      expectEq(`${info.x} ${info.time}`, 'received true', 'x is the arrival time, on a time axis');
      // The store's arrival times, not the row index (0..39) nor the values (20..26).
      if (!(info.xmin >= levelFrom - 1 && info.xmax <= levelTo + 1)) {
        throw new Error(`x range ${info.xmin}..${info.xmax}, rows arrived ${levelFrom}..${levelTo}`);
      }
      const ticks = info.xSplits.map((t, i) => [t, String(info.xTicks[i])]).filter(([, label]) => /\d:\d\d/.test(label));
      if (!ticks.length) throw new Error(`no time labels: ${JSON.stringify(info.xTicks)}`);
      for (const [t, label] of ticks) {
        const d = new Date(t * 1000);
        const hm = `${d.getUTCHours() % 12 || 12}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
        if (!label.includes(hm)) throw new Error(`tick at ${d.toISOString()} labelled ${JSON.stringify(label)}, not UTC ${hm}`);
      }
      const px = await chartPixels(page, `${levelCard} .chart`);
      if (!px || px.drawn < 100) throw new Error(`plot area barely drawn: ${JSON.stringify(px)}`);
      await page.locator(levelCard).screenshot({ path: join(ARTIFACTS, 'store-level-received.png') });
      // Its CSV has the arrival times as a last column, as the plot server's CSV does.
      const [download] = await Promise.all([page.waitForEvent('download'),
        page.click(`${levelCard} button[aria-label="Download level as CSV"]`)]);
      const lines = readFileSync(await download.path(), 'utf8').split('\n');
      expectEq(lines[0], 'cm,received', 'CSV header');
      expectEq(lines.length, 42, 'CSV lines (40 rows, a header, the last line break)');
      const [cm, at] = lines[1].split(',');
      expectEq(cm, '20', 'first value');
      const t = Date.parse(at) / 1000;
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(at) || !(t >= levelFrom - 1 && t <= levelTo + 1)) {
        throw new Error(`arrival time ${at}, rows arrived ${levelFrom}..${levelTo}`);
      }
    });

    await check('the loaded chart stays live: new rows are drawn once each', async () => {
      await pubLines('alice', 'alice/data', Array.from({ length: 30 }, (_, i) => sine(120 + i)));
      await page.waitForSelector(`${card} .chart[data-points="150"]`, { timeout: 15000 });
      await page.waitForTimeout(500); // nothing more may come: each row once
      expectEq(await page.getAttribute(`${card}`, 'data-rows'), '150', 'rows after the live rows');
    });

    await check('a new_series of the loaded series starts it again from the store\'s new version', async () => {
      await pub('alice', 'alice/new_series', '["wave", "t", "amplitude"]');
      await pubLines('alice', 'alice/data', Array.from({ length: 25 }, (_, i) => sine(1000 + i)));
      await page.waitForSelector(`${card}[data-rows="25"] .chart[data-points="25"]`, { timeout: 15000 });
      const info = await page.evaluate(() => window.iotplotConsole.plots.inspect('alice', 'wave'));
      expectEq(info.xmin, 1000, 'x of the new version only');
      await pubLines('alice', 'alice/data', Array.from({ length: 125 }, (_, i) => sine(1025 + i)));
      await page.waitForSelector(`${card}[data-rows="150"]`, { timeout: 15000 });
    });

    await check('after a reload the stored series is listed again', async () => {
      await page.reload({ waitUntil: 'load' });
      await page.waitForSelector('body[data-ready="true"]');
      await page.waitForSelector('#conn-state[data-state="connected"]');
      await tab(page, 'plots');
      await page.waitForSelector(`${item}[data-rows="150"]`);
      await page.screenshot({ path: join(ARTIFACTS, 'store-after-reload.png') });
    });

    await check('two numeric topics charted from the table and the tree, on a time axis', async () => {
      await tab(page, 'messages');
      await page.fill('#subscribe-form input[name="topic"]', 'alice/#');
      await page.click('#subscribe-form button[type="submit"]');
      await page.waitForSelector('#subscription-list li[data-topic="alice/#"] .sub-state:text("granted QoS 0")', { state: 'attached' });
      for (let i = 0; i < 6; i++) {
        await pub('alice', 'alice/room/temp', String(20 + i * 0.5));
        await pub('alice', 'alice/room/hum', String(40 - i * 2));
        await page.waitForTimeout(120);
      }
      await page.waitForSelector('#message-rows tr[data-topic="alice/room/temp"] button[aria-label="Chart alice/room/temp"]');
      await page.click('#message-rows tr[data-topic="alice/room/temp"] >> nth=0 >> button[aria-label="Chart alice/room/temp"]');
      await tab(page, 'topics');
      await page.click('#tree-expand');
      await page.click('li[data-topic="alice/room/hum"] > .node-row .node-name');
      await page.waitForSelector('#tree-history[data-count="6"]');
      await page.click('#tree-chart');
      await tab(page, 'plots');
      await page.waitForSelector('#topic-chart[data-lines="2"]');
      // both start with the values seen before they were charted, then grow
      await pub('alice', 'alice/room/temp', '24');
      await page.waitForFunction(() => window.iotplotConsole.chart.inspect().points >= 13);
      const info = await page.evaluate(() => window.iotplotConsole.chart.inspect());
      expectEq(JSON.stringify(info.topics), JSON.stringify(['alice/room/temp', 'alice/room/hum']), 'charted topics');
      expectEq(info.time, true, 'a time x axis');
      const chips = await page.$$eval('#topic-chart-topics li', (lis) => lis.map((li) => li.textContent));
      if (!chips[0].includes('7 values') || !chips[1].includes('6 values')) throw new Error(`chips ${JSON.stringify(chips)}`);
      const px = await chartPixels(page, '#topic-chart');
      if (!px || px.drawn < 200) throw new Error(`plot area barely drawn: ${JSON.stringify(px)}`);
      expectEq(JSON.stringify(lineColors(px)), JSON.stringify(['#1f77b4', '#ff7f0e']), `line colours ${JSON.stringify(px.near)}`);
      // the time axis: clock labels (uPlot draws them in the canvas; its own format)
      await page.locator('#topic-chart-box').screenshot({ path: join(ARTIFACTS, 'store-topic-chart.png') });
    });

    await check('the topic tree shows the last values of the selected topic, newest first', async () => {
      await tab(page, 'topics');
      await page.click('li[data-topic="alice/room/temp"] > .node-row .node-name');
      await page.waitForSelector('#tree-history[data-count="7"]');
      const values = await page.$$eval('#tree-history li', (lis) => lis.map((li) => li.lastChild.textContent));
      expectEq(JSON.stringify(values), JSON.stringify(['24', '22.5', '22', '21.5', '21', '20.5', '20']), 'last values');
      await page.locator('#tree-details').screenshot({ path: join(ARTIFACTS, 'store-tree-history.png') });
    });

    await check('Export CSV downloads the kept messages, one row each', async () => {
      await tab(page, 'messages');
      await pub('alice', 'alice/note', 'a "quoted", two-line\nvalue');
      await pub('alice', 'alice/note', '=1+1');
      await page.waitForFunction(() => document.querySelectorAll('#message-rows tr[data-topic="alice/note"]').length === 2);
      const shown = await page.$$eval('#message-rows tr', (trs) => trs.length);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-messages')]);
      const text = readFileSync(await download.path(), 'utf8');
      if (!/^messages-.*\.csv$/.test(download.suggestedFilename())) throw new Error(`file name ${download.suggestedFilename()}`);
      const lines = text.split('\r\n');
      expectEq(lines[0], 'time,topic,payload,qos,retained,binary', 'header');
      expectEq(lines[lines.length - 1], '', 'ends with a line break');
      // rows: each message once, oldest first; the quoted payload spans two lines
      const rows = text.slice(lines[0].length + 2).match(/(?:"(?:[^"]|"")*"|[^,\r\n]*)(?:,(?:"(?:[^"]|"")*"|[^,\r\n]*))*\r\n/g);
      expectEq(rows.length, shown, 'rows against the table');
      const temps = rows.filter((r) => r.split(',')[1] === 'alice/room/temp').map((r) => r.split(',')[2]);
      expectEq(JSON.stringify(temps), JSON.stringify(['20', '20.5', '21', '21.5', '22', '22.5', '24']), 'temp payloads in order');
      const notes = rows.filter((r) => r.split(',')[1] === 'alice/note');
      if (!notes[0].includes('"a ""quoted"", two-line\nvalue"')) throw new Error(`quoted row ${JSON.stringify(notes[0])}`);
      if (!notes[1].includes(",'=1+1,")) throw new Error(`formula row ${JSON.stringify(notes[1])}`);
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,/.test(rows[0])) throw new Error(`time ${rows[0]}`);
    });
  } finally {
    await context.close().catch(() => {});
    await browser.close().catch(() => {});
  }
  await check('no errors in the browser console and no failed requests', async () => {
    expectEq(errors.length, 0, errors.join('\n'));
  });
}

await main().catch((e) => results_.fail(`${e.stack || e}`));
console.log(`screenshots: ${ARTIFACTS}`);
results_.finish();
