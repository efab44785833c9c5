// `kproxy graph` in headless Chromium: the page loads without errors, shows a node for every
// chain on the service's path and a label for every probability, the REJECT / DROP leaves and
// the conditions on the source where only some sources take an edge, and its screenshot is not
// blank. Without a browser: every entry point of every service of the fixture dumps ends in an
// endpoint or a verdict, and those verdicts are what `trace` gives for concrete sources.
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
import { buildServiceGraph, renderSvg, type GraphSection } from '../../src/tracer/graph.js';
import type { IrProgram } from '../../src/tracer/ir.js';
import { EMPTY_IPSETS } from '../../src/tracer/ipset.js';
import type { TracePacket } from '../../src/tracer/packet.js';
import { Rational } from '../../src/tracer/rational.js';
import { formatProbability } from '../../src/tracer/report.js';
import { trace } from '../../src/tracer/trace.js';

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
const ONE_NODE = repoPath('test/fixtures/dumps/sandbox-one-node.save.txt');
const NODE_2 = repoPath('test/fixtures/dumps/sandbox-two-nodes-node-2.save.txt');

function load(file: string): IrProgram {
  return lowerIptables(parseIptables(fs.readFileSync(file, 'utf8')));
}

function graphOf(program: IrProgram, name: string): GraphSection[] {
  const explanation = explainProgram(program);
  const svc = explanation.services.filter((s) => s.name === name);
  assert.ok(svc.length > 0, `service ${name}`);
  return [...buildServiceGraph(program, explanation, svc).sections];
}

