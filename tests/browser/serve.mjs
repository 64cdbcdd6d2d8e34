// Try the console before the broker serves it: node tests/browser/serve.mjs [MQTT_PORT]
// serves web/dist (build it first with `node web/build.mjs`) and proxies WebSocket
// connections on another port to a broker's plain MQTT port (default 1883) on 127.0.0.1.
import { join } from 'node:path';
import { startStatic, startWsProxy, WEB, tempDir } from './fixtures.mjs';

const mqttPort = Number(process.argv[2] || 1883);
const proxy = await startWsProxy(mqttPort);
const web = await startStatic(join(WEB, 'dist'), process.env.PLOTS_DIR || tempDir());
console.log(`console: http://127.0.0.1:${web.port}/   (connect to port ${proxy.port}, path /mqtt)`);
console.log(`WebSocket proxy: ws://127.0.0.1:${proxy.port}/mqtt -> tcp 127.0.0.1:${mqttPort}; Ctrl-C stops`);
