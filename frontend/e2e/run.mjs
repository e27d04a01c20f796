// End-to-end check in headless Chromium (Debian's `chromium`, driven by playwright-core): serves the
// built e2e page (e2e-dist/, from `node e2e/build.mjs`), fills the query, config and annotation
// editors in like a user, checks the JSON they produce, and saves screenshots of them.
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', 'e2e-dist');
const results = join(here, '..', 'test-results');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (!existsSync(join(root, 'index.html'))) {
  console.error(`e2e: ${root}/index.html is missing; build it first: node e2e/build.mjs`);
  process.exit(1);
}
if (!existsSync(executablePath)) {
  console.error(`e2e: no Chromium at ${executablePath}; install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  process.exit(1);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.svg': 'image/svg+xml', '.woff2': 'font/woff2' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  const file = join(root, path === '/' ? 'index.html' : path);
  if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;

const profile = mkdtempSync(join(tmpdir(), 'lakewatch-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const problems = [];
let failed = false;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Icons come from Grafana's own public/ folder at run time; this page has none, so their 404s are expected.
  const missingIcons = [];
  page.on('response', (r) => r.status() === 404 && (/\/img\/icons\//.test(r.url()) ? missingIcons.push(r.url()) : problems.push(`404: ${r.url()}`)));
  page.on('console', (m) => m.type() === 'error' && !/status of 404/.test(m.text()) && problems.push(`console error: ${m.text()}`));
  await page.goto(url);
  await page.waitForSelector('[data-testid="lakewatch-query-editor"]', { timeout: 30_000 });

  const json = async (id) => JSON.parse(await page.locator(`#${id}`).textContent());
  const choose = async (inputId, text) => {
    const input = page.locator(`#${inputId}`);
    await input.click();
    await input.fill(text);
    await page.keyboard.press('Enter');
  };
  const q = page.locator('#query-editor');

  // Query editor: a top-talkers table over two accounts, rejected traffic only, top 15.
  await choose('lakewatch-kind', 'Top talkers');
  await q.getByLabel('Either side').click({ force: true });
  await q.getByLabel('Packets').click({ force: true });
  await page.locator('#lakewatch-limit').fill('15');
  await choose('lakewatch-add-filter', 'Accounts');
  await choose('lakewatch-filter-accounts', '111122223333');
  await choose('lakewatch-filter-accounts', '$account');
  await choose('lakewatch-add-filter', 'Action');
  await choose('lakewatch-filter-action', 'REJECT');
  await choose('lakewatch-add-filter', 'Destination ports');
  await page.locator('#lakewatch-filter-dst_ports').fill('22, 3389');
  assert.deepEqual(await json('query-json'), {
    refId: 'A',
    kind: 'top_talkers',
    measure: 'packets',
    by: 'either',
    limit: 15,
    filters: { accounts: ['111122223333', '$account'], action: 'REJECT', dst_ports: [22, 3389] },
  });
  // SQL and back: the SQL keeps the accounts for $__partitionFilter; the builder gets everything back.
  await q.getByLabel('SQL', { exact: true }).click({ force: true });
  const sql = await json('query-json');
  assert.equal(sql.kind, 'sql');
  assert.deepEqual(sql.filters, { accounts: ['111122223333', '$account'] });
  assert.match(sql.rawSql, /FROM \$__table\(vpc_flow\)\nWHERE \$__partitionFilter AND \$__timeFilter\(time_dt\)/);
  for (const macro of ['$__timeFilter(column)', '$__timeFrom()', '$__timeTo()', '$__timeGroup(column, interval)', '$__unixEpochFilter(column)', '$__table(source)', '$__database', '$__partitionFilter']) {
    assert.ok((await page.locator('[data-testid="lakewatch-macros"]').textContent()).includes(macro), `macro ${macro} listed`);
  }
  await q.getByLabel('Builder').click({ force: true });
  assert.equal((await json('query-json')).kind, 'top_talkers');
  assert.deepEqual((await json('query-json')).filters, { accounts: ['111122223333', '$account'], action: 'REJECT', dst_ports: [22, 3389] });
  mkdirSync(results, { recursive: true });
  await q.screenshot({ path: join(results, 'query-editor.png') });

  // Config editor: Athena with keys and an assumed role.
  const c = page.locator('#config-editor');
  await c.getByLabel('Amazon Athena').click({ force: true });
  await page.locator('#lakewatch-defaultRegion').fill('eu-west-1');
  await choose('lakewatch-authType', 'Access and secret key');
  await page.locator('#lakewatch-accessKey').fill('AKIAEXAMPLE');
  await page.locator('#lakewatch-secretKey').fill('wJalrXUtnFEMI');
  await page.locator('#lakewatch-assumeRoleArn').fill('arn:aws:iam::111122223333:role/lakewatch-reader');
  await page.locator('#lakewatch-workgroup').fill('security');
  await page.locator('#lakewatch-outputLocation').fill('s3://athena-results/lakewatch/');
  await page.locator('#lakewatch-pricePerTbUsd').fill('5');
  await page.locator('#lakewatch-scanBudgetQueryGb').fill('2.5');
  await page.locator('#lakewatch-scanBudgetLoadGb').fill('50');
  assert.ok(await c.getByLabel('Discover (newest in the Glue database)').isChecked(), 'Discover is the source version when none is set');
  await c.getByLabel('Version 1').click({ force: true });
  assert.equal(await page.locator('#lakewatch-cacheTtlSeconds').getAttribute('placeholder'), '300', 'Athena keeps results 300 s by default');
  await page.locator('#lakewatch-cacheTtlSeconds').fill('600');
  await page.locator('#lakewatch-cacheMaxMb').fill('512');
  const athena = {
    engine: 'athena',
    defaultRegion: 'eu-west-1',
    authType: 'keys',
    assumeRoleArn: 'arn:aws:iam::111122223333:role/lakewatch-reader',
    workgroup: 'security',
    outputLocation: 's3://athena-results/lakewatch/',
    pricePerTbUsd: '5',
    scanBudgetQueryGb: '2.5',
    scanBudgetLoadGb: '50',
    sourceVersion: '1',
    cacheTtlSeconds: 600,
    cacheMaxMb: 512,
  };
  assert.deepEqual(await json('settings-json'), {
    jsonData: athena,
    secureJsonData: { accessKey: 'AKIAEXAMPLE', secretKey: 'wJalrXUtnFEMI' },
  });
  // Discover leaves the version out, so the backend looks it up in the Glue database.
  await c.getByLabel('Discover (newest in the Glue database)').click({ force: true });
  const { sourceVersion: _version, ...discovered } = athena;
  assert.deepEqual((await json('settings-json')).jsonData, discovered);
  // Bad values show the backend's wording at the field, and all of them again in one list.
  await page.locator('#lakewatch-outputLocation').fill('results');
  await page.getByText('Expected an S3 URI such as s3://my-athena-results/lakewatch/').first().waitFor();
  await page.locator('#lakewatch-cacheTtlSeconds').fill('5m');
  await page.locator('#lakewatch-scanBudgetLoadGb').fill('50 GB');
  const refused = page.locator('[data-testid="lakewatch-settings-problems"]');
  await page.getByText('3 settings will be refused').waitFor();
  const listed = await refused.textContent();
  for (const line of [
    'Output location: Expected an S3 URI such as s3://my-athena-results/lakewatch/',
    'Keep results (s): "5m" is not a number of seconds: enter a whole number from 0 to 86400 (300 is five minutes; 0 keeps no results)',
    'Per dashboard load (GB): "50 GB" is not an amount of GB: enter a number of gigabytes such as 10 or 2.5 (0 or empty: no budget)',
  ]) {
    assert.ok(listed.includes(line), `the summary lists ${line}`);
  }
  await page.locator('#lakewatch-scanBudgetLoadGb').scrollIntoViewIfNeeded();
  await c.screenshot({ path: join(results, 'config-editor-errors.png') });
  await page.locator('#lakewatch-outputLocation').fill('s3://athena-results/lakewatch/');
  await page.locator('#lakewatch-cacheTtlSeconds').fill('600');
  await page.locator('#lakewatch-scanBudgetLoadGb').fill('50');
  assert.equal(await refused.count(), 0, 'no refused setting left');
  assert.deepEqual((await json('settings-json')).jsonData, discovered);
  await c.screenshot({ path: join(results, 'config-editor.png') });

  // Annotation editor, as Grafana's annotation settings show it for a new annotation.
  await page.goto(`${url}?view=annotations`);
  await page.waitForSelector('[data-testid="lakewatch-annotation-editor"]', { timeout: 30_000 });
  const anno = async () => (await json('annotation-json')).target;
  assert.deepEqual(await anno(), { refId: 'Anno', kind: 'annotations', event: 'control_status_changes', control: 'EC2.6', filters: {} });
  await choose('lakewatch-control', '$control');
  await choose('lakewatch-add-filter', 'Accounts');
  await choose('lakewatch-filter-accounts', '$account');
  await choose('lakewatch-add-filter', 'VPCs');
  await choose('lakewatch-filter-vpcs', '$vpc');
  assert.deepEqual(await anno(), {
    refId: 'Anno',
    kind: 'annotations',
    event: 'control_status_changes',
    control: '$control',
    filters: { accounts: ['$account'], vpcs: ['$vpc'] },
  });
  const annotation = await json('annotation-json');
  assert.equal(annotation.name, 'EC2.6 status changes', 'the annotation itself is kept');
  await choose('lakewatch-event', 'Flow logs went silent');
  await page.locator('#lakewatch-silent_for_minutes').fill('90');
  await choose('lakewatch-group-by', 'account');
  await choose('lakewatch-group-by', 'region');
  await choose('lakewatch-group-by', 'vpc');
  assert.deepEqual(await anno(), {
    refId: 'Anno',
    kind: 'annotations',
    event: 'flow_logs_silent',
    silent_for_minutes: 90,
    group_by: ['account', 'region', 'vpc'],
    filters: { accounts: ['$account'], vpcs: ['$vpc'] },
  });
  assert.ok(Number(await page.locator('#annotation-json').getAttribute('data-runs')) > 0, 'the editor runs the annotation query');
  const a = page.locator('#annotation-editor');
  await a.screenshot({ path: join(results, 'annotation-editor.png') });

  for (const name of ['query-editor.png', 'config-editor.png', 'config-editor-errors.png', 'annotation-editor.png']) {
    const png = readFileSync(join(results, name));
    assert.ok(png.length > 5_000 && png.subarray(1, 4).toString() === 'PNG', `${name} is a non-empty PNG (${png.length} bytes)`);
    console.log(`e2e: ${join('frontend', 'test-results', name)} (${png.length} bytes)`);
  }
  assert.deepEqual(problems, [], 'no page or console errors');
  console.log('e2e: the query, config and annotation editors produce the expected JSON in Chromium');
} catch (e) {
  failed = true;
  console.error('e2e failed:', e);
  if (problems.length) {
    console.error(problems.join('\n'));
  }
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
