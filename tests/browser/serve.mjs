// Try the console before the broker serves it: node tests/browser/serve.mjs [MQTT_PORT]
// serves web/dist (build it first with `node web/build.mjs`) and relays WebSocket
// connections on the same port to a broker's plain MQTT port (default 1883) on 127.0.0.1,
// as the broker's own listener will: the page's default settings connect.
import { join } from 'node:path';
import { startStatic, WEB, tempDir } from './fixtures.mjs';

const mqttPort = Number(process.argv[2] || 1883);
const web = await startStatic(join(WEB, 'dist'), process.env.PLOTS_DIR || tempDir(), mqttPort);
console.log(`console: http://127.0.0.1:${web.port}/ (WebSocket on the same port -> tcp 127.0.0.1:${mqttPort}); Ctrl-C stops`);
