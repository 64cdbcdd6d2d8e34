// Assembles the console into dist/ (or --out DIR): the page, its modules and stylesheet,
// and the browser builds of MQTT.js and uPlot copied from node_modules (installed from the
// committed lockfile by `npm ci`). No network, no timestamps: the same inputs always give
// the same bytes, listed with their SHA-256 in manifest.json for whoever embeds them.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = resolve(outArg >= 0 ? args[outArg + 1] : join(here, 'dist'));
const modules = join(here, 'node_modules');

// [file in node_modules, file in dist]
const VENDOR = [
  ['mqtt/dist/mqtt.esm.js', 'vendor/mqtt.esm.js'],
  ['mqtt/LICENSE.md', 'vendor/LICENSE.mqtt.md'],
  ['uplot/dist/uPlot.esm.js', 'vendor/uPlot.esm.js'],
  ['uplot/dist/uPlot.min.css', 'vendor/uPlot.min.css'],
  ['uplot/LICENSE', 'vendor/LICENSE.uplot'],
];

function fail(msg) {
  console.error(`build: ${msg}`);
  process.exit(1);
}

for (const [from] of VENDOR) {
  if (!existsSync(join(modules, from))) {
    fail(`${join('node_modules', from)} is missing: run \`npm ci\` in web/ (scripts/deps.sh test does)`);
  }
}
if (out === here || out === resolve(here, 'src') || out === '/') fail(`refusing to write into ${out}`);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'vendor'), { recursive: true });

const files = [];
for (const name of readdirSync(join(here, 'src')).sort()) {
  copyFileSync(join(here, 'src', name), join(out, name));
  files.push(name);
}
for (const [from, to] of VENDOR) {
  copyFileSync(join(modules, from), join(out, to));
  files.push(to);
}

const versions = {};
for (const pkg of ['mqtt', 'uplot']) {
  versions[pkg] = JSON.parse(readFileSync(join(modules, pkg, 'package.json'), 'utf8')).version;
}
const manifest = {
  name: 'iotplot-console',
  vendor: versions,
  files: files.sort().map((path) => {
    const bytes = readFileSync(join(out, path));
    return { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }),
};
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`build: ${files.length} files in ${relative(process.cwd(), out) || '.'} (mqtt ${versions.mqtt}, uplot ${versions.uplot})`);
