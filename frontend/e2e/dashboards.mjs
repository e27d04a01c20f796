// Pictures of the shipped dashboards, and the check that they still look so. Builds the dashboard
// page (e2e/dashboards/page.tsx) with esbuild, draws every dashboards/*.json in headless Chromium
// from the frames in e2e/frames/ (written by `lakewatch dashboard-frames`), checks what each panel
// drew, and compares the screenshot with docs/img/<dashboard>.png.
//
//   node e2e/dashboards.mjs           check (scripts/test-frontend)
//   node e2e/dashboards.mjs --update  write docs/img/<dashboard>.png (scripts/screenshots)
//
// The comparison tolerates what differs between machines (Chromium versions, font rasterising):
// it compares the mean colour of BLOCK x BLOCK pixel blocks, a block counts as different when a
// channel's mean moves by more than BLOCK_DELTA, and the picture fails when more than
// MAX_DIFFERENT of its blocks do. On failure the new picture and a diff (changed blocks red over
// a dimmed copy) are written to test-results/dashboards/.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BLOCK = 16;
export const BLOCK_DELTA = 16;
export const MAX_DIFFERENT = 0.005;

const here = dirname(fileURLToPath(import.meta.url));
const frontend = join(here, '..');
const repo = join(frontend, '..');
const dist = join(frontend, 'e2e-dist', 'dashboards');
const results = join(frontend, 'test-results', 'dashboards');
const pictures = join(repo, 'docs', 'img');
const framesDir = join(here, 'frames');
const dashboardsDir = join(repo, 'dashboards');
const update = process.argv.includes('--update');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shown = (path) => relative(repo, path);

if (!existsSync(executablePath)) {
  console.error(`dashboards: no Chromium at ${executablePath}; install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  process.exit(1);
}

/** Hands @grafana/ui's ES modules the default export they expect of CommonJS packages. */
const commonJsDefaults = {
  name: 'commonjs-defaults',
  setup(b) {
    b.onResolve({ filter: /^react-custom-scrollbars-2$/ }, (args) => (args.importer.endsWith('.mjs') ? { path: join(here, 'dashboards', 'scrollbars.ts') } : undefined));
  },
};

async function bundle() {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  await build({
    entryPoints: [join(here, 'dashboards', 'page.tsx')],
    outfile: join(dist, 'page.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'transform',
    jsxFactory: 'React.createElement',
    jsxFragment: 'React.Fragment',
    define: { 'process.env.NODE_ENV': process.env.DEBUG_PAGE ? '"development"' : '"production"', global: 'globalThis' },
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
    minify: !process.env.DEBUG_PAGE,
    plugins: [commonJsDefaults],
    logLevel: 'warning',
    logOverride: { 'direct-eval': 'silent', 'duplicate-object-key': 'silent' },
  });
  copyFileSync(join(here, 'dashboards', 'index.html'), join(dist, 'index.html'));
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };

/** Serves the page, the dashboards and their frames; nothing else. */
function serve() {
  const roots = { '/dashboards/': dashboardsDir, '/frames/': framesDir, '/': dist };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    const root = roots[prefix];
    const file = join(root, path.slice(prefix.length) || 'index.html');
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** What each panel drew, read from the page. */
function drawn() {
  const nonBlank = (canvas) => {
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) {
      painted += data[i] > 0 ? 1 : 0;
    }
    return painted > 0.002 * canvas.width * canvas.height;
  };
  return [...document.querySelectorAll('[data-panel]')].map((el) => ({
    index: Number(el.getAttribute('data-panel')),
    type: el.getAttribute('data-type'),
    error: el.getAttribute('data-error'),
    title: el.querySelector('h2')?.textContent ?? '',
    canvases: [...el.querySelectorAll('canvas')].filter(nonBlank).length,
    legendItems: el.querySelectorAll('[data-testid^="data-testid VizLegend series"], [data-testid="data-testid viz-layout-legend"] tbody tr').length,
    tableRows: el.querySelectorAll('[role="row"]').length,
    nodes: el.querySelectorAll('[data-testid="node-graph"] circle').length,
    logLines: el.querySelectorAll('[data-testid="logs"] > div').length,
    text: el.textContent ?? '',
  }));
}

/** The problems of a drawn dashboard against its dashboard JSON and frames. */
function structureProblems(file, dashboard, answered, panels) {
  const problems = [];
  const expected = dashboard.panels ?? [];
  if (panels.length !== expected.length) {
    problems.push(`${file}: ${panels.length} panels drawn, the dashboard has ${expected.length}`);
  }
  for (const p of panels) {
    const where = `${file} panel ${p.index} (${expected[p.index]?.title})`;
    const answers = answered.panels.filter((a) => a.index === p.index);
    const error = answers.find((a) => a.error)?.error ?? '';
    if (p.error !== error) {
      problems.push(`${where}: shows the error "${p.error}", the plugin answered "${error}"`);
      continue;
    }
    if (error) {
      continue;
    }
    const frames = answers.flatMap((a) => a.frames ?? []);
    const rows = frames.reduce((n, f) => n + (f.data.values[0]?.length ?? 0), 0);
    const numbers = frames.flatMap((f) => f.schema.fields.filter((x) => x.type === 'number')).length;
    if (p.title !== expected[p.index]?.title) {
      problems.push(`${where}: titled "${p.title}"`);
    }
    if (rows === 0) {
      continue;
    }
    if (p.type === 'timeseries' && p.canvases === 0) {
      problems.push(`${where}: the graph's canvas is blank though ${numbers} series have data`);
    }
    const legend = expected[p.index]?.options?.legend?.showLegend !== false;
    if (p.type === 'timeseries' && legend && p.legendItems !== numbers) {
      problems.push(`${where}: the legend lists ${p.legendItems} series, the frames hold ${numbers}`);
    }
    if (p.type === 'table' && p.tableRows < 2) {
      problems.push(`${where}: the table shows no rows though the frame has ${rows}`);
    }
    if (p.type === 'nodeGraph' && p.nodes === 0) {
      problems.push(`${where}: the node graph shows no nodes`);
    }
    if (p.type === 'logs' && p.logLines === 0) {
      problems.push(`${where}: the logs panel shows no lines though the frame has ${rows}`);
    }
    if ((p.type === 'stat' || p.type === 'bargauge') && !/\d/.test(p.text)) {
      problems.push(`${where}: shows no values`);
    }
  }
  return problems;
}

