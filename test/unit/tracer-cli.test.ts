// `kproxy trace` and `kproxy explain` as a user runs them (the built CLI in a child process):
// the JSON shapes of the command-line contract, text output, usage errors, stdin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKproxy as kproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const DUMP = repoPath('test/fixtures/dumps/nginx-current.nft.save.txt');

interface TraceOut {
  verdict: string;
  distribution: Record<string, number>;
  exact: Record<string, string>;
  masquerade: boolean;
  path: { table: string; chain: string; line: number | null; position: number | null; rule: string; matched: boolean; assumed?: boolean }[];
  returning: TraceOut | null;
}

const PACKET = ['--src', '172.18.0.9', '--dst', '172.18.255.127:80', '--proto', 'tcp', '--from', 'pod'];

test('trace --json: only JSON on stdout, with verdict, distribution, masquerade, path and returning', () => {
  const r = kproxy(['trace', '--rules', DUMP, ...PACKET, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut;
  assert.equal(out.verdict, 'DNAT');
  assert.deepEqual(Object.keys(out.distribution), ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80']);
  for (const p of Object.values(out.distribution)) assert.ok(Math.abs(p - 1 / 3) < 1e-6);
  assert.equal(out.exact['172.18.0.5:80'], '715827883/2147483648');
  assert.equal(out.masquerade, false);
  assert.equal(out.returning, null);
  const first = out.path[0];
  assert.deepEqual(first && [first.table, first.chain, first.line, first.matched], ['nat', 'PREROUTING', 43, true]);
  assert.ok(out.path.every((s) => typeof s.rule === 'string'));
});

test('trace reads the dump from stdin, and prints a readable path and distribution', () => {
  const r = kproxy(['trace', '--rules', '-', ...PACKET], fs.readFileSync(DUMP, 'utf8'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /verdict: DNAT/);
  assert.match(r.stdout, /0\.33333333349 DNAT → 172\.18\.0\.5:80 +\(exactly 715827883\/2147483648\)/);
  assert.match(r.stdout, /✓ nat\/KUBE-SVC-2CMXP7HKUVJN7L6M line 58: .*--probability 0\.33333333349/);
  assert.match(r.stdout, /masquerade: no/);
});


test('trace -f renders manifests (the article example) and traces what kproxy would program', () => {
  const r = kproxy(['trace', '-f', repoPath('examples/article-nginx-endpoints.yaml'), '--hostname-override', 'node-1', ...PACKET, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut;
  assert.deepEqual(out.exact, {
    '172.18.0.5:80': '715827883/2147483648',
    '172.18.0.6:80': '1431655765/4294967296',
    '172.18.0.7:80': '1431655765/4294967296',
  });
});

test('trace -f: rendered rules carry the lines of `kproxy rules` output; only the jumps the tracer added are "(assumed)"', () => {
  const manifests = ['-f', repoPath('examples/article-nginx-endpoints.yaml'), '--hostname-override', 'node-1', '--cluster-cidr', '172.18.0.0/16'];
  const rules = kproxy(['rules', ...manifests]);
  assert.equal(rules.status, 0, rules.stderr);
  const lines = rules.stdout.split('\n');
  const r = kproxy(['trace', ...manifests, ...PACKET, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut & { notes: string[] };
  const ruleSteps = out.path.filter((s) => s.position !== null);
  const assumed = ruleSteps.filter((s) => s.assumed === true);
  const numbered = ruleSteps.filter((s) => s.assumed !== true);
  // kproxy's restore input holds no jumps from the built-in chains: those (and only those) are assumed
  assert.ok(assumed.length > 0 && assumed.every((s) => ['PREROUTING', 'FORWARD', 'POSTROUTING', 'INPUT', 'OUTPUT'].includes(s.chain) && s.line === null));
  assert.ok(numbered.some((s) => s.chain.startsWith('KUBE-SVC-')) && numbered.some((s) => s.chain.startsWith('KUBE-SEP-')));
  for (const s of numbered) {
    assert.ok(s.line !== null, `${s.rule} has a line`);
    assert.equal(lines[s.line - 1], s.rule, `line ${s.line} of \`kproxy rules\` is the traced rule`);
  }
  assert.ok(out.notes.some((n) => n.includes('lines of `kproxy rules` output')));
  const text = kproxy(['trace', ...manifests, ...PACKET]);
  assert.equal(text.status, 0, text.stderr);
  const assumedLines = text.stdout.split('\n').filter((l) => l.includes('(assumed)') && !l.startsWith('note:'));
  assert.ok(assumedLines.length > 0);
  for (const l of assumedLines) assert.match(l, / (nat|filter)\/(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) \(assumed\) -A \2 /);
  assert.match(text.stdout, /✓ nat\/KUBE-SVC-2CMXP7HKUVJN7L6M line \d+: -A KUBE-SVC-2CMXP7HKUVJN7L6M .*--probability/);
  assert.doesNotMatch(text.stdout, /KUBE-(SVC|SEP|SERVICES)[-A-Z0-9]* \(assumed\)/);
});

test('trace: session affinity shows the returning client', () => {
  const r = kproxy([
    'trace', '--rules', repoPath('test/fixtures/dumps/overall-current.nft.save.txt'),
    '--src', '203.0.113.5', '--dst', '5.6.7.8:80', '--proto', 'tcp', '--from', 'external', '--node-ip', '192.168.0.2', '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut;
  assert.deepEqual(out.distribution, { '10.180.0.3:80': 1 });
  assert.equal(out.masquerade, true);
  assert.ok(out.returning);
  assert.deepEqual(out.returning.distribution, { '10.180.0.3:80': 1 });
  assert.ok(out.returning.path.some((s) => s.matched && s.rule.includes('--rcheck')));
});

test('trace: usage errors and untraceable rules exit 2 with a coded message', () => {
  const noRules = kproxy(['trace', ...PACKET]);
  assert.equal(noRules.status, 2);
  assert.match(noRules.stderr, /give the rules with either --rules DUMP .* or -f PATH .*\[E_USAGE\]/);
  const badDst = kproxy(['trace', '--rules', DUMP, '--src', '1.2.3.4', '--dst', '1.2.3.4', '--proto', 'tcp', '--from', 'pod']);
  assert.match(badDst.stderr, /--dst: expected IP:PORT/);
  const dump = '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m owner --uid-owner 0 -j ACCEPT\nCOMMIT\n';
  const untraceable = kproxy(['trace', '--rules', '-', ...PACKET], dump);
  assert.equal(untraceable.status, 2);
  assert.match(untraceable.stderr, /cannot trace past line 3 \(table nat, chain PREROUTING\): -m owner: .*\[E_TRACE\]/);
  const broken = kproxy(['trace', '--rules', '-', ...PACKET], '*nat\n-A X -j Y\n');
  assert.match(broken.stderr, /stdin:1: table nat has no COMMIT line.*\[E_PARSE\]/);
});

test('exit statuses as docs/explain.md gives them: 0 done, 1 diff found differences, 2 any error (usage errors of the option parser too)', () => {
  const manifests = ['-f', repoPath('examples/article-nginx-endpoints.yaml'), '--hostname-override', 'node-1', '--cluster-cidr', '172.18.0.0/16'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-status-'));
  try {
    const ok: [string, string[]][] = [
      ['trace', ['trace', '--rules', DUMP, ...PACKET]],
      ['explain', ['explain', DUMP]],
      ['graph', ['graph', DUMP, '--out', path.join(dir, 'g.svg')]],
      ['diff, the same', ['diff', ...manifests, '--rules', DUMP]],
    ];
    for (const [what, args] of ok) assert.equal(kproxy(args).status, 0, what);
    const differ = kproxy(['diff', ...manifests, '--rules', repoPath('test/fixtures/dumps/sandbox-one-node.save.txt')]);
    assert.equal(differ.status, 1, differ.stderr);
    const coded: [string, string[], RegExp][] = [
      ['a missing file', ['explain', path.join(dir, 'missing.rules')], /\[E_INPUT\]$/m],
      ['a missing required flag', ['trace', '--rules', DUMP, '--src', '1.2.3.4', '--dst', '1.2.3.4:80', '--proto', 'tcp'], /--from .* is required \[E_USAGE\]$/m],
      ['diff without --rules', ['diff', ...manifests], /\[E_USAGE\]$/m],
      ['graph without --out', ['graph', DUMP], /\[E_USAGE\]$/m],
      ['graph of an unknown service', ['graph', DUMP, '--service', 'default/none', '--out', path.join(dir, 'x.svg')], /no service default\/none .*\[E_INPUT\]$/m],
      ['graph into a missing folder', ['graph', DUMP, '--out', path.join(dir, 'no', 'x.svg')], /\[E_OUTPUT\]$/m],
      ['an untraceable rule', ['trace', '--rules', repoPath('test/fixtures/dumps/article-2018.lines.txt'), '--src', '172.18.0.5', '--dst', '172.18.255.127:80', '--proto', 'tcp', '--from', 'pod'], /\[E_TRACE\]$/m],
    ];
    for (const [what, args, message] of coded) {
      const r = kproxy(args);
      assert.equal(r.status, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /^kproxy: /, what);
      assert.match(r.stderr, message, what);
      assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    }
    const parser: [string, string[]][] = [
      ['an unknown option', ['explain', DUMP, '--bogus']],
      ['a missing argument', ['explain']],
      ['an invalid choice', ['trace', '--rules', DUMP, '--src', '1.2.3.4', '--dst', '1.2.3.4:80', '--proto', 'icmp', '--from', 'pod']],
      ['an option without its value', ['graph', DUMP, '--out']],
    ];
    for (const [what, args] of parser) {
      const r = kproxy(args);
      assert.equal(r.status, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /^kproxy: .*\(see kproxy \w+ --help\)$/m, what);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('explain --json: services with name, clusterIP, endpoints; anomalies', () => {
  const r = kproxy(['explain', DUMP, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { services: { name: string; clusterIP: string; endpoints: { address: string; probability: number }[] }[]; anomalies: unknown[] };
  const nginx = out.services.find((s) => s.name === 'default/nginx');
  assert.ok(nginx);
  assert.equal(nginx.clusterIP, '172.18.255.127');
  assert.deepEqual(nginx.endpoints.map((e) => e.address), ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80']);
  assert.deepEqual(out.anomalies, []);
  const text = kproxy(['explain', repoPath('test/fixtures/dumps/overall-current.nft.save.txt')]);
  assert.match(text.stdout, /ns5\/svc5:p80 \(tcp\)\n {2}cluster IP {6}172\.30\.0\.45:80/);
  assert.match(text.stdout, /affinity {8}ClientIP, 10800s/);
  assert.match(text.stdout, /no-endpoints: filter\/KUBE-SERVICES: ns6\/svc6:p80 \(tcp\) has no endpoints/);
});

test('bare rule lines (the article\'s `iptables-save | grep nginx`): read as the nat table, said in a note, lines kept', () => {
  const lines = repoPath('test/fixtures/dumps/article-2018.lines.txt');
  const r = kproxy(['trace', '--rules', lines, ...PACKET, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as TraceOut & { notes: string[] };
  assert.deepEqual(Object.keys(out.distribution), ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80']);
  assert.ok(out.notes.some((n) => n.includes('no "*table" line') && n.includes('nat table')), out.notes.join('\n'));
  const svcRule = out.path.find((s) => s.matched && s.chain === 'KUBE-SVC-4N57TFCL4MD7ZTDA');
  assert.equal(svcRule?.line, 8, 'line numbers are those of the input file');
  const explained = kproxy(['explain', lines, '--json']);
  const e = JSON.parse(explained.stdout) as { services: { name: string; clusterIP: string }[]; notes: string[] };
  assert.deepEqual(e.services.map((s) => [s.name, s.clusterIP]), [['default/nginx', '172.18.255.127']]);
  assert.ok(e.notes.some((n) => n.includes('nat table')));
  const bad = kproxy(['explain', '-'], '-A KUBE-SERVICES -j\n-A X "unterminated\n');
  assert.match(bad.stderr, /stdin:2: .*\[E_PARSE\]/, 'errors name the input line');
});

test('trace --ipset FILE: -m set rules look the packet up in `ipset save` output', () => {
  const dump = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    '-A FORWARD -m set --match-set blocked src -j DROP',
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    '-A PREROUTING -d 172.18.255.127/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.18.0.5:80',
    'COMMIT',
    '',
  ].join('\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-ipset-'));
  try {
    const rules = path.join(dir, 'rules.txt');
    const sets = path.join(dir, 'sets.txt');
    fs.writeFileSync(rules, dump);
    fs.writeFileSync(sets, 'create blocked hash:net family inet hashsize 1024 maxelem 65536\nadd blocked 172.18.0.0/28\n');
    const blocked = JSON.parse(kproxy(['trace', '--rules', rules, '--ipset', sets, ...PACKET, '--json']).stdout) as TraceOut;
    assert.deepEqual([blocked.verdict, blocked.distribution], ['DROP', {}], '172.18.0.9 is in 172.18.0.0/28');
    const other = ['--src', '172.18.0.20', ...PACKET.slice(2)];
    const passed = JSON.parse(kproxy(['trace', '--rules', rules, '--ipset', sets, ...other, '--json']).stdout) as TraceOut;
    assert.deepEqual([passed.verdict, passed.distribution], ['DNAT', { '172.18.0.5:80': 1 }]);
    const missing = kproxy(['trace', '--rules', rules, ...PACKET]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /ipset blocked is not known: give its contents with --ipset FILE.*\[E_TRACE\]/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('trace: IPv6 endpoints are [ip]:port keys; --node-ip is checked; without it a note says what is LOCAL', () => {
  const dump = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d fd00:10:96::10/128 -p tcp -m tcp --dport 80 -j DNAT --to-destination [fd00:10:244::5]:8080',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    '-A KUBE-NODEPORTS -p tcp -m tcp --dport 30080 -j DNAT --to-destination [fd00:10:244::6]:8080',
    'COMMIT',
    '',
  ].join('\n');
  const v6 = ['--src', 'fd00:10:244::9', '--proto', 'tcp', '--from', 'pod', '--json'];
  const cluster = JSON.parse(kproxy(['trace', '--rules', '-', '--dst', '[fd00:10:96::10]:80', ...v6], dump).stdout) as TraceOut & { notes: string[] };
  assert.deepEqual(cluster.distribution, { '[fd00:10:244::5]:8080': 1 });
  assert.ok(cluster.notes.some((n) => n.startsWith('no --node-ip given')));
  const nodePort = JSON.parse(kproxy(['trace', '--rules', '-', '--dst', '[fd00::2]:30080', '--node-ip', 'fd00::2', ...v6], dump).stdout) as TraceOut & { notes: string[] };
  assert.deepEqual(nodePort.distribution, { '[fd00:10:244::6]:8080': 1 });
  assert.ok(!nodePort.notes.some((n) => n.startsWith('no --node-ip given')));
  const notLocal = JSON.parse(kproxy(['trace', '--rules', '-', '--dst', '[fd00::2]:30080', ...v6], dump).stdout) as TraceOut;
  assert.deepEqual([notLocal.verdict, notLocal.distribution], ['NO_SERVICE', {}]);
  const bad = kproxy(['trace', '--rules', '-', '--dst', '[fd00::2]:30080', '--node-ip', 'node-1', ...v6], dump);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--node-ip: not an IP address: "node-1" \[E_USAGE\]/);
});

test('trace -f with a proxy mode whose rules are not traced says why', () => {
  const manifests = repoPath('examples/article-nginx-endpoints.yaml');
  // userspace mode is traced up to the proxy's listener (tracer-userspace.test.ts)
  for (const [mode, why] of [['nftables', /only iptables rules are traced so far/]] as const) {
    const r = kproxy(['trace', '-f', manifests, '--hostname-override', 'node-1', '--proxy-mode', mode, ...PACKET]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`trace -f with --proxy-mode ${mode}: .*\\[E_UNSUPPORTED\\]`));
    assert.match(r.stderr, why);
  }
});

test('trace text: a sticky service says so, with each returning outcome after its first endpoint', () => {
  const r = kproxy(['trace', '--rules', repoPath('test/fixtures/dumps/sandbox-one-node.save.txt'), '--src', '198.51.100.1', '--dst', '198.51.100.2:30003', '--proto', 'tcp', '--from', 'external', '--node-ip', '198.51.100.2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /after 172\.18\.0\.6:8080: DNAT → 172\.18\.0\.6:8080, masqueraded/);
  assert.match(r.stdout, /sticky: a returning client always reaches the endpoint of its first packet/);
  const json = JSON.parse(kproxy(['trace', '--rules', repoPath('test/fixtures/dumps/sandbox-one-node.save.txt'), '--src', '198.51.100.1', '--dst', '198.51.100.2:30003', '--proto', 'tcp', '--from', 'external', '--node-ip', '198.51.100.2', '--json']).stdout) as { stickiness: number; returning: { outcomes: { after: string }[] } };
  assert.equal(json.stickiness, 1);
  assert.ok(json.returning.outcomes.every((o) => typeof o.after === 'string'));
});

test('explain prints a table of the services before the details', () => {
  const r = kproxy(['explain', repoPath('test/fixtures/dumps/sandbox-one-node.save.txt')]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0] ?? '', /^SERVICE +PROTO +CLUSTER-IP +NODE-PORTS +EXTERNAL\/LB-IPS +ENDPOINTS +AFFINITY +POLICY int\/ext$/);
  assert.ok(lines.some((l) => /^default\/web-sticky +tcp +172\.18\.255\.17:80 +30003 +- +3 +ClientIP 1s +Cluster\/Cluster$/.test(l)));
  assert.ok(lines.some((l) => /^default\/nothing +tcp +172\.18\.255\.10:80 +- +- +REJECT /.test(l)));
});

test('help: every option of trace, explain, diff and graph is described, and the input formats are explained', () => {
  for (const command of ['trace', 'explain', 'diff', 'graph']) {
    const r = kproxy([command, '--help']);
    assert.equal(r.status, 0, r.stderr);
    const options = r.stdout.slice(r.stdout.indexOf('Options:'));
    for (const line of options.split('\n').slice(1)) {
      if (!line.startsWith('  -')) continue;
      assert.match(line, /^ {2}-\S.*\S {2,}\S/, `${command}: an option without a description: ${line}`);
    }
    assert.match(r.stdout, /Rules \(DUMP\): the output of iptables-save/, `${command} explains what a dump may be`);
  }
  const trace = kproxy(['trace', '--help']).stdout;
  assert.match(trace, /--node-ip <ip> +an address of the node \(repeatable\): with --rules, the addresses addrtype LOCAL matches/);
  assert.match(trace, /Manifests \(-f PATH\)/);
});

test('explain -f names the services of a dump without comments by their chain hashes, IPv6-only services too', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kproxy-names-'));
  try {
    const manifests = path.join(dir, 'web6.yaml');
    fs.writeFileSync(
      manifests,
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: web6, namespace: default}',
        'spec:',
        '  ipFamilies: [IPv6]',
        '  clusterIP: fd00:10:96::10',
        '  clusterIPs: [fd00:10:96::10]',
        '  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]',
        '---',
        'apiVersion: discovery.k8s.io/v1',
        'kind: EndpointSlice',
        'metadata: {name: web6-a, namespace: default, labels: {kubernetes.io/service-name: web6}}',
        'addressType: IPv6',
        'ports: [{name: http, port: 8080, protocol: TCP}]',
        'endpoints: [{addresses: ["fd00:10:244::5"], conditions: {ready: true}, nodeName: node-1}]',
        '',
      ].join('\n'),
    );
    const rendered = kproxy(['rules', '-f', manifests, '--ip-family', 'ipv6', '--hostname-override', 'node-1']);
    assert.equal(rendered.status, 0, rendered.stderr);
    const bare = rendered.stdout.replace(/ -m comment --comment ("[^"]*"|\S+)/g, '');
    assert.ok(!bare.includes('--comment'));
    const unnamed = JSON.parse(kproxy(['explain', '-', '--json'], bare).stdout) as {
      services: { name: string; named: boolean; clusterIP: string; servicePort: number; endpoints: { address: string; exact: string }[] }[];
      notes: string[];
    };
    assert.equal(unnamed.services.length, 1);
    const [svc] = unnamed.services;
    assert.ok(svc);
    assert.match(svc.name, /^KUBE-SVC-[A-Z0-9]{16}$/);
    assert.deepEqual([svc.named, svc.clusterIP, svc.servicePort, svc.endpoints], [false, 'fd00:10:96::10', 80, [{ address: '[fd00:10:244::5]:8080', exact: '1', probability: 1 }]]);
    assert.ok(unnamed.notes.some((n) => n.includes('give the manifests with -f PATH to name them')));
    const text = kproxy(['explain', '-'], bare);
    assert.equal(text.status, 0, text.stderr);
    assert.doesNotMatch(text.stdout, /no kube-proxy services found/);
    assert.match(text.stdout, new RegExp(`^${svc.name} \\(unnamed\\) +tcp +\\[fd00:10:96::10\\]:80 `, 'm'));
    assert.match(text.stdout, /^note: 1 service port\(s\) carry no kube-proxy comments/m);
    assert.match(text.stdout, /endpoint +\[fd00:10:244::5\]:8080 +1 +\(exactly 1\)/);
    const named = kproxy(['explain', '-', '-f', manifests, '--hostname-override', 'node-1', '--json'], bare);
    assert.equal(named.status, 0, named.stderr);
    const out = JSON.parse(named.stdout) as { services: { name: string; port: string; clusterIP: string; endpoints: { address: string }[] }[] };
    assert.deepEqual(
      out.services.map((s) => [s.name, s.port, s.clusterIP, s.endpoints.map((e) => e.address)]),
      [['default/web6', 'http', 'fd00:10:96::10', ['[fd00:10:244::5]:8080']]],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
