// The console in a classroom: `iotplot serve -c` with `allow_anonymous false`, a
// password file and `pattern readwrite %u/#`, and two students, alice and bob, each in
// their own chromium context, under MQTT 3.1.1 and then 5.0. Each one's page shows their
// own messages, plots and files only (the files fetched from /plots/<user>/ with the
// login), and the Status tab says that $SYS is not readable for them. Screenshots of
// each tab are taken after the element the check is about shows the expected text.
// Each check prints "ok"/"FAIL"; the last line is "N passed, N failed".
// Environment: IOTPLOT_BIN, IOTPLOT_ARTIFACTS (screenshots folder), CHROMIUM.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, IOTPLOT_BIN, eventually, expectEq, results, run, start, tempDir, webRequire } from './fixtures.mjs';

const DEADLINE_MS = 150000;
const ARTIFACTS = process.env.IOTPLOT_ARTIFACTS || join(tmpdir(), 'iotplot-browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const USERS = { alice: 'alice pw', bob: 'b0b' };
const VERSIONS = { 4: '3.1.1', 5: '5.0' };

const errors = [];
const results_ = results('classroom test', DEADLINE_MS);
const { check } = results_;

function watch(page, label) {
  page.on('console', (m) => m.type() === 'error' && errors.push(`${label} console: ${m.text()}`));
  page.on('pageerror', (e) => errors.push(`${label} page error: ${e.message}`));
  page.on('response', (r) => r.status() >= 400 && errors.push(`${label} HTTP ${r.status()}: ${r.url()}`));
}

async function tab(page, name) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#panel-${name}:not([hidden])`, { timeout: 5000 });
}

/** `iotplot serve -c` with the classroom configuration; its ports from the broker log. */
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
    `sys_interval 1\nlog_dest stdout\nlog_type all\n` +
    `listener 0 ${HOST}\nlistener 0 ${HOST}\nprotocol websockets\n`);
  const plots = join(dir, 'plots');
  const proc = start(IOTPLOT_BIN, ['serve', '-c', conf, '-d', plots], { cwd: dir });
  const ports = await eventually(() => {
    if (proc.exitCode !== null) throw new Error(`iotplot serve exited: ${proc.out}`);
    const found = Array.from(proc.out.matchAll(/Opening ipv4 listen socket on port (\d+)\./g), (m) => Number(m[1]));
    return found.length === 2 && /plot server attached/.test(proc.out) ? found : null;
  }, 'iotplot serve listening', 15000);
  return { proc, tcp: ports[0], ws: ports[1], plots };
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = tempDir('iotplot-classroom-');
  const serve = await startServe(dir);
  console.log(`iotplot serve: mqtt :${serve.tcp}, console :${serve.ws}, files in ${serve.plots}`);
  const pub = async (user, topic, message) => {
    const r = await run(IOTPLOT_BIN, ['pub', '-h', HOST, '-p', String(serve.tcp), '-u', user, '-P', USERS[user],
      '-q', '1', '-t', topic, '-m', message]);
    if (r.code !== 0) throw new Error(`iotplot pub as ${user} exited ${r.code}: ${r.out}`);
  };
  const { chromium } = webRequire('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const version of Object.keys(VERSIONS)) await classroom(browser, serve, pub, Number(version));
  } finally {
    await browser.close().catch(() => {});
  }
  await check('no errors in the browser console and no failed requests', async () => {
    expectEq(errors.length, 0, errors.join('\n'));
  });
}

/** A student's page, logged in with the Connect form. */
async function login(browser, serve, user, version) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, acceptDownloads: true });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  watch(page, `${user} v${version}`);
  await page.goto(`http://${HOST}:${serve.ws}/`, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="true"]');
  await tab(page, 'connect');
  await page.fill('input[name="clientId"]', `${user}-console`);
  await page.selectOption('select[name="version"]', String(version));
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', USERS[user]);
  await page.click('#connect-submit');
  await page.waitForSelector('#conn-state[data-state="connected"]');
  return { context, page };
}

async function subscribe(page, topic) {
  await tab(page, 'messages');
  await page.fill('#subscribe-form input[name="topic"]', topic);
  await page.click('#subscribe-form button[type="submit"]');
}

const topics = (page) => page.evaluate(() => Array.from(document.querySelectorAll('#message-rows tr'), (r) => r.dataset.topic));

