/**
 * graph's layout: the source conditions written above the edges into a section's first row (up to
 * three lines, e.g. an external IP's `-s CIDR or ! -s CIDR, --src-type LOCAL`) never overlap the
 * section's title, and each section starts below the previous one's last row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { programFromText } from '../../src/tracer/input.js';
import { explainProgram } from '../../src/tracer/explain.js';
import { buildServiceGraph, renderSvg } from '../../src/tracer/graph.js';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';

const FONT_ASCENT = 10;

interface Placed {
  readonly kind: 'title' | 'condition' | 'node';
  readonly top: number;
  readonly bottom: number;
}

/** Vertical extents of section titles, edge conditions (all their lines) and node boxes, in document order. */
function placed(svg: string): Placed[] {
  const out: Placed[] = [];
  for (const m of svg.matchAll(/<text class="section-title" x="\d+" y="([\d.]+)"|<text class="edge-condition" x="[\d.]+" y="([\d.-]+)"[^>]*>(.*?)<\/text>|<rect x="[\d.]+" y="([\d.]+)" width="\d+" height="(\d+)"/g)) {
    if (m[1] !== undefined) out.push({ kind: 'title', top: Number(m[1]) - 14, bottom: Number(m[1]) + 4 });
    else if (m[2] !== undefined) {
      const lines = (m[3] ?? '').match(/<tspan/g)?.length ?? 1;
      out.push({ kind: 'condition', top: Number(m[2]) - FONT_ASCENT, bottom: Number(m[2]) + 13 * (lines - 1) + 3 });
    } else out.push({ kind: 'node', top: Number(m[4]), bottom: Number(m[4]) + Number(m[5]) });
  }
  return out;
}

function assertClear(svg: string, what: string): void {
  const items = placed(svg);
  const titles = items.filter((i) => i.kind === 'title');
  assert.ok(titles.length > 0, what);
  for (const title of titles) {
    for (const other of items.filter((i) => i.kind !== 'title')) {
      const overlaps = other.top < title.bottom && other.bottom > title.top;
      assert.ok(!overlaps, `${what}: a ${other.kind} at ${other.top}–${other.bottom} overlaps a title at ${title.top}–${title.bottom}`);
    }
  }
}

test('graph: multi-line source conditions into the first row stay below the section title', () => {
  const rules = runKproxy(['rules', '-f', repoPath('test/fixtures/manifests/shop-local-policy.yaml'), '--hostname-override', 'node-1', '--cluster-cidr', '10.244.0.0/16']);
  assert.equal(rules.status, 0, rules.stderr);
  const program = programFromText(rules.stdout, 'rendered');
  const explanation = explainProgram(program);
  const web = explanation.services.filter((s) => s.name === 'shop/web');
  const svg = renderSvg(buildServiceGraph(program, explanation, web));
  // The external IP's entry: into KUBE-SVC from pods or from the node itself, a three-line condition.
  assert.match(svg, /<tspan[^>]*>-s 10\.244\.0\.0\/16<\/tspan><tspan[^>]*>or ! -s 10\.244\.0\.0\/16<\/tspan><tspan[^>]*>--src-type LOCAL<\/tspan>/);
  assertClear(svg, 'shop/web');
});

test('graph: the sandbox dump\'s services — no condition or box overlaps a title', () => {
  const file = 'test/fixtures/dumps/sandbox-one-node.save.txt';
  const program = programFromText(fs.readFileSync(repoPath(file), 'utf8'), file);
  const explanation = explainProgram(program);
  assertClear(renderSvg(buildServiceGraph(program, explanation, explanation.services)), file);
});
