import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIP, parseCIDR, joinHostPort, parseIP, cidrContains } from '../../src/core/net/ip.js';

test('IPv4 with leading zeros is read as decimal and canonicalised', () => {
  assert.equal(canonicalIP('10.180.00.001'), '10.180.0.1');
  assert.equal(canonicalIP('010.001.0.1'), '10.1.0.1');
  assert.equal(canonicalIP('256.1.1.1'), null);
  assert.equal(canonicalIP('1.2.3'), null);
  assert.equal(canonicalIP(''), null);
  assert.equal(canonicalIP('001.002.003.004'), '1.2.3.4');
  for (const bad of ['1.2.3.4.5', '1..2.3', '1.2.3.', '.1.2.3', '1.2.3.0004', '1.2.3.a', '1.2.3.4 ']) {
    assert.equal(canonicalIP(bad), null, bad);
  }
});

test('IPv6 is compressed as Go prints it; IPv4-mapped counts as IPv4', () => {
  assert.equal(canonicalIP('fd00:0:0:0:0:0:0:1'), 'fd00::1');
  assert.equal(canonicalIP('2001:DB8::0:1'), '2001:db8::1');
  assert.equal(canonicalIP('1:0:0:1:0:0:0:1'), '1:0:0:1::1');
  assert.equal(canonicalIP('::ffff:1.2.3.4'), '1.2.3.4');
  assert.equal(parseIP('::ffff:1.2.3.4')?.family, 'IPv4');
  assert.equal(canonicalIP('::'), '::');
  assert.equal(canonicalIP('1::2::3'), null);
});

test('CIDRs are masked and canonical', () => {
  assert.equal(parseCIDR('203.0.113.000/025')?.text, '203.0.113.0/25');
  assert.equal(parseCIDR('10.1.2.3/8')?.text, '10.0.0.0/8');
  assert.equal(parseCIDR('10.1.2.3/33'), null);
  assert.equal(parseCIDR('fd00::1/64')?.text, 'fd00::/64');
  const c = parseCIDR('10.0.0.0/8');
  const ip = parseIP('10.9.9.9');
  assert.ok(c && ip && cidrContains(c, ip));
});

test('JoinHostPort brackets IPv6', () => {
  assert.equal(joinHostPort('fd00::1', 80), '[fd00::1]:80');
  assert.equal(joinHostPort('1.2.3.4', 80), '1.2.3.4:80');
});
