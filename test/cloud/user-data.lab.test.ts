/**
 * The user-data script itself, executed as cloud-init executes it (a #! file run as root) inside a lab host running
 * Debian's real sshd: it installs the sshd drop-in (checked with sshd -T and with real logins), sets the vendor up with
 * the add-vendor-key script (the vendor then tunnels to the database and gets nothing else), is safe to run again,
 * puts an Include in an sshd_config that lacks one, and backs out when sshd rejects the result.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {after, before, describe, it} from 'node:test'
import {parseConsoleOutput} from '../../src/cloud/console.js'
import {renderUserData, SSHD_DROPIN_PATH, SSHD_SETTINGS} from '../../src/cloud/user-data.js'
import {parseHostPort, todayUtc} from '../../src/input/parse.js'
import {parsePublicKey} from '../../src/access/keys.js'
import {planAdd} from '../../src/access/service.js'
import {makeKey, type TestKey} from '../helpers/cli.js'
import {readUntil, vendorLogin} from '../helpers/vendor-client.js'
import {startLab, type LabHost} from '../lab/lab.js'

let lab: LabHost
let hevo: TestKey
let userData: string

function ssh(args: string[], timeoutMs = 15_000): Promise<{code: number | null; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', '/dev/null', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentityAgent=none', '-o', 'ConnectTimeout=10', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(t)
      resolve({code, stderr})
    })
  })
}

async function runUserData(text: string): Promise<{code: number | null; stdout: string; stderr: string}> {
  const w = await lab.exec('cat > /root/user-data && chmod 700 /root/user-data', text)
  assert.equal(w.code, 0, w.stderr)
  return lab.exec('/root/user-data', '', {timeoutMs: 60_000})
}

async function effective(): Promise<Record<string, string>> {
  const r = await lab.exec('/usr/sbin/sshd -T -C user=hevo,host=vendor.example,addr=52.6.1.1')
  assert.equal(r.code, 0, r.stderr)
  const out: Record<string, string> = {}
  for (const line of r.stdout.split('\n')) {
    const [k, ...v] = line.split(' ')
    if (k && !(k in out)) out[k] = v.join(' ')
  }
  return out
}

describe('user-data on a lab host (real sshd)', () => {
  before(async () => {
    lab = await startLab({name: 'ud-lab'})
    hevo = makeKey('ed25519', 'hevo@prod')
    const plan = planAdd({vendor: 'hevo', key: parsePublicKey(hevo.publicText).key, permitOpen: [parseHostPort(`${lab.db.host}:${lab.db.port}`)], today: todayUtc()})
    userData = renderUserData({name: 'ud-lab', vendor: plan})
  })
  after(async () => {
    await lab?.stop()
  })

  it('backs out when sshd rejects the configuration, leaving sshd as it was', async () => {
    await lab.exec("printf 'NoSuchKeyword yes\\n' > /etc/ssh/sshd_config.d/05-broken.conf")
    try {
      const r = await runUserData(renderUserData({name: 'ud-lab'}))
      assert.equal(r.code, 1, r.stdout + r.stderr)
      assert.match(r.stdout, /bastion-init: ERROR sshd -t rejected the configuration; drop-in removed/)
      assert.match(r.stdout, /bastion-init: failed ud-lab/)
      assert.equal((await lab.exec(`test -e ${SSHD_DROPIN_PATH}`)).code, 1, 'the drop-in is gone')
      assert.equal(parseConsoleOutput(r.stdout).init.status, 'failed')
    } finally {
      await lab.exec('rm -f /etc/ssh/sshd_config.d/05-broken.conf')
    }
  })

  it('installs the sshd drop-in and sets the vendor up, reporting on stdout (the console)', async () => {
    const before = await effective()
    assert.equal(before.x11forwarding, 'yes', 'the lab starts with X11 forwarding on')
    const r = await runUserData(userData)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^bastion-init: start ud-lab$/m)
    assert.match(r.stdout, new RegExp(`^bastion-init: sshd drop-in installed: ${SSHD_DROPIN_PATH}$`, 'm'))
    // the lab's sshd_config sets MaxStartups after the Include, and for MaxStartups the last value wins
    assert.match(r.stdout, /^bastion-init: sshd_config overrode the drop-in for: maxstartups ; those lines are commented out/m)
    assert.match((await lab.exec('grep -i maxstartups /etc/ssh/sshd_config')).stdout, /^# bastion: overridden by sshd_config\.d\/10-bastion\.conf: MaxStartups 100:30:200$/m)
    assert.match(r.stdout, /^bastion-init: sshd reloaded \(SIGHUP to pid \d+\)$/m)
    assert.match(r.stdout, /^bastion-init: vendor hevo ready$/m)
    assert.match(r.stdout, /^bastion-init: done ud-lab$/m)
    assert.doesNotMatch(r.stdout, /WARNING|ERROR/)
    const report = parseConsoleOutput(r.stdout)
    assert.equal(report.init.status, 'done')
    assert.equal(report.init.facts.find((f) => f.key === 'user')?.rest, 'created')
    assert.equal(report.init.facts.find((f) => f.key === 'key')?.args[0], 'added')

    assert.equal((await lab.exec(`stat -c '%U:%G %a' ${SSHD_DROPIN_PATH} /var/lib/bastion`)).stdout, 'root:root 644\nroot:root 700\n')
    const eff = await effective()
    for (const [k, v] of Object.entries(SSHD_SETTINGS)) assert.equal(eff[k], v, k)
    // the vendor: nologin user, ~/.ssh 0700 and authorized_keys 0600, the least-privilege line
    assert.match((await lab.exec('getent passwd hevo')).stdout, /:\/home\/hevo:\/usr\/sbin\/nologin\n$/)
    assert.equal((await lab.exec("stat -c '%U:%G %a' /home/hevo/.ssh /home/hevo/.ssh/authorized_keys")).stdout, 'hevo:hevo 700\nhevo:hevo 600\n')
    const ak = (await lab.exec('cat /home/hevo/.ssh/authorized_keys')).stdout
    assert.match(ak, new RegExp(`^restrict,port-forwarding,permitopen="${lab.db.host}:${lab.db.port}",command="/bin/false" ssh-ed25519 \\S+ hevo@prod bastion:vendor=hevo,added=\\d{4}-\\d\\d-\\d\\d\\n$`))
  })

  it('the vendor logs in and tunnels to the database; no shell, no other destination, no remote forward, no password', async () => {
    await lab.reloadSshd()
    const v = await vendorLogin({host: lab.address, port: lab.port, user: 'hevo', privateKeyPath: hevo.privatePath, hostKeyFingerprint: lab.hostKeyFingerprint})
    try {
      const ch = await v.tunnel(lab.db.host, lab.db.port)
      assert.match(await readUntil(ch, (t) => t.includes('\n')), /^bastion-lab-db /)
      ch.write('through the tunnel\n')
      assert.match(await readUntil(ch, (t) => t.includes('through the tunnel')), /through the tunnel/)
      ch.close()
      await assert.rejects(v.tunnel(lab.closedPort.host, lab.closedPort.port))
      const shell = await v.exec('id')
      assert.notEqual(shell.code, 0)
      assert.doesNotMatch(shell.output, /uid=/)
    } finally {
      v.close()
    }
    // AllowTcpForwarding local: a remote forward is refused even though the key line allows port forwarding
    const remote = await ssh(['-i', hevo.privatePath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-N', '-R', '127.0.0.1:20022:127.0.0.1:22', `hevo@${lab.address}`])
    assert.equal(remote.code, 255, remote.stderr)
    assert.match(remote.stderr, /remote port forwarding failed/)
    // keys only: sshd offers no password method at all
    const pw = await ssh(['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'BatchMode=yes', `${lab.sudoPasswordUser}@${lab.address}`, 'true'])
    assert.equal(pw.code, 255)
    assert.match(pw.stderr, /Permission denied \(publickey\)/)
  })

  it('is safe to run again: nothing changes, the key stays once', async () => {
    const r = await runUserData(userData)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const report = parseConsoleOutput(r.stdout)
    assert.equal(report.init.facts.find((f) => f.key === 'user')?.rest, 'present')
    assert.equal(report.init.facts.find((f) => f.key === 'key')?.args[0], 'present')
    assert.equal((await lab.exec('grep -c bastion:vendor=hevo /home/hevo/.ssh/authorized_keys')).stdout.trim(), '1')
  })

  it('an sshd_config without the Include of sshd_config.d gets one at the top, so the drop-in still wins', async () => {
    await lab.exec("sed -i '/^Include \\/etc\\/ssh\\/sshd_config.d/d' /etc/ssh/sshd_config")
    assert.equal((await effective()).x11forwarding, 'yes', 'without the Include the lab\'s own X11Forwarding yes applies')
    const r = await runUserData(userData)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /sshd_config did not include sshd_config\.d: Include added at the top/)
    assert.match((await lab.exec('head -n 2 /etc/ssh/sshd_config')).stdout, /^# added by bastion.*\nInclude \/etc\/ssh\/sshd_config\.d\/\*\.conf\n$/)
    const eff = await effective()
    for (const [k, v] of Object.entries(SSHD_SETTINGS)) assert.equal(eff[k], v, k)
  })
})
