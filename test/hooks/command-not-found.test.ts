import assert from 'node:assert/strict'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {packageRoot} from '../../src/paths.js'
import {runProcess} from '../helpers/cli.js'

/** bin/run.js as a user runs it, off a terminal (stdin not a TTY). */
function bastion(args: string[]) {
  return runProcess(process.execPath, [join(packageRoot, 'bin/run.js'), ...args], {env: {...process.env, NO_COLOR: '1'}, json: args.includes('--json')})
}

describe('an unknown command', () => {
  it('off a terminal still gets "did you mean" with the closest command, and exit 127', async () => {
    const r = await bastion(['add-vendor-ky', '--host', 'x'])
    assert.equal(r.code, 127, r.stderr)
    assert.match(r.stderr, /"add-vendor-ky" is not a bastion command/)
    assert.match(r.stderr, /did you mean: bastion add-vendor-key --host x/)
  })

  it('under --json prints the JSON error every command prints', async () => {
    const r = await bastion(['doctr', '--json'])
    assert.equal(r.code, 127)
    assert.deepEqual(r.json?.error?.code, 'COMMAND_NOT_FOUND', r.stdout)
    assert.equal(r.json.error.exit, 127)
    assert.ok(r.json.error.suggestions.includes('did you mean: bastion doctor'))
  })

  it('far from every command gets no guess, only the way to the list', async () => {
    const r = await bastion(['zzzzzz'])
    assert.equal(r.code, 127)
    assert.doesNotMatch(r.stderr, /did you mean/)
    assert.match(r.stderr, /bastion --help lists every command/)
  })
})

describe('the version', () => {
  it('is printed by --version, -V and `bastion version` alike', async () => {
    const outs = await Promise.all([['--version'], ['-V'], ['version']].map((a) => bastion(a)))
    for (const r of outs) {
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^bastion\/\d+\.\d+\.\d+ /)
    }
  })
})
