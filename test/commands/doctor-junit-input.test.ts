/**
 * CI runs `bastion doctor --format junit > doctor.xml`: when doctor cannot even start, that file must still be valid
 * JUnit carrying the error, never empty. Nothing here connects anywhere (input is refused first).
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'

/** Well-formed XML, checked by an independent parser (python's minidom). */
function wellFormed(xml: string): boolean {
  return spawnSync('python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())'], {input: xml}).status === 0
}

describe('doctor --format junit on bad input', () => {
  for (const [what, args, code] of [
    ['a bad --db in a comma list', ['--db', '10.0.1.5:5432,bad'], 'HOST_PORT'],
    ['an unknown flag', ['--bogus'], 'USAGE'],
    ['nothing to check', [], 'DOCTOR_TARGET'],
  ] as const) {
    it(`${what}: exit 2, and stdout is valid JUnit with one <error> saying why`, async () => {
      const r = await runCli(['doctor', '--vendor', 'hevo', '--format', 'junit', ...args], {env: {BASTION_HOST: ''}})
      assert.equal(r.code, 2, r.stderr)
      assert.ok(wellFormed(r.stdout), r.stdout)
      assert.match(r.stdout, new RegExp(`<error message="[^"]+" type="${code}">`))
      assert.match(r.stdout, /errors="1"/)
    })
  }
})
