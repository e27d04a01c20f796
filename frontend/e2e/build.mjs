// Bundles the end-to-end page (e2e/main.tsx with React and @grafana/ui) into e2e-dist/ with esbuild:
// seconds, where a Rollup build of @grafana/ui takes a minute on two cores.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'e2e-dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'main.tsx')],
  outfile: join(out, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  jsx: 'transform',
  jsxFactory: 'React.createElement',
  jsxFragment: 'React.Fragment',
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
  minify: true,
  logLevel: 'warning',
  logOverride: { 'direct-eval': 'silent', 'duplicate-object-key': 'silent' },
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
console.log('e2e: page built in e2e-dist/');
