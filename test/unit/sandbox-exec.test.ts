import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findFailingLine, isExecError, reportedLineNumber, runCommand } from '../../src/runtime/exec/index.js';

describe('exec helper', () => {
  it('captures stdout, stderr and the exit status, and feeds stdin', async () => {
    const r = await runCommand(['sh', '-c', 'cat; echo err >&2'], { stdin: 'hello\n' });
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.exitCode, 0);
  });

  it('throws E_EXEC with the command, status and stderr; allowFailure returns instead', async () => {
    await assert.rejects(runCommand(['sh', '-c', 'echo boom >&2; exit 3']), (err: unknown) => {
      assert.ok(isExecError(err));
      assert.equal(err.code, 'E_EXEC');
      assert.equal(err.details.exitCode, 3);
      assert.equal(err.details.stderr, 'boom\n');
      assert.deepEqual(err.details.argv, ['sh', '-c', 'echo boom >&2; exit 3']);
      assert.match(err.message, /exited with status 3.*boom/);
      return true;
    });
    const r = await runCommand(['sh', '-c', 'exit 4'], { allowFailure: true });
    assert.equal(r.exitCode, 4);
  });

  it('names the failing input line of a restore-style tool', async () => {
    const input = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j NOPE\nCOMMIT\n';
    const fakeRestore = 'cat >/dev/null; echo "iptables-restore: line 3 failed" >&2; exit 1';
    await assert.rejects(runCommand(['sh', '-c', fakeRestore], { stdin: input }), (err: unknown) => {
      assert.ok(isExecError(err));
      assert.deepEqual(err.details.failingLine, { lineNumber: 3, text: '-A KUBE-SERVICES -j NOPE' });
      assert.match(err.message, /failing input line 3: -A KUBE-SERVICES -j NOPE/);
      return true;
    });
  });

  it('recognises the line reports of iptables-restore, ipset, nft and ip -batch', () => {
    assert.equal(reportedLineNumber('iptables-restore: line 12 failed'), 12);
    assert.equal(reportedLineNumber('iptables-restore v1.8.9 (nf_tables): Error occurred at line: 7'), 7);
    assert.equal(reportedLineNumber('ipset v7.17: Error in line 3: Set cannot be created'), 3);
    assert.equal(reportedLineNumber('/dev/stdin:5:1-3: Error: syntax error'), 5);
    assert.equal(reportedLineNumber('Error: argument "x" is wrong\nCommand failed -:2'), 2);
    assert.equal(reportedLineNumber('something else'), null);
    assert.deepEqual(findFailingLine('line 9 failed', 'a\nb'), { lineNumber: 9, text: null });
  });

  it('reports a command that cannot be started, and a timeout', async () => {
    await assert.rejects(runCommand(['/nonexistent/tool-kproxy']), (err: unknown) => {
      assert.ok(isExecError(err));
      assert.equal(err.details.exitCode, null);
      assert.match(err.message, /could not be started/);
      return true;
    });
    await assert.rejects(runCommand(['sleep', '5'], { timeoutMs: 100 }), (err: unknown) => {
      assert.ok(isExecError(err));
      assert.equal(err.details.timedOut, true);
      return true;
    });
  });
});
