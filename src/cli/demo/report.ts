/** The demo's results: the JSON shape other tools read, and the table people read. */
import type { TrafficOrigin } from './targets.js';

export interface DemoResult {
  readonly from: TrafficOrigin;
  readonly target: string;
  readonly service: string;
  readonly requests: number;
  readonly errors: number;
  readonly affinity: boolean;
  readonly byPod: Readonly<Record<string, number>>;
}

export interface DemoReport {
  readonly mode: string;
  readonly results: readonly DemoResult[];
}

const BAR_WIDTH = 40;

function formatResultTable(r: DemoResult, pods: readonly string[]): string {
  const lines = [
    `from ${r.from} to ${r.target} (${r.service}${r.affinity ? ', ClientIP affinity' : ''}): ` +
      `${r.requests} requests, ${r.errors} errors`,
  ];
  const names = [...new Set([...pods, ...Object.keys(r.byPod)])].sort();
  const width = Math.max(...names.map((n) => n.length), 3);
  for (const pod of names) {
    const n = r.byPod[pod] ?? 0;
    const share = r.requests === 0 ? 0 : n / r.requests;
    const bar = '█'.repeat(Math.round(share * BAR_WIDTH));
    lines.push(`  ${pod.padEnd(width)} ${String(n).padStart(5)}  ${(share * 100).toFixed(1).padStart(5)}%  ${bar}`);
  }
  return lines.join('\n');
}

export function formatReport(report: DemoReport, pods: readonly string[]): string {
  return report.results.map((r) => formatResultTable(r, pods)).join('\n\n');
}

/** The KUBE-* lines of `iptables-save`, with their table headers. */
export function kubeRulesOf(save: string): string {
  const out: string[] = [];
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) out.push(line);
    else if (/KUBE-/.test(line)) out.push(line);
  }
  return out.join('\n');
}
