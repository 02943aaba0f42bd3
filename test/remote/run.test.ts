import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {connect} from '../../src/ssh/connection.js'
import {quoteShell} from '../../src/ssh/quote.js'
import {classifySudoFailure, remoteShellCommand, runRemoteScript, sudoersLine} from '../../src/remote/run.js'
import type {SshSession} from '../../src/ssh/types.js'
import {startLocalSshd} from '../ssh/local-sshd.js'
import type {LocalSshd} from '../ssh/local-sshd.js'

let sshd: LocalSshd
let session: SshSession
let tmp: string
const realHome = process.env.HOME

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bastion-remote-'))
  process.env.HOME = tmp
  sshd = await startLocalSshd()
  session = await connect(`root@127.0.0.1:${sshd.port}`, {identityFiles: [sshd.clientKey.path], agentSocket: '', hostKeyPins: [sshd.hostKey.fingerprint]})
})
after(async () => {
  session?.close()
  await sshd?.stop()
  process.env.HOME = realHome
  rmSync(tmp, {recursive: true, force: true})
})

/**
 * The real session, presented as logged in as `user` (so runRemoteScript takes the sudo path), with each command
 * wrapped by `wrap` — e.g. run as the unprivileged `nobody`, so the real sudo refuses without a password.
 */
function as(user: string, wrap: (command: string) => string, calls: string[] = []): SshSession {
  return {
    target: {...session.target, user},
    client: session.client,
    hostKeyFingerprint: session.hostKeyFingerprint,
    exec: (command, stdin) => {
      calls.push(command)
      return session.exec(wrap(command), stdin)
    },
    forwardOut: (h, p) => session.forwardOut(h, p),
    close: () => {},
  }
}

describe('runRemoteScript', () => {
  test('as root: one exec of `sh -s` with the script on stdin; exit code, stdout and stderr come back', async () => {
    const calls: string[] = []
    const script = [
      'set -eu',
      'name=$(cat <<\'EOF\'',
      "it's a \"here\" doc with $dollar",
      'EOF',
      ')',
      'printf "%s\\n" "$name"',
      'echo warn >&2',
      'exit 7',
    ].join('\n')
    const r = await runRemoteScript(as('root', (c) => c, calls), script)
    assert.deepEqual(calls, ['sh -s'])
    assert.equal(r.code, 7)
    assert.equal(r.stdout, 'it\'s a "here" doc with $dollar\n')
    assert.equal(r.stderr, 'warn\n')
    assert.equal((await runRemoteScript(session, 'true')).code, 0)
  })

  test('a non-root login runs the script through `sudo -n sh -s` (real sudo, as root on the test host)', async () => {
    const calls: string[] = []
    const r = await runRemoteScript(as('deploy', (c) => c, calls), 'id -u; whoami')
    assert.deepEqual(calls, ['sudo -n sh -s'])
    assert.equal(r.stdout, '0\nroot\n')
    const plain: string[] = []
    await runRemoteScript(as('deploy', (c) => c, plain), 'true', {sudo: false})
    assert.deepEqual(plain, ['sh -s'])
  })

  test('sudo asking for a password is SUDO_PASSWORD (exit 5) with the NOPASSWD sudoers line for that user', async () => {
    // Run the command as `nobody`, who has no sudo rights: the real sudo -n says "a password is required".
    const nobody = as('deploy', (c) => `exec runuser -u nobody -- sh -c ${quoteShell(c)}`)
    await assert.rejects(runRemoteScript(nobody, 'id'), (e: unknown) => {
      assert.ok(e instanceof BastionError)
      assert.equal(e.code, 'SUDO_PASSWORD')
      assert.equal(e.exit, Exit.SUDO)
      assert.ok(e.suggestions.some((s) => s.includes('deploy ALL=(ALL) NOPASSWD:ALL')), e.suggestions.join('\n'))
      return true
    })
  })

  test('sudo not installed is SUDO_MISSING (exit 5)', async () => {
    const noSudo = as('deploy', (c) => `PATH=/nonexistent; export PATH; ${c}`)
    await assert.rejects(runRemoteScript(noSudo, 'id'), (e: unknown) => e instanceof BastionError && e.code === 'SUDO_MISSING' && e.exit === Exit.SUDO)
  })

  test('a failing script is returned, not mistaken for a sudo problem', async () => {
    const r = await runRemoteScript(as('deploy', (c) => c), 'echo "sudo: a password is required" ; exit 1')
    assert.equal(r.code, 1, 'message on stdout of the script itself is not sudo\'s')
  })
})

describe('classifySudoFailure', () => {
  const res = (stderr: string, code = 1) => ({code, stdout: '', stderr})
  test('recognises sudo\'s messages', () => {
    assert.equal(classifySudoFailure(res('sudo: a terminal is required to read the password; either use the -S option'), 'u', 'h')?.code, 'SUDO_PASSWORD')
    assert.equal(classifySudoFailure(res('sudo: sorry, you must have a tty to run sudo'), 'u', 'h')?.code, 'SUDO_TTY')
    assert.equal(classifySudoFailure(res('u is not in the sudoers file.  This incident will be reported.'), 'u', 'h')?.code, 'SUDO_DENIED')
    assert.equal(classifySudoFailure(res('bash: line 1: sudo: command not found', 127), 'u', 'h')?.code, 'SUDO_MISSING')
    assert.equal(classifySudoFailure(res('sh: 1: sudo: not found', 127), 'u', 'h')?.code, 'SUDO_MISSING')
    assert.equal(classifySudoFailure(res('mkdir: cannot create directory', 1), 'u', 'h'), undefined)
    assert.equal(classifySudoFailure({code: 0, stdout: '', stderr: 'sudo: a password is required'}, 'u', 'h'), undefined)
  })
  test('command and sudoers line', () => {
    assert.equal(remoteShellCommand('root'), 'sh -s')
    assert.equal(remoteShellCommand('admin'), 'sudo -n sh -s')
    assert.equal(remoteShellCommand('admin', false), 'sh -s')
    assert.equal(sudoersLine('admin'), 'admin ALL=(ALL) NOPASSWD:ALL')
  })
})
