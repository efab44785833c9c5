// `kproxy graph` in headless Chromium: the page loads without errors, shows a node for every
// chain on the service's path and a label for every probability, and its screenshot is not blank.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import { explainProgram } from '../../src/tracer/explain.js';
import { buildServiceGraph, renderSvg } from '../../src/tracer/graph.js';
import { formatProbability } from '../../src/tracer/report.js';

// Runs in the page (as a string: the test is compiled without DOM types).
const PIXEL_STATS = `(async () => {
  const img = new Image();
  img.src = 'data:image/png;base64,B64';
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  let ink = 0;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] + data[i + 1] + data[i + 2] < 700) ink++;
    colours.add((data[i] >> 4) * 256 + (data[i + 1] >> 4) * 16 + (data[i + 2] >> 4));
  }
  return { ink, colours: colours.size, total: data.length / 4 };
})()`;

const CHROMIUM = '/usr/bin/chromium';
const OVERALL = repoPath('test/fixtures/dumps/overall-current.nft.save.txt');

/** Whether Debian's Chromium is here; skips `t` otherwise (a failure under KPROXY_E2E=required). */
function haveChromium(t: TestContext): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.KPROXY_E2E === 'required') assert.fail(`${CHROMIUM} is missing (Debian package chromium)`);
  t.skip(`${CHROMIUM} is missing`);
  return false;
}

/** Headless Chromium with a fresh profile directory (playwright passes it as --user-data-dir). */
function launchChromium(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 900 },
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/** Opens a file in a new page and asserts that it loaded without a page error or a console error. */
async function openWithoutErrors(browser: BrowserContext, file: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(pathToFileURL(file).href);
  assert.deepEqual(errors, []);
  return page;
}

/** Not blank: the screenshot, drawn into a canvas of `page`, has many non-white pixels of several colours. */
async function assertNotBlank(page: Page, png: Buffer): Promise<void> {
  const stats = await page.evaluate<{ ink: number; colours: number; total: number }>(PIXEL_STATS.replace('B64', png.toString('base64')));
  assert.ok(stats.ink / stats.total > 0.01, `ink ${stats.ink}/${stats.total}`);
  assert.ok(stats.colours >= 4, `colours ${stats.colours}`);
}

test('the graph has a node per chain on the path and edges labelled with the exact probabilities', () => {
  const program = lowerIptables(parseIptables(fs.readFileSync(repoPath('test/fixtures/dumps/nginx-current.nft.save.txt'), 'utf8')));
  const explanation = explainProgram(program);
  const graph = buildServiceGraph(program, explanation, []);
  assert.deepEqual(graph.sections.map((s) => s.title), ['default/nginx (tcp) cluster IP 172.18.255.127:80']);
  const section = graph.sections[0];
  assert.ok(section);
  assert.deepEqual(
    section.nodes.filter((n) => n.kind === 'chain').map((n) => n.label).sort(),
    ['KUBE-SEP-GLPL34GQHSYFHR3G', 'KUBE-SEP-HI2F4S4VJRUG452O', 'KUBE-SEP-QLIJNPST3ICX5TJY', 'KUBE-SVC-2CMXP7HKUVJN7L6M'],
  );
  const toEndpoints = section.edges.filter((e) => e.to.startsWith('endpoint:')).map((e) => [e.to, e.probability.toString()]);
  assert.deepEqual(toEndpoints, [
    ['endpoint:172.18.0.5:80', '715827883/2147483648'],
    ['endpoint:172.18.0.6:80', '1431655765/4294967296'],
    ['endpoint:172.18.0.7:80', '1431655765/4294967296'],
  ]);
  const svg = renderSvg(graph);
  assert.match(svg, /0\.33333333349/);
  assert.ok(!svg.includes('NaN') && !svg.includes('undefined'));
});

