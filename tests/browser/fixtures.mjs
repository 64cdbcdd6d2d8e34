// Fixtures for the console's browser tests: a real mosquitto on a TCP port, a small
// WebSocket-to-TCP proxy in front of it (the "mqtt" subprotocol), and a static file server
// for the built console with /plots/ mapped to a folder. All on 127.0.0.1, ephemeral
// ports, every wait bounded, every child process killed when the test process ends.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { X509Certificate, createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST = '127.0.0.1';
export const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB = join(SRC, 'web');
/** require() from web/node_modules, where the lockfile installs ws and playwright-core. */
export const webRequire = createRequire(join(WEB, 'package.json'));

// --- process hygiene -------------------------------------------------------------------

const children = new Set();
const cleanups = [];

/** Run fn at exit, pass or fail (temp folders, servers). */
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

/** A free ephemeral TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
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

// --- mosquitto -------------------------------------------------------------------------

/**
 * A real mosquitto on 127.0.0.1:<ephemeral>, anonymous, $SYS every second, logging
 * subscriptions (the tests read the log to know when a mosquitto_sub is ready).
 */
export async function startMosquitto({ users = null } = {}) {
  const dir = tempDir('iotplot-mosquitto-');
  const port = await freePort();
  const log = join(dir, 'mosquitto.log');
  const conf = join(dir, 'mosquitto.conf');
  let text = `listener ${port} ${HOST}\nsys_interval 1\npersistence false\n` +
    `log_dest file ${log}\nlog_type all\n`;
  if (users) {
    // users = {name: password}: only they may connect.
    const file = join(dir, 'passwd');
    for (const [name, password] of Object.entries(users)) {
      const r = spawnSync('mosquitto_passwd', [...(existsSync(file) ? [] : ['-c']), '-b', file, name, password], { encoding: 'utf8', timeout: 10000 });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
    }
    text += `allow_anonymous false\npassword_file ${file}\n`;
  } else {
    text += 'allow_anonymous true\n';
  }
  if (process.getuid && process.getuid() === 0) text += 'user root\n';
  writeFileSync(conf, text);
  const proc = start('mosquitto', ['-c', conf]);
  await eventually(async () => {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited: ${proc.out}`);
    return canConnect(port);
  }, 'mosquitto listening', 10000);
  return {
    port,
    proc,
    log: () => { try { return readFileSync(log, 'utf8'); } catch { return ''; } },
  };
}

// --- WebSocket to TCP proxy --------------------------------------------------------------

/** Relay WebSocket connections on server (subprotocol mqtt, any path) to tcp 127.0.0.1:mqttPort. */
function attachProxy(server, mqttPort) {
  const { WebSocketServer } = webRequire('ws');
  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  wss.on('connection', (ws) => {
    const tcp = tcpConnect({ host: HOST, port: mqttPort });
    tcp.on('data', (d) => ws.readyState === ws.OPEN && ws.send(d, { binary: true }));
    tcp.on('close', () => ws.close());
    tcp.on('error', () => ws.terminate());
    ws.on('message', (d) => tcp.write(d));
    ws.on('close', () => tcp.destroy());
    ws.on('error', () => tcp.destroy());
  });
  atExit(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
}

/**
 * ws://127.0.0.1:<port>/<any path> -> tcp 127.0.0.1:mqttPort, subprotocol mqtt; with
 * tls = {key, cert}, wss:// instead.
 */
export function startWsProxy(mqttPort, tls = null) {
  const server = tls ? https.createServer(tls) : http.createServer();
  server.on('request', (req, resp) => {
    resp.writeHead(426, { 'Content-Type': 'text/plain' });
    resp.end('WebSocket only\n');
  });
  attachProxy(server, mqttPort);
  return new Promise((res) => server.listen(0, HOST, () => {
    atExit(() => server.close());
    res({ port: server.address().port });
  }));
}

/**
 * A throwaway key and self-signed certificate for 127.0.0.1 (openssl), and the base64
 * SHA-256 of its public key, which chromium is told to trust and nothing else.
 */
export function testCertificate(dir) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const pem = readFileSync(cert);
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return { key: readFileSync(key), cert: pem, spki: createHash('sha256').update(spki).digest('base64') };
}

// --- static files ------------------------------------------------------------------------

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.pdf': 'application/pdf',
  '.csv': 'text/csv; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * The policy the console is written to run under (the broker should send the same).
 * MQTT.js runs its keepalive timers in a blob: worker, so background tabs stay connected.
 */
export const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; " +
  "style-src 'self'; script-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Serve root on GET/HEAD, and plotsDir under /plots/; nothing outside them, no listings.
 * With mqttPort, WebSocket upgrades on the same port are relayed to that broker, as the
 * broker's own listener will do: the page then connects with its default settings.
 */
export function startStatic(root, plotsDir, mqttPort = 0) {
  const server = http.createServer((req, res) => {
    const send = (code, text) => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return send(400, 'bad path\n');
    }
    let base = root;
    if (path.startsWith('/plots/')) {
      base = plotsDir;
      path = path.slice('/plots'.length);
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = resolve(base, '.' + path);
    if (!file.startsWith(resolve(base) + sep)) return send(403, 'forbidden\n');
    let st;
    try {
      st = statSync(file);
    } catch {
      return send(404, 'not found\n');
    }
    if (!st.isFile()) return send(404, 'not found\n');
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': CSP,
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  if (mqttPort) attachProxy(server, mqttPort);
  return new Promise((res) => server.listen(0, HOST, () => {
    atExit(() => server.close());
    res({ port: server.address().port });
  }));
}

/** Build the console into outDir from web/node_modules; throws with the build's output. */
export function buildConsole(outDir) {
  const r = spawnSync(process.execPath, [join(WEB, 'build.mjs'), '--out', outDir], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`web/build.mjs failed:\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}
