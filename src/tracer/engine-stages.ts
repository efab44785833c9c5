/**
 * The order in which netfilter consults tables for the first packet of a connection: the hooks
 * a packet meets before routing (from a pod or outside: PREROUTING; from the node: OUTPUT and
 * POSTROUTING), and after routing, by whether the destination is one of the node's addresses.
 */
import type { TableName } from '../dataplanes/iptables/model.js';
import type { Hook } from './ir.js';

/** One table of one hook, or the routing decision (local destination or forwarded). */
export type Stage = { readonly hook: Hook; readonly table: TableName } | 'route';

/** From a pod or from outside: PREROUTING, then routing. */
export const PRE: readonly Stage[] = [
  { hook: 'PREROUTING', table: 'raw' },
  { hook: 'PREROUTING', table: 'mangle' },
  { hook: 'PREROUTING', table: 'nat' },
  'route',
];

/** From the node itself: OUTPUT and POSTROUTING, then (for a local destination) the loopback. */
export const LOCAL_OUT: readonly Stage[] = [
  { hook: 'OUTPUT', table: 'raw' },
  { hook: 'OUTPUT', table: 'mangle' },
  { hook: 'OUTPUT', table: 'nat' },
  { hook: 'OUTPUT', table: 'filter' },
  { hook: 'OUTPUT', table: 'security' },
  { hook: 'POSTROUTING', table: 'mangle' },
  { hook: 'POSTROUTING', table: 'nat' },
  'route',
];

/** The stages after routing: INPUT for a local destination, FORWARD and POSTROUTING otherwise. */
export function routeStages(local: boolean, fromNode: boolean): Stage[] {
  if (fromNode) {
    if (!local) return [];
    return [
      { hook: 'PREROUTING', table: 'raw' },
      { hook: 'PREROUTING', table: 'mangle' },
      { hook: 'INPUT', table: 'mangle' },
      { hook: 'INPUT', table: 'filter' },
      { hook: 'INPUT', table: 'security' },
    ];
  }
  if (local) {
    return [
      { hook: 'INPUT', table: 'mangle' },
      { hook: 'INPUT', table: 'filter' },
      { hook: 'INPUT', table: 'security' },
      { hook: 'INPUT', table: 'nat' },
    ];
  }
  return [
    { hook: 'FORWARD', table: 'mangle' },
    { hook: 'FORWARD', table: 'filter' },
    { hook: 'FORWARD', table: 'security' },
    { hook: 'POSTROUTING', table: 'mangle' },
    { hook: 'POSTROUTING', table: 'nat' },
  ];
}