test('graph --out FILE.html renders in headless Chromium', async (t) => {
  if (!haveChromium(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-graph-'));
  const profile = path.join(dir, 'profile');
  const out = path.join(dir, 'svc5.html');
  const browser = await launchChromium(profile);
  try {
    const r = runKproxy(['graph', OVERALL, '--service', 'ns5/svc5', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const program = lowerIptables(parseIptables(fs.readFileSync(OVERALL, 'utf8')));
    const explanation = explainProgram(program);
    const svc5 = explanation.services.find((s) => s.name === 'ns5/svc5');
    assert.ok(svc5);
    const graph = buildServiceGraph(program, explanation, [svc5]);

    const page = await openWithoutErrors(browser, out);
    const nodeTitles = await page.locator('g.node title').allTextContents();
    for (const chain of svc5.chains) assert.ok(nodeTitles.includes(chain), `a node for ${chain}`);
    assert.ok(nodeTitles.includes('10.180.0.3:80'), 'a node for the endpoint');
    const labels = await page.locator('text.edge-label').allTextContents();
    const edges = graph.sections.flatMap((sec) => sec.edges);
    const sticky = ' — ClientIP affinity: first connections shown; a returning client keeps its endpoint';
    assert.deepEqual(
      graph.sections.map((sec) => sec.title.replace(/^ns5\/svc5:p80 \(tcp\) /, '')),
      ['cluster IP 172.30.0.45:80', 'load balancer IP 5.6.7.8:80', 'node port 3002'].map((t) => `${t}${sticky}`),
    );
    for (const e of edges) assert.ok(labels.includes(formatProbability(e.probability.toNumber())), `a label ${e.label}`);
    assert.equal(labels.length, edges.length);
    // every section reaches the endpoint with probability 1 (an allowed source for the load balancer)
    for (const sec of graph.sections) {
      const toEndpoint = sec.edges.filter((e) => e.to === 'endpoint:10.180.0.3:80');
      assert.deepEqual(toEndpoint.map((e) => e.label), ['1'], sec.title);
    }

    const png = await page.screenshot({ fullPage: true });
    await assertNotBlank(page, png);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('graph --out FILE.svg: the SVG alone loads in headless Chromium with every chain and probability of a sandbox dump', async (t) => {
  if (!haveChromium(t)) return;
  const dumpPath = repoPath('test/fixtures/dumps/sandbox-one-node.save.txt');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-graph-'));
  const out = path.join(dir, 'web-lb-ranges.svg');
  const browser = await launchChromium(path.join(dir, 'profile'));
  try {
    const r = runKproxy(['graph', dumpPath, '--service', 'default/web-lb-ranges', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(fs.readFileSync(out, 'utf8'), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const program = lowerIptables(parseIptables(fs.readFileSync(dumpPath, 'utf8')));
    const explanation = explainProgram(program);
    const svc = explanation.services.find((s) => s.name === 'default/web-lb-ranges');
    assert.ok(svc);
    const graph = buildServiceGraph(program, explanation, [svc]);
    // cluster IP, load-balancer IP and node port: three entry points, each spread over three pods
    assert.equal(graph.sections.length, 3);
    // the cluster IP is pictured for a pod's traffic (not masqueraded), the others for outside traffic (masqueraded)
    const masq = graph.sections.map((sec) => sec.nodes.some((n) => n.label === 'KUBE-MARK-MASQ'));
    assert.deepEqual(masq, [false, true, true], graph.sections.map((sec) => sec.title).join(' | '));
    const page = await openWithoutErrors(browser, out);
    const nodeTitles = await page.locator('g.node title').allTextContents();
    for (const chain of svc.chains) assert.ok(nodeTitles.includes(chain), `a node for ${chain}`);
    for (const ep of ['172.18.0.5:8080', '172.18.0.6:8080', '172.18.0.7:8080']) assert.ok(nodeTitles.includes(ep), `a node for ${ep}`);
    const labels = await page.locator('text.edge-label').allTextContents();
    const edges = graph.sections.flatMap((sec) => sec.edges);
    assert.equal(labels.length, edges.length);
    for (const p of ['1', '0.33333333349', '0.33333333326']) assert.ok(labels.includes(p), `a label ${p}`);
    // a full-page screenshot needs an HTML document: the viewport of the SVG, measured in a blank HTML page
    const png = await page.screenshot();
    const blank = await browser.newPage();
    await assertNotBlank(blank, png);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