/**
 * Compares two PNGs in the page, block by block: the share of BLOCK x BLOCK blocks whose mean
 * colour moved by more than BLOCK_DELTA in a channel, and a diff picture (those blocks red over a
 * dimmed copy). Means forgive what differs between machines at single pixels (anti-aliasing, a
 * glyph a pixel over) and still see text, lines or bars that come, go or move.
 */
async function comparePictures(page, expectedPng, actualPng) {
  return page.evaluate(
    async ({ expected, actual, block, delta }) => {
      const load = async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return { canvas, ctx, data: ctx.getImageData(0, 0, img.width, img.height) };
      };
      const [a, b] = await Promise.all([load(expected), load(actual)]);
      const { width, height } = a.data;
      if (width !== b.data.width || height !== b.data.height) {
        return { size: `${width}x${height} became ${b.data.width}x${b.data.height}` };
      }
      const out = b.ctx.createImageData(width, height);
      for (let i = 0; i < out.data.length; i += 4) {
        const grey = (b.data.data[i] + b.data.data[i + 1] + b.data.data[i + 2]) / 12;
        out.data.set([grey, grey, grey, 255], i);
      }
      const [pa, pb, po] = [a.data.data, b.data.data, out.data];
      let blocks = 0;
      let different = 0;
      for (let by = 0; by < height; by += block) {
        for (let bx = 0; bx < width; bx += block) {
          const [y1, x1] = [Math.min(by + block, height), Math.min(bx + block, width)];
          let [r, g, bl] = [0, 0, 0];
          for (let y = by; y < y1; y++) {
            for (let i = (y * width + bx) * 4, end = (y * width + x1) * 4; i < end; i += 4) {
              r += pa[i] - pb[i];
              g += pa[i + 1] - pb[i + 1];
              bl += pa[i + 2] - pb[i + 2];
            }
          }
          blocks++;
          const pixels = (y1 - by) * (x1 - bx);
          if (Math.max(Math.abs(r), Math.abs(g), Math.abs(bl)) / pixels > delta) {
            different++;
            for (let y = by; y < y1; y++) {
              for (let i = (y * width + bx) * 4, end = (y * width + x1) * 4; i < end; i += 4) {
                po.set([255, 0, 0, 255], i);
              }
            }
          }
        }
      }
      b.ctx.putImageData(out, 0, 0);
      return { ratio: different / blocks, diff: b.canvas.toDataURL('image/png').split(',')[1] };
    },
    { expected: expectedPng.toString('base64'), actual: actualPng.toString('base64'), block: BLOCK, delta: BLOCK_DELTA }
  );
}

