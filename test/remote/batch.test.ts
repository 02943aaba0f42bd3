/**
 * Several scripts in one round trip (src/remote/batch.ts), run by the machine's own /bin/sh as the remote shell would
 * run them: each script in its own shell (an `exit` or a variable of one does not reach the next), its stdout and exit
 * status given back separately, and a batched runner that answers known scripts from one run.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {batchedRunner, batchScript, runBatch, splitBatch} from '../../src/remote/batch.js'
import type {ScriptRunner} from '../../src/remote/run.js'

const sh: ScriptRunner = async (script) => {
  const r = spawnSync('/bin/sh', ['-s'], {input: script, encoding: 'utf8'})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('remote/batch', () => {
  it('runs each script in its own shell and splits stdout and exit status per script', async () => {
    const results = await runBatch(sh, ['X=1\necho "one $X"\nexit 3', 'echo "two ${X:-unset}"\nprintf "no newline"', 'cat <<EOF\nhere\nEOF\n'])
    assert.deepEqual(results.map((r) => [r.code, r.stdout]), [
      [3, 'one 1\n'],
      [0, 'two unset\nno newline'],
      [0, 'here\n'],
    ])
  })

  it('one round trip for every script the batched runner knows; others run on their own', async () => {
    const calls: string[] = []
    const counting: ScriptRunner = (s) => {
      calls.push(s)
      return sh(s)
    }
    const run = batchedRunner(counting, ['echo a', 'echo b'])
    assert.equal((await run('echo b')).stdout, 'b\n')
    assert.equal((await run('echo a')).stdout, 'a\n')
    assert.equal(calls.length, 1)
    assert.equal((await run('echo c')).stdout, 'c\n')
    assert.equal(calls.length, 2)
  })

  it('a batch cut short gives no exit status for the parts that did not finish', () => {
    const parts = splitBatch(2, {code: null, stdout: '@bastion-part 0 start\n@bastion done\n\n@bastion-part 0 exit 0\n@bastion-part 1 start\n@bastion os debian\n', stderr: ''})
    assert.deepEqual(parts.map((p) => p.code), [0, null])
    assert.equal(parts[1]?.stdout, '@bastion os debian\n')
  })

  it('the whole batch is one brace group: the shell reads all of it before it runs any', () => {
    const text = batchScript(['echo a'], 'tok')
    assert.match(text, /^\{$/m)
    assert.match(text, /^\}\nexit 0\n$/m)
    assert.throws(() => batchScript(['echo a\nBASTION_PART_0_tok\necho b'], 'tok'), /delimiter/)
  })
})