async function classroom(browser, serve, pub, version) {
  const v = VERSIONS[version];
  const pages = {};
  try {
    for (const user of Object.keys(USERS)) pages[user] = await login(browser, serve, user, version);
    await check(`${v}: each student subscribes to their own topics; another's are refused`, async () => {
      for (const [user, { page }] of Object.entries(pages)) {
        const other = user === 'alice' ? 'bob' : 'alice';
        await subscribe(page, `${user}/#`);
        await page.waitForSelector(`#subscription-list li[data-topic="${user}/#"] .sub-state:text("granted QoS 0")`, { state: 'attached' });
        await subscribe(page, `${other}/#`);
        await page.waitForSelector(`#subscription-list li[data-topic="${other}/#"] .sub-state:text("refused")`, { state: 'attached' });
      }
    });
    const file = (user) => `secret-${user}-v${version}.pkl`;
    await check(`${v}: alice and bob publish a series each; the files land in DIR/alice and DIR/bob`, async () => {
      for (const user of Object.keys(USERS)) {
        await pub(user, `${user}/new_series`, '["s", "t", "y"]');
        for (let i = 0; i < 3; i++) await pub(user, `${user}/data`, `["s", ${i}, ${user === 'alice' ? i : -i}]`);
        await pub(user, `${user}/save_series`, `["s", "${file(user)}"]`);
        // bob also asks for alice's name: it lands in his own folder
        if (user === 'bob') await pub(user, 'bob/save_series', `["s", "${file('alice')}"]`);
      }
      for (const user of Object.keys(USERS)) {
        await eventually(() => { try { return statSync(join(serve.plots, user, file(user))).isFile(); } catch { return false; } },
          `${user}'s file in DIR/${user}`);
      }
      await eventually(() => { try { return statSync(join(serve.plots, 'bob', file('alice'))).isFile(); } catch { return false; } },
        'bob\'s copy under his own folder');
    });
    for (const [user, { page }] of Object.entries(pages)) {
      const other = user === 'alice' ? 'bob' : 'alice';
      await check(`${v}: ${user}'s Messages tab shows their own messages only`, async () => {
        await tab(page, 'messages');
        await eventually(async () => (await topics(page)).includes(`${user}/save_series`), `${user}/save_series row`);
        const seen = await topics(page);
        const foreign = seen.filter((t) => !t.startsWith(`${user}/`));
        expectEq(foreign.length, 0, `rows of others: ${foreign.join(' ')}`);
        expectEq(await page.textContent(`#message-rows tr[data-topic="${user}/new_series"] td.payload`).then((t) => t.includes('"s"')), true, 'new_series payload');
        await page.screenshot({ path: join(ARTIFACTS, `classroom-v${version}-${user}-messages.png`) });
      });
      await check(`${v}: ${user}'s Plots tab shows their session, series and file, fetched with their login`, async () => {
        await tab(page, 'plots');
        const card = `article[data-session="${user}"][data-series="s"]`;
        await page.waitForSelector(`${card} .chart[data-points="3"]`);
        expectEq(await page.textContent(`${card} h3`), `${user} / s`, 'card title');
        expectEq(await page.locator(`article[data-session="${other}"]`).count(), 0, `${other}'s cards`);
        const chips = await page.locator('#plot-sessions button.chip').allTextContents();
        expectEq(chips.some((t) => t.startsWith(user)), true, `session chips ${chips}`);
        expectEq(chips.some((t) => t.startsWith(other)), false, `session chips ${chips}`);
        await page.waitForFunction(() => !document.querySelector('#plots-access').hidden);
        expectEq((await page.textContent('#plots-access')).includes(`/plots/${user}/`), true, 'access note');
        const link = `${card} a.file-link[href="/plots/${user}/${file(user)}"]`;
        await page.waitForSelector(link);
        const [download] = await Promise.all([page.waitForEvent('download'), page.click(link)]);
        expectEq(await page.getAttribute(link, 'data-status'), '200', 'status of the fetch with the login');
        const size = statSync(join(serve.plots, user, file(user))).size;
        expectEq(Number(await page.getAttribute(link, 'data-bytes')), size, 'bytes fetched');
        expectEq(download.suggestedFilename(), file(user), 'downloaded file name');
        const body = readFileSync(await download.path());
        expectEq(body.equals(readFileSync(join(serve.plots, user, file(user)))), true, 'downloaded bytes');
        // the other student's file of the same name is not readable with this login
        const auth = `Basic ${Buffer.from(`${user}:${USERS[user]}`).toString('base64')}`;
        const res = await fetch(`http://${HOST}:${serve.ws}/plots/${other}/${file(other)}`,
          { method: 'HEAD', headers: { Authorization: auth }, signal: AbortSignal.timeout(5000) });
        const status = res.status;
        expectEq(status, 404, `${user} asks for ${other}'s file`);
        await page.screenshot({ path: join(ARTIFACTS, `classroom-v${version}-${user}-plots.png`) });
      });
      await check(`${v}: ${user}'s Status tab says that $SYS is not readable for this login`, async () => {
        await tab(page, 'status');
        await page.waitForSelector('#status-denied:not([hidden])');
        const text = await page.textContent('#status-denied');
        if (!text.includes(`(${user}) may not read $SYS`)) throw new Error(`status note ${JSON.stringify(text)}`);
        expectEq(await page.isVisible('#status-empty'), false, 'the "appear here" hint');
        expectEq(await page.locator('#status-rows tr').count(), 0, '$SYS rows');
        await page.screenshot({ path: join(ARTIFACTS, `classroom-v${version}-${user}-status.png`) });
      });
    }
  } finally {
    for (const { context } of Object.values(pages)) await context.close().catch(() => {});
  }
}

await main().catch((e) => results_.fail(`${e.stack || e}`));
console.log(`screenshots: ${ARTIFACTS}`);
results_.finish();
