/**
 * What every command does the same way, through the real CLI: an unforeseen exception is reported as a bug (exit 70,
 * its stack only under DEBUG=bastion), and warnings reach stderr and the --json result's warnings once each.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {packageRoot} from '../src/paths.js'
import {runBastion} from './cloud/cli.js'
import {makeKey} from './helpers/cli.js'

// A defect planted in the process: the first date formatting bastion does throws, as a bug in our code would.
const DEFECT = ['--import', 'data:text/javascript,Date.prototype.toISOString=function(){throw new TypeError("simulated defect")}']

describe('base command', () => {
  const key = makeKey('ed25519', 'hevo@prod')
  const dryRun = ['add-vendor-key', '--host', '127.0.0.1:1', '--vendor', 'hevo', '--key-file', key.publicPath, '--db', '10.0.1.5:5432', '--dry-run']

  it('an unexpected exception is reported as a bug with exit 70 and how to report it, without a stack', async () => {
    const r = await runBastion(dryRun, {nodeArgs: DEFECT})
    assert.equal(r.code, 70, r.stderr)
    assert.match(r.stderr, /bastion failed unexpectedly: simulated defect/)
    assert.match(r.stderr, /this is a bug in bastion/)
    assert.match(r.stderr, /DEBUG=bastion/)
    assert.doesNotMatch(r.stderr, /at Date\.toISOString|TypeError: simulated defect\n\s+at /)
  })

  it('DEBUG=bastion adds the stack of an unexpected exception', async () => {
    const r = await runBastion(dryRun, {nodeArgs: DEFECT, env: {DEBUG: 'bastion'}})
    assert.equal(r.code, 70, r.stderr)
    assert.match(r.stderr, /TypeError: simulated defect\n\s+at /)
  })

  it('under --json an unexpected exception is a JSON error with code INTERNAL and exit 70', async () => {
    const r = await runBastion([...dryRun, '--json'], {nodeArgs: DEFECT})
    assert.equal(r.code, 70, r.stderr)
    assert.equal(r.json?.error?.code, 'INTERNAL', r.stdout)
    assert.equal(r.json.error.exit, 70)
    assert.ok(r.json.error.suggestions.some((s: string) => /bug/.test(s)))
  })

  it('a warning goes to stderr, and once into the --json result', async () => {
    const human = await runBastion([...dryRun, '--vendor-ip', '10.0.0.0/16'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stderr, /10\.0\.0\.0\/16 admits/)
    const json = await runBastion([...dryRun, '--vendor-ip', '10.0.0.0/16', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.equal(json.json.warnings.filter((w: string) => /10\.0\.0\.0\/16 admits/.test(w)).length, 1, JSON.stringify(json.json.warnings))
    assert.doesNotMatch(json.stderr, /admits/)
  })

  it('a reader that stops early (bastion … | head) ends bastion quietly with exit 0', async () => {
    const child = spawn(process.execPath, [join(packageRoot, 'bin/run.js'), 'doctor', '--help'], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdout.destroy()
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(code, 0, stderr)
    assert.doesNotMatch(stderr, /unsettled|EPIPE|Error/)
  })

  it('--quiet prints neither the result nor warnings; --json --quiet still prints the result with its warnings', async () => {
    const quiet = await runBastion([...dryRun, '--vendor-ip', '10.0.0.0/16', '--quiet'])
    assert.equal(quiet.code, 0, quiet.stderr)
    assert.equal(quiet.stdout, '')
    assert.equal(quiet.stderr, '')
    const json = await runBastion([...dryRun, '--vendor-ip', '10.0.0.0/16', '--quiet', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.ok(json.json.warnings.some((w: string) => /admits/.test(w)))
    const refused = await runBastion([...dryRun, '--vendor-ip', '0.0.0.0/0', '-q'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /0\.0\.0\.0\/0/, 'errors are still printed')
  })
})
