// The SSH layer against a real lab host (test/lab): a non-root admin with NOPASSWD sudo, a user whose sudo wants a
// password, and the lab as a jump host towards refused / dropped / unroutable destinations.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {connect} from '../../src/ssh/connection.js'
import {runRemoteScript} from '../../src/remote/run.js'
import type {ConnectionOptions} from '../../src/ssh/types.js'
import {startLab, stopAllLabs} from '../lab/lab.js'
import type {LabHost} from '../lab/lab.js'

let lab: LabHost
let tmp: string
const realHome = process.env.HOME

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bastion-sshlab-'))
  process.env.HOME = tmp
  lab = await startLab()
}, {timeout: 60_000})
after(async () => {
  await stopAllLabs()
  process.env.HOME = realHome
  rmSync(tmp, {recursive: true, force: true})
}, {timeout: 30_000})

const base = (extra: ConnectionOptions = {}): ConnectionOptions => ({
  identityFiles: [lab.adminKeyPath], agentSocket: '', knownHostsFiles: [lab.knownHostsFile], connectTimeoutMs: 5000, ...extra,
})
const admin = () => `${lab.adminUser}@${lab.address}:${lab.port}`

async function rejectsWith(p: Promise<unknown>, code: string, exit: number): Promise<BastionError> {
  try {
    await p
  } catch (error) {
    assert.ok(error instanceof BastionError, String(error))
    assert.equal(error.code, code, error.message)
    assert.equal(error.exit, exit)
    return error
  }
  assert.fail(`expected ${code}`)
}

describe('against a lab host', () => {
  test('the admin logs in (known_hosts match) and runRemoteScript runs as root through sudo -n sh -s', async () => {
    const s = await connect(admin(), base())
    try {
      assert.equal(s.hostKeyFingerprint, lab.hostKeyFingerprint)
      assert.equal((await s.exec('whoami')).stdout, `${lab.adminUser}\n`)
      const r = await runRemoteScript(s, 'id -u\necho "$SUDO_USER"\n')
      assert.deepEqual([r.code, r.stdout], [0, `0\n${lab.adminUser}\n`])
    } finally {
      s.close()
    }
  })

  test('an unknown lab host shows the same SHA256 fingerprint ssh-keygen printed for its host key', async () => {
    const e = await rejectsWith(connect(admin(), base({knownHostsFiles: [join(tmp, 'empty_known_hosts')]})), 'HOST_KEY_UNKNOWN', Exit.HOST_KEY)
    assert.ok(e.message.includes(lab.hostKeyFingerprint), e.message)
  })

  test('a user whose sudo wants a password gets SUDO_PASSWORD with the NOPASSWD line for that user', async () => {
    const s = await connect(`${lab.sudoPasswordUser}@${lab.address}:${lab.port}`, base({identityFiles: [lab.sudoPasswordUserKeyPath]}))
    try {
      const e = await rejectsWith(runRemoteScript(s, 'id -u'), 'SUDO_PASSWORD', Exit.SUDO)
      assert.ok(e.suggestions.some((x) => x.includes(`${lab.sudoPasswordUser} ALL=(ALL) NOPASSWD:ALL`)), e.suggestions.join('\n'))
    } finally {
      s.close()
    }
  })

  test('through the lab as jump host: refused is UNREACHABLE, dropped packets a TIMEOUT, no route UNREACHABLE', async () => {
    const jump = {jump: admin(), hostKeyPins: ['SHA256:' + 'A'.repeat(43)], connectTimeoutMs: 1500}
    const refused = await rejectsWith(connect(`root@${lab.closedPort.host}:${lab.closedPort.port}`, base(jump)), 'UNREACHABLE', Exit.UNREACHABLE)
    assert.match(refused.message, /could not open a connection to .*Connection refused/)
    const dropped = await rejectsWith(connect(`root@${lab.timeoutEndpoint.host}:${lab.timeoutEndpoint.port}`, base(jump)), 'TIMEOUT', Exit.TIMEOUT)
    assert.match(dropped.message, /could not connect to .* within 1.5 s/)
    await rejectsWith(connect(`root@${lab.noRouteEndpoint.host}:${lab.noRouteEndpoint.port}`, base(jump)), 'UNREACHABLE', Exit.UNREACHABLE)
  })
})
