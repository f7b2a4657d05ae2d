// SPDX-License-Identifier: MIT
// Builds the web console into a folder: our files from src/ as they are, and the front-end
// libraries' browser builds (ES modules and their CSS) from node_modules/ into vendor/.
// No bundler: the page loads ES modules; nothing is minified here.
// Usage: node build.mjs NODE_MODULES OUT
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [modules, out] = process.argv.slice(2);
if (!modules || !out) {
  console.error('usage: node build.mjs NODE_MODULES OUT');
  process.exit(2);
}
const src = join(dirname(fileURLToPath(import.meta.url)), 'src');
const vendor = {
  'xterm.mjs': '@xterm/xterm/lib/xterm.mjs',
  'xterm.css': '@xterm/xterm/css/xterm.css',
  'addon-fit.mjs': '@xterm/addon-fit/lib/addon-fit.mjs',
  'uPlot.esm.js': 'uplot/dist/uPlot.esm.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'vendor'), { recursive: true });
for (const f of readdirSync(src)) copyFileSync(join(src, f), join(out, f));
for (const [name, from] of Object.entries(vendor)) copyFileSync(join(modules, from), join(out, 'vendor', name));
console.log(`web console built in ${out}`);
