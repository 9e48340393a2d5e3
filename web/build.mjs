// Builds the dashboard into dist/: app.js (bundled with Chart.js), app.css
// and index.html. `make web` runs it after `npm ci`.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(here, 'src/app.js'), join(here, 'src/app.css')],
  outdir: dist,
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ['es2020'],
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile(join(here, 'src/index.html'), join(dist, 'index.html'));
console.log('web: built dist/index.html, dist/app.js, dist/app.css');
