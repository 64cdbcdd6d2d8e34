// MQTT.js (npm `mqtt`, pinned in tests/node) against the broker on 127.0.0.1:PORT.
// Prints "ok NAME" per check and exits non-zero on the first failure or after 20 s.
'use strict';
const mqtt = require('mqtt');
const port = Number(process.argv[2]);
const timer = setTimeout(() => { console.log('FAIL timeout'); process.exit(1); }, 20000);

function client(id, version, extra = {}) {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, clientId: id, protocolVersion: version,
                             reconnectPeriod: 0, ...extra });
    c.once('connect', (ack) => resolve([c, ack]));
    c.once('error', reject);
  });
}
const sub = (c, f, o) => new Promise((res, rej) => c.subscribe(f, o, (e, g) => e ? rej(e) : res(g)));
const pub = (c, t, m, o) => new Promise((res, rej) => c.publish(t, m, o, (e) => e ? rej(e) : res()));
const next = (c, n) => new Promise((res) => {
  const got = [];
  const on = (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), packet });
    if (got.length === n) { c.removeListener('message', on); res(got); }
  };
  c.on('message', on);
});
function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
  console.log(`ok ${what}`);
}

async function main() {
  for (const v of [4, 5]) {
    const [s] = await client(`js-sub-${v}`, v);
    const [p] = await client(`js-pub-${v}`, v);
    const granted = await sub(s, 'js/#', { qos: 2 });
    eq(granted.map((g) => g.qos), [2], `v${v} SUBACK`);
    const waiting = next(s, 3);
    for (const q of [0, 1, 2]) await pub(p, `js/${q}`, `m${q}`, { qos: q });
    const got = (await waiting).map((m) => [m.topic, m.payload, m.packet.qos]).sort();
    eq(got, [['js/0', 'm0', 0], ['js/1', 'm1', 1], ['js/2', 'm2', 2]], `v${v} QoS 0/1/2`);
    const live = next(s, 1); // listen before publishing: the message may beat the ack
    await pub(p, 'js/r', 'kept', { qos: 1, retain: true });
    await live;
    const [late] = await client(`js-late-${v}`, v);
    const r = next(late, 1);
    await sub(late, 'js/r', { qos: 1 });
    const m = (await r)[0];
    eq([m.topic, m.payload, m.packet.retain], ['js/r', 'kept', true], `v${v} retained`);
    for (const c of [s, p, late]) c.end();
  }
  // 5.0: properties through the broker, client topic aliases, assigned client id.
  const [s5] = await client('js-props', 5);
  await sub(s5, 'jp/#', { qos: 1 });
  const [p5, ack] = await client('', 5, { properties: { topicAliasMaximum: 5 }, autoUseTopicAlias: true });
  eq(typeof ack.properties.assignedClientIdentifier, 'string', 'assigned client id');
  eq(ack.properties.topicAliasMaximum, 10, 'topic alias maximum advertised');
  const w = next(s5, 2);
  const props = { userProperties: { k: 'v' }, contentType: 'text/plain',
                  responseTopic: 'jp/resp', correlationData: Buffer.from([1, 2]) };
  await pub(p5, 'jp/a', 'one', { qos: 1, properties: props });
  await pub(p5, 'jp/a', 'two', { qos: 1, properties: props });
  const ms = await w;
  eq(ms.map((m) => [m.topic, m.payload]), [['jp/a', 'one'], ['jp/a', 'two']], 'topic alias reuse');
  const pp = ms[1].packet.properties;
  eq([pp.userProperties, pp.contentType, pp.responseTopic, [...pp.correlationData]],
     [{ k: 'v' }, 'text/plain', 'jp/resp', [1, 2]], 'v5 properties forwarded');
  s5.end();
  p5.end();
  clearTimeout(timer);
}
main().catch((e) => { console.log(`FAIL ${e.message}`); process.exit(1); });
