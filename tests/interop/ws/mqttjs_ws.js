// MQTT.js over WebSockets (ws:// and wss://) against the broker: argv URL [CAFILE].
// Prints "ok NAME" per check; exits non-zero on the first failure or after 20 s.
'use strict';
const fs = require('fs');
const mqtt = require('mqtt');
const [url, cafile] = process.argv.slice(2);
const timer = setTimeout(() => { console.log('FAIL timeout'); process.exit(1); }, 20000);

function client(id, version) {
  return new Promise((resolve, reject) => {
    const opts = { clientId: id, protocolVersion: version, reconnectPeriod: 0 };
    if (cafile) opts.ca = fs.readFileSync(cafile);
    const c = mqtt.connect(url, opts);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}
const sub = (c, f, o) => new Promise((res, rej) => c.subscribe(f, o, (e, g) => (e ? rej(e) : res(g))));
const pub = (c, t, m, o) => new Promise((res, rej) => c.publish(t, m, o, (e) => (e ? rej(e) : res())));
function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
  console.log(`ok ${what}`);
}

async function main() {
  for (const v of [4, 5]) {
    const s = await client(`ws-sub-${v}`, v);
    const p = await client(`ws-pub-${v}`, v);
    eq((await sub(s, 'ws/#', { qos: 2 })).map((g) => g.qos), [2], `v${v} SUBACK over ${url}`);
    const got = [];
    const all = new Promise((res) => s.on('message', (t, m, pk) => {
      got.push([t, m.length, pk.qos]);
      if (got.length === 3) res();
    }));
    // The last one is larger than a frame header's 16-bit length: a 64-bit length frame.
    await pub(p, 'ws/0', 'small', { qos: 0 });
    await pub(p, 'ws/1', Buffer.alloc(1000, 1), { qos: 1 });
    await pub(p, 'ws/2', Buffer.alloc(100000, 2), { qos: 2 });
    await all;
    eq(got.sort(), [['ws/0', 5, 0], ['ws/1', 1000, 1], ['ws/2', 100000, 2]], `v${v} QoS 0/1/2 over ws`);
    s.end();
    p.end();
  }
  clearTimeout(timer);
}
main().catch((e) => { console.log(`FAIL ${e.message}`); process.exit(1); });