/** Edges as `FROM -> TO [label] if condition`, with node labels. */
function edgeLines(section: GraphSection): string[] {
  const label = (id: string): string => section.nodes.find((n) => n.id === id)?.label ?? id;
  return section.edges.map((e) => `${label(e.from)} -> ${label(e.to)} [${e.label}]${e.condition === null ? '' : ` if ${e.condition}`}`);
}

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
    [...new Set(section.nodes.filter((n) => n.kind === 'chain').map((n) => n.label))].sort(),
    ['KUBE-MARK-MASQ', 'KUBE-SEP-GLPL34GQHSYFHR3G', 'KUBE-SEP-HI2F4S4VJRUG452O', 'KUBE-SEP-QLIJNPST3ICX5TJY', 'KUBE-SVC-2CMXP7HKUVJN7L6M'],
  );
  // masquerading is conditional on the source: a pod reaching itself (hairpin); this node has no cluster CIDR rule
  assert.deepEqual(
    edgeLines(section).filter((l) => l.includes('-> KUBE-MARK-MASQ')).sort(),
    [
      'KUBE-SEP-GLPL34GQHSYFHR3G -> KUBE-MARK-MASQ [0.33333333326] if -s 172.18.0.6/32',
      'KUBE-SEP-HI2F4S4VJRUG452O -> KUBE-MARK-MASQ [0.33333333326] if -s 172.18.0.7/32',
      'KUBE-SEP-QLIJNPST3ICX5TJY -> KUBE-MARK-MASQ [0.33333333349] if -s 172.18.0.5/32',
    ],
  );
  assert.ok(section.edges.filter((e) => e.to.startsWith('endpoint:')).every((e) => e.condition === null), 'every source reaches the endpoints');
  // a chain that only marks is drawn beside each caller: no edge crosses the picture to one shared node
  assert.equal(section.nodes.filter((n) => n.label === 'KUBE-MARK-MASQ').length, 3);
  assert.ok(!section.nodes.some((n) => n.kind === 'verdict'), 'nothing is rejected or dropped');
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
    // the load balancer's source range: allowed sources go on, the others are dropped by KUBE-PROXY-FIREWALL
    const lb = graph.sections[1];
    assert.ok(lb);
    assert.deepEqual(
      edgeLines(lb).filter((l) => l.startsWith('KUBE-FW-')),
      ['KUBE-FW-NUKIZ6OKUXPJNT4C -> KUBE-EXT-NUKIZ6OKUXPJNT4C [1] if -s 203.0.113.0/25', 'KUBE-FW-NUKIZ6OKUXPJNT4C -> DROP (filter/KUBE-PROXY-FIREWALL line 31) [1] if ! -s 203.0.113.0/25'],
    );
    assert.ok(nodeTitles.includes('DROP (filter/KUBE-PROXY-FIREWALL line 31)'), 'a node for the DROP');
    const conditions = await page.locator('text.edge-condition > title').allTextContents();
    assert.equal(conditions.length, edges.filter((e) => e.condition !== null).length);
    for (const c of ['-s 203.0.113.0/25', '! -s 203.0.113.0/25']) assert.ok(conditions.includes(c), `a condition ${c}`);

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
    // the cluster IP masquerades only some sources; the load balancer and the node port every one (externalTrafficPolicy: Cluster)
    const masq = graph.sections.map((sec) => edgeLines(sec).filter((l) => l.includes('-> KUBE-MARK-MASQ') && !l.includes(' if ')));
    assert.deepEqual(masq, [[], ['KUBE-EXT-NPUVND5R4Z7HPIF5 -> KUBE-MARK-MASQ [1]'], ['KUBE-EXT-NPUVND5R4Z7HPIF5 -> KUBE-MARK-MASQ [1]']]);
    const [, lb] = graph.sections;
    assert.ok(lb);
    assert.deepEqual(
      edgeLines(lb).filter((l) => l.startsWith('KUBE-FW-') || l.startsWith('load balancer')),
      [
        'load balancer IP 203.0.113.11:80 -> KUBE-FW-NPUVND5R4Z7HPIF5 [1]',
        'KUBE-FW-NPUVND5R4Z7HPIF5 -> KUBE-EXT-NPUVND5R4Z7HPIF5 [1] if -s 198.51.100.1/32',
        'KUBE-FW-NPUVND5R4Z7HPIF5 -> DROP (filter/KUBE-PROXY-FIREWALL line 27) [1] if ! -s 198.51.100.1/32',
      ],
    );
    const page = await openWithoutErrors(browser, out);
    const nodeTitles = await page.locator('g.node title').allTextContents();
    for (const chain of svc.chains) assert.ok(nodeTitles.includes(chain), `a node for ${chain}`);
    for (const ep of ['172.18.0.5:8080', '172.18.0.6:8080', '172.18.0.7:8080']) assert.ok(nodeTitles.includes(ep), `a node for ${ep}`);
    const labels = await page.locator('text.edge-label').allTextContents();
    const edges = graph.sections.flatMap((sec) => sec.edges);
    assert.equal(labels.length, edges.length);
    for (const p of ['1', '0.33333333349', '0.33333333326']) assert.ok(labels.includes(p), `a label ${p}`);
    assert.ok(nodeTitles.includes('DROP (filter/KUBE-PROXY-FIREWALL line 27)'), 'a node for the DROP of denied sources');
    const conditions = await page.locator('text.edge-condition > title').allTextContents();
    for (const c of ['-s 198.51.100.1/32', '! -s 198.51.100.1/32', '! -s 172.18.0.0/16']) assert.ok(conditions.includes(c), `a condition ${c}`);
    // a full-page screenshot needs an HTML document: the viewport of the SVG, measured in a blank HTML page
    const png = await page.screenshot();
    const blank = await browser.newPage();
    await assertNotBlank(blank, png);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('graph of a service without endpoints and of a node without local endpoints: the REJECT and DROP leaves, in headless Chromium', async (t) => {
  if (!haveChromium(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-graph-'));
  const browser = await launchChromium(path.join(dir, 'profile'));
  try {
    const cases = [
      { dump: ONE_NODE, service: 'default/nothing', leaf: 'REJECT (filter/KUBE-SERVICES line 28)', condition: null },
      { dump: NODE_2, service: 'default/solo-local', leaf: 'DROP (filter/KUBE-EXTERNAL-SERVICES line 23)', condition: '! -s 172.18.0.0/16, ! --src-type LOCAL' },
    ];
    for (const c of cases) {
      const out = path.join(dir, `${c.service.replace('/', '-')}.html`);
      const r = runKproxy(['graph', c.dump, '--service', c.service, '--out', out]);
      assert.equal(r.status, 0, r.stderr);
      const sections = graphOf(load(c.dump), c.service);
      assert.match(r.stderr, new RegExp(`wrote .* \\(${sections.length} entry point\\(s\\)\\)`));
      const page = await openWithoutErrors(browser, out);
      const nodeTitles = await page.locator('g.node title').allTextContents();
      assert.ok(nodeTitles.includes(c.leaf), `${c.service}: a node ${c.leaf} among ${nodeTitles.join(' | ')}`);
      const labels = await page.locator('text.edge-label').allTextContents();
      assert.equal(labels.length, sections.flatMap((sec) => sec.edges).length);
      const conditions = await page.locator('text.edge-condition > title').allTextContents();
      if (c.condition !== null) assert.ok(conditions.includes(c.condition), `${c.service}: a condition ${c.condition} among ${conditions.join(' | ')}`);
      await assertNotBlank(page, await page.screenshot({ fullPage: true }));
    }
    // the service without endpoints: its cluster IP, straight to the REJECT
    const [nothing] = graphOf(load(ONE_NODE), 'default/nothing');
    assert.deepEqual(nothing && edgeLines(nothing), ['cluster IP 172.18.255.10:80 -> REJECT (filter/KUBE-SERVICES line 28) [1]']);
    // node-2 has no endpoint of solo-local: its node port serves pods and the node itself (cluster-wide), drops the rest
    const nodePort = graphOf(load(NODE_2), 'default/solo-local').find((sec) => sec.title.includes('node port 30000'));
    assert.ok(nodePort);
    assert.deepEqual(edgeLines(nodePort).filter((l) => l.startsWith('KUBE-EXT-')).sort(), [
      'KUBE-EXT-KODJMWCFIO5OZFRL -> DROP (filter/KUBE-EXTERNAL-SERVICES line 23) [1] if ! -s 172.18.0.0/16, ! --src-type LOCAL',
      'KUBE-EXT-KODJMWCFIO5OZFRL -> KUBE-MARK-MASQ [1] if ! -s 172.18.0.0/16, --src-type LOCAL',
      'KUBE-EXT-KODJMWCFIO5OZFRL -> KUBE-SVC-KODJMWCFIO5OZFRL [1] if -s 172.18.0.0/16 or ! -s 172.18.0.0/16, --src-type LOCAL',
    ]);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The 1.18 format, rendered by kproxy: a load balancer with a source range and externalTrafficPolicy Local, its endpoint on another node. */
function legacyLoadBalancer(): IrProgram {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-graph-'));
  try {
    const manifests = path.join(dir, 'lb.yaml');
    fs.writeFileSync(
      manifests,
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: lb, namespace: default}',
        'spec:',
        '  type: LoadBalancer',
        '  clusterIP: 10.96.0.20',
        '  loadBalancerSourceRanges: [198.51.100.1/32]',
        '  externalTrafficPolicy: Local',
        '  healthCheckNodePort: 32000',
        '  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]',
        'status: {loadBalancer: {ingress: [{ip: 203.0.113.20}]}}',
        '---',
        'apiVersion: discovery.k8s.io/v1',
        'kind: EndpointSlice',
        'metadata: {name: lb-a, namespace: default, labels: {kubernetes.io/service-name: lb}}',
        'addressType: IPv4',
        'ports: [{port: 8080, protocol: TCP}]',
        'endpoints: [{addresses: ["10.244.1.5"], conditions: {ready: true}, nodeName: node-2}]',
        '',
      ].join('\n'),
    );
    const r = runKproxy(['rules', '-f', manifests, '--hostname-override', 'node-1', '--cluster-cidr', '10.244.0.0/16', '--format', 'legacy']);
    assert.equal(r.status, 0, r.stderr);
    return lowerIptables(parseIptables(r.stdout));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const SIDE_EFFECT_CHAINS = new Set(['KUBE-MARK-MASQ', 'KUBE-MARK-DROP']);

test('every entry point of every service of the fixture dumps is pictured, and every path ends in an endpoint or a verdict', () => {
  const programs: [string, IrProgram][] = [
    ...[ONE_NODE, NODE_2, OVERALL, repoPath('test/fixtures/dumps/overall-current.legacy.save.txt'), repoPath('test/fixtures/dumps/nginx-2018.legacy.save.txt')].map(
      (f): [string, IrProgram] => [path.basename(f), load(f)],
    ),
    ['overall-current.restore.txt', lowerIptables(parseIptables(fs.readFileSync(repoPath('test/fixtures/dumps/inputs/overall-current.restore.txt'), 'utf8')))],
    ['legacy load balancer', legacyLoadBalancer()],
  ];
  let sections = 0;
  const verdicts = new Set<string>();
  for (const [name, program] of programs) {
    const explanation = explainProgram(program);
    const graph = buildServiceGraph(program, explanation, []);
    assert.equal(graph.sections.length, explanation.services.reduce((n, s) => n + s.entries.length, 0), `${name}: a section per entry point`);
    for (const sec of graph.sections) {
      const where = `${name}: ${sec.title}`;
      assert.ok(sec.edges.some((e) => e.from === 'entry'), `${where}: something leaves the entry`);
      for (const n of sec.nodes) {
        if (n.id !== 'entry') assert.ok(sec.edges.some((e) => e.to === n.id), `${where}: ${n.label} is reached`);
        const sink = !sec.edges.some((e) => e.from === n.id);
        if (sink) assert.ok(n.kind === 'endpoint' || n.kind === 'verdict' || SIDE_EFFECT_CHAINS.has(n.label), `${where}: the path through ${n.label} ends nowhere`);
        if (n.kind === 'verdict') verdicts.add(n.label.split(' ')[0] ?? '');
        assert.ok(!n.label.startsWith('untraceable'), `${where}: ${n.label}`);
      }
      for (const e of sec.edges) assert.ok(!e.probability.isZero() && e.probability.compare(Rational.ONE) <= 0, `${where}: ${e.from} → ${e.to} has p=${e.label}`);
      sections++;
    }
  }
  assert.ok(sections >= 30, `${sections} sections`);
  assert.deepEqual([...verdicts].sort(), ['DROP', 'NO_SERVICE:', 'REJECT']);
});

test('the picture\'s leaves are what `trace` gives for sources that meet each condition', () => {
  const cases: { dump: string | IrProgram; service: string; entry: string; packet: TracePacket; nodeIPs: string[] }[] = [
    { dump: ONE_NODE, service: 'default/web-lb-ranges', entry: 'load balancer', packet: ext('198.51.100.1', '203.0.113.11', 80), nodeIPs: ['198.51.100.2'] },
    { dump: ONE_NODE, service: 'default/web-lb-ranges', entry: 'load balancer', packet: ext('198.51.100.200', '203.0.113.11', 80), nodeIPs: ['198.51.100.2'] },
    { dump: ONE_NODE, service: 'default/nothing', entry: 'cluster IP', packet: { ...ext('172.18.0.254', '172.18.255.10', 80), from: 'pod' }, nodeIPs: ['198.51.100.2'] },
    { dump: NODE_2, service: 'default/solo-local', entry: 'node port', packet: ext('198.51.100.1', '198.51.100.3', 30000), nodeIPs: ['198.51.100.3'] },
    { dump: NODE_2, service: 'default/solo-local', entry: 'node port', packet: { ...ext('172.18.1.9', '198.51.100.3', 30000), from: 'pod' }, nodeIPs: ['198.51.100.3'] },
    { dump: legacyLoadBalancer(), service: 'default/lb', entry: 'node port', packet: ext('192.0.2.7', '192.168.0.2', 30080), nodeIPs: ['192.168.0.2'] },
    { dump: legacyLoadBalancer(), service: 'default/lb', entry: 'node port', packet: { ...ext('10.244.0.9', '192.168.0.2', 30080), from: 'pod' }, nodeIPs: ['192.168.0.2'] },
  ];
  const seen = new Set<string>();
  for (const c of cases) {
    const program = typeof c.dump === 'string' ? load(c.dump) : c.dump;
    const section = graphOf(program, c.service).find((sec) => sec.title.includes(` ${c.entry} `));
    assert.ok(section, `${c.service}: a ${c.entry} section`);
    const labels = new Set(section.nodes.map((n) => n.label));
    const traced = trace(program, c.packet, { nodeIPs: c.nodeIPs, ipsets: EMPTY_IPSETS });
    for (const o of traced.outcomes) {
      const at = o.decidedAt === null ? '' : ` (${o.decidedAt.table}/${o.decidedAt.chain}${o.decidedAt.line === null ? '' : ` line ${o.decidedAt.line}`})`;
      const expected = o.verdict === 'DNAT' && o.decidedAt === null ? (o.endpoint ?? '') : `${o.verdict}${at}`;
      assert.ok(labels.has(expected), `${c.service} from ${c.packet.src}: trace says ${expected}; the picture has ${[...labels].join(' | ')}`);
      seen.add(o.verdict);
    }
  }
  assert.deepEqual([...seen].sort(), ['DNAT', 'DROP', 'REJECT']);
});

function ext(src: string, dst: string, dport: number): TracePacket {
  return { src, dst, dport, sport: 40000, protocol: 'tcp', from: 'external', inInterface: 'eth0', outInterface: 'eth0' };
}
