// Fixtures for the console's browser tests: `iotplot broker` with a generated
// configuration (a TCP listener for the command-line tools and devices, a WebSocket
// listener that also serves the console compiled into the binary and /plots/, and the
// same over TLS), a throwaway PKI from tests/lib/make-certs.sh, and the console's build.
// All on 127.0.0.1, ports chosen by the OS, every wait bounded, every child process
// killed when the test process ends.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { X509Certificate, createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST = '127.0.0.1';
export const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB = join(SRC, 'web');
/** require() from web/node_modules, where the lockfile installs playwright-core. */
export const webRequire = createRequire(join(WEB, 'package.json'));

// --- process hygiene -------------------------------------------------------------------

const children = new Set();
const cleanups = [];

/** Run fn at exit, pass or fail (temp folders). */
export function atExit(fn) {
  cleanups.push(fn);
}

function killAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch { /* already gone */ }
  }
  children.clear();
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch { /* best effort */ }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.log(`browser test: ${sig}, stopping`);
    process.exit(1);
  });
}

/** Start a child process that dies with the test; output collected in .out. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  child.out = '';
  child.stdout.on('data', (d) => { child.out += d; });
  child.stderr.on('data', (d) => { child.out += d; });
  children.add(child);
  child.done = new Promise((res) => child.on('close', (code, signal) => {
    children.delete(child);
    res({ code, signal, out: child.out });
  }));
  child.on('error', (e) => { child.out += `\nspawn error: ${e.message}`; });
  return child;
}

/** Run a command to completion within ms; resolves {code, out}. */
export async function run(cmd, args, { input, ms = 15000 } = {}) {
  const child = start(cmd, args);
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const r = await child.done;
  clearTimeout(timer);
  return r;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll fn until it returns a truthy value; throws after ms. */
export async function eventually(fn, what, ms = 10000, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not met after ${ms} ms`);
    await sleep(every);
  }
}

function canConnect(port) {
  return new Promise((res) => {
    const sock = tcpConnect({ host: HOST, port });
    sock.once('connect', () => { sock.destroy(); res(true); });
    sock.once('error', () => res(false));
    sock.setTimeout(300, () => { sock.destroy(); res(false); });
  });
}

export function tempDir(prefix = 'iotplot-browser-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  atExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// --- the broker ------------------------------------------------------------------------

/** The iotplot binary under test and the C sinusoid device (examples/plot_sinusoid.c). */
export const IOTPLOT_BIN = process.env.IOTPLOT_BIN || '';
export const DEVICE_BIN = process.env.IOTPLOT_PLOT_SINUSOID || '';

/**
 * A throwaway PKI (tests/lib/make-certs.sh: a test CA and a server certificate for
 * localhost and 127.0.0.1 that it signed), and the base64 SHA-256 of the server's public
 * key, which chromium is told to trust and nothing else.
 */
export function makeCerts(dir) {
  const r = spawnSync('sh', [join(SRC, 'tests', 'lib', 'make-certs.sh'), dir], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`make-certs.sh failed: ${r.stdout}${r.stderr}`);
  const cert = join(dir, 'server.pem');
  const spki = new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' });
  return {
    ca: join(dir, 'ca.pem'), cert, key: join(dir, 'server.key'),
    spki: createHash('sha256').update(spki).digest('base64'),
  };
}

const LISTEN = /Opening ipv4 listen socket on port (\d+)\./g;

/**
 * `iotplot broker -c CONF` on 127.0.0.1 with ports from the OS (`listener 0`, read back
 * from its log in listener order): `tcp` (MQTT, for `iotplot pub`/`sub` and devices), `ws`
 * (`protocol websockets`: MQTT over WebSockets and the built-in console on GET), and with
 * certs `wss` (the same over TLS). plotsDir is served under /plots/. users = {name:
 * password} turns anonymous access off. $SYS every second; subscriptions are logged (to
 * stdout, kept in .log()), so a test knows when an `iotplot sub` is ready.
 */
export async function startBroker({ certs = null, plotsDir = null, users = null } = {}) {
  if (!IOTPLOT_BIN || !existsSync(IOTPLOT_BIN)) throw new Error(`IOTPLOT_BIN (${IOTPLOT_BIN || 'unset'}) is not the iotplot binary`);
  const dir = tempDir('iotplot-broker-');
  const names = ['tcp', 'ws'];
  let text = `listener 0 ${HOST}\n` +
    `listener 0 ${HOST}\nprotocol websockets\n`;
  if (certs) {
    names.push('wss');
    text += `listener 0 ${HOST}\nprotocol websockets\ncertfile ${certs.cert}\nkeyfile ${certs.key}\n`;
  }
  text += 'sys_interval 1\nlog_dest stdout\n';
  for (const t of ['error', 'warning', 'notice', 'information', 'subscribe']) text += `log_type ${t}\n`;
  if (plotsDir) text += `plots_dir ${plotsDir}\n`;
  if (users) {
    const file = join(dir, 'passwd');
    for (const [name, password] of Object.entries(users)) {
      const create = existsSync(file) ? [] : ['-c'];
      const r = spawnSync(IOTPLOT_BIN, ['passwd', ...create, '-b', '-I', '1000', file, name, password], { encoding: 'utf8', timeout: 10000 });
      if (r.status !== 0) throw new Error(`iotplot passwd failed: ${r.stdout}${r.stderr}`);
    }
    text += `allow_anonymous false\npassword_file ${file}\n`;
  } else {
    text += 'allow_anonymous true\n';
  }
  const conf = join(dir, 'broker.conf');
  writeFileSync(conf, text);
  const proc = start(IOTPLOT_BIN, ['broker', '-c', conf], { cwd: dir });
  let ports;
  try {
    ports = await eventually(() => {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`iotplot broker exited (${proc.exitCode ?? proc.signalCode})`);
      const found = Array.from(proc.out.matchAll(LISTEN), (m) => Number(m[1]));
      return found.length === names.length && proc.out.includes('iotplot broker running') ? found : null;
    }, 'iotplot broker listening', 10000);
  } catch (e) {
    throw new Error(`${e.message}\n${proc.out}\nconfiguration:\n${text}`);
  }
  const broker = { proc, conf, log: () => proc.out };
  names.forEach((name, i) => { broker[name] = ports[i]; });
  for (const name of names) {
    if (!(await canConnect(broker[name]))) throw new Error(`iotplot broker: nothing on the ${name} port ${broker[name]}`);
  }
  return broker;
}

/** Build the console into outDir from web/node_modules; throws with the build's output. */
export function buildConsole(outDir) {
  const r = spawnSync(process.execPath, [join(WEB, 'build.mjs'), '--out', outDir], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`web/build.mjs failed:\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/**
 * The Content-Security-Policy the console is written to run under (docs/console.md).
 * MQTT.js runs its keepalive timers in a blob: worker, so background tabs stay connected.
 */
export const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; " +
  "style-src 'self'; script-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

// A test's bookkeeping: check() prints "ok"/"FAIL" per check, a deadline ends a run that
// hangs with a failure, finish() prints "N passed, N failed" and exits with the verdict.
export function results(what, deadlineMs) {
  const r = { passed: 0, failed: 0 };
  setTimeout(() => {
    console.log(`FAIL deadline: the ${what} did not finish within ${deadlineMs / 1000} s`);
    console.log(`${r.passed} passed, ${r.failed + 1} failed`);
    process.exit(1);
  }, deadlineMs).unref();
  r.check = async (name, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      r.passed++;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
      return true;
    } catch (e) {
      r.failed++;
      console.log(`FAIL ${name}: ${e && e.message ? e.message.split('\n').slice(0, 6).join('\n     ') : e}`);
      return false;
    }
  };
  r.fail = (why) => {
    r.failed++;
    console.log(`FAIL ${why}`);
  };
  r.finish = () => {
    console.log(`${r.passed} passed, ${r.failed} failed`);
    process.exit(r.failed || !r.passed ? 1 : 0);
  };
  return r;
}

export function expectEq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