const started = Date.now();
await bundle();
console.log(`dashboards: page bundled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
const server = await serve();
const url = `http://127.0.0.1:${server.address().port}/`;
const profile = mkdtempSync(join(tmpdir(), 'lakewatch-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--font-render-hinting=none'],
});
const failures = [];
try {
  mkdirSync(results, { recursive: true });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
  let loaded = false;
  for (const file of files) {
    const stem = basename(file, '.json');
    if (!existsSync(join(framesDir, file))) {
      failures.push(`${file}: no frames in ${shown(join(framesDir, file))}; run scripts/screenshots`);
      continue;
    }
    errors.length = 0;
    if (!loaded) {
      await page.goto(`${url}?dashboard=${encodeURIComponent(file)}`);
      loaded = true;
    } else {
      await page.evaluate((next) => window.lakewatchShow(next), file);
    }
    await page.waitForFunction(() => window.lakewatchReady || window.lakewatchFailed, null, { timeout: 60_000 });
    const failed = await page.evaluate(() => window.lakewatchFailed);
    if (failed) {
      failures.push(`${file}: the page failed: ${failed}`);
      continue;
    }
    await page.waitForTimeout(100);
    const dashboard = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8'));
    const answered = JSON.parse(readFileSync(join(framesDir, file), 'utf8'));
    const problems = structureProblems(file, dashboard, answered, await page.evaluate(drawn));
    failures.push(...problems, ...errors.map((e) => `${file}: ${e}`));
    const png = await page.screenshot({ fullPage: true });
    const actual = join(results, `${stem}.png`);
    writeFileSync(actual, png);
    const picture = join(pictures, `${stem}.png`);
    if (update) {
      mkdirSync(pictures, { recursive: true });
      writeFileSync(picture, png);
      console.log(`dashboards: wrote ${shown(picture)} (${Math.round(png.length / 1024)} KB)${problems.length ? ' — with problems' : ''}`);
      continue;
    }
    if (!existsSync(picture)) {
      failures.push(`${file}: no picture ${shown(picture)}; run scripts/screenshots (this one is ${shown(actual)})`);
      continue;
    }
    const compared = await comparePictures(page, readFileSync(picture), png);
    if (compared.size) {
      failures.push(`${file}: the picture's size changed (${compared.size}); new picture ${shown(actual)}`);
    } else if (compared.ratio > MAX_DIFFERENT) {
      const diff = join(results, `${stem}.diff.png`);
      writeFileSync(diff, Buffer.from(compared.diff, 'base64'));
      failures.push(`${file}: ${(compared.ratio * 100).toFixed(2)} % of the picture's ${BLOCK} px blocks differ from ${shown(picture)} (at most ${MAX_DIFFERENT * 100} % may); new picture ${shown(actual)}, diff ${shown(diff)}`);
    } else {
      console.log(`dashboards: ${file} looks as ${shown(picture)} (${(compared.ratio * 100).toFixed(2)} % of its blocks differ)`);
    }
  }
} catch (e) {
  failures.push(`dashboards: ${e.stack ?? e}`);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`dashboards: ${failures.length} problems:\n  ${failures.join('\n  ')}`);
  console.error('If the change is intended, run scripts/screenshots and check the new pictures in docs/img/.');
  process.exit(1);
}
console.log(`dashboards: ${update ? 'pictures written' : 'every dashboard drawn as its picture'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
