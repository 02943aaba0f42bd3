/**
 * Real --json results from a lab host (Debian's sshd, a real account on it), valid against the published schemas:
 * add-vendor-key, list-vendor-keys, doctor (with findings) and remove-vendor-key.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import AddVendorKey from '../../src/commands/add-vendor-key.js'
import Doctor from '../../src/commands/doctor.js'
import ListVendorKeys from '../../src/commands/list-vendor-keys.js'
import RemoveVendorKey from '../../src/commands/remove-vendor-key.js'
import {isolatedHome, makeKey, runCli} from '../helpers/cli.js'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {assertResult} from './validate.js'

let lab: LabHost | undefined

describe('--json results from a lab host match the published schemas', () => {
  let conn: string[]
  let home: string
  before(async () => {
    lab = await startLab({usePam: false})
    home = isolatedHome()
    conn = connectionArgs(lab)
  })
  after(async () => {
    await lab?.stop()
  })

  it('add-vendor-key, list-vendor-keys, doctor and remove-vendor-key, each run for real', async () => {
    const l = lab as LabHost
    const key = makeKey('ed25519', 'schema@prod')
    const db = `${l.db.host}:${l.db.port}`
    const runs = [
      ['add-vendor-key', AddVendorKey, ['add-vendor-key', ...conn, '--vendor', 'schema', '--key-file', key.publicPath, '--permit-open', db, '--json']],
      ['list-vendor-keys', ListVendorKeys, ['list-vendor-keys', ...conn, '--json']],
      ['doctor', Doctor, ['doctor', ...conn, '--vendor', 'schema', '--key-file', key.publicPath, '--db', db, '--json']],
      ['remove-vendor-key', RemoveVendorKey, ['remove-vendor-key', ...conn, '--vendor', 'schema', '--delete-user', '--confirm', 'schema', '--json']],
    ] as const
    for (const [name, cmd, args] of runs) {
      const r = await runCli([...args], {home})
      assert.ok(r.json, `${name}: ${r.stderr}${r.stdout}`)
      assertResult(name, cmd, r.json)
      if (name === 'doctor') assert.ok(r.json.hosts[0].ran && r.json.hosts[0].findings.length > 0, 'doctor ran its checks')
      else assert.equal(r.json.hosts[0].ok, true, JSON.stringify(r.json.hosts[0].error))
    }
  })
})
