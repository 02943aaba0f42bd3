/**
 * Hostile and clumsy hosts: links planted in a vendor's home, vendor names that are system groups or other people's
 * accounts, refusals that must leave the host byte for byte as it was, and a key that must never run a command.
 * Everything runs through the real CLI against a lab host (Debian's sshd, its own /etc, /home, /root).
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createConnection} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli, type CliRun, type TestKey} from '../helpers/cli.js'
import {readUntil, vendorLogin} from '../helpers/vendor-client.js'

let lab: LabHost
let home: string
let conn: string[]

/**
 * Everything an add or remove could touch: accounts, homes, root's home, bastion's records, byte for byte (but sudo's
 * first-use marker in the admin's home, which any sudo run may leave).
 */
const SNAPSHOT = [
  'cat /etc/passwd /etc/group /etc/shadow /etc/gshadow',
  'find /home /root /var/lib/vhome /var/lib/bastion -xdev ! -name .sudo_as_admin_successful -printf "%p %u:%g %m %n %y %s %l\\n" 2>/dev/null | sort',
  'find /home /root /var/lib/vhome -xdev -type f ! -name .sudo_as_admin_successful -exec sha256sum {} + 2>/dev/null | sort',
].join('; ')

async function snapshot(): Promise<string> {
  const r = await lab.exec(SNAPSHOT)
  return r.stdout
}

async function sh(cmd: string): Promise<string> {
  const r = await lab.exec(cmd)
  assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
  return r.stdout
}

function add(vendor: string, key: TestKey, ...extra: string[]): Promise<CliRun> {
  return runCli(['add-vendor-key', ...conn, '--vendor', vendor, '--key-file', key.publicPath, '--db', `${lab.db.host}:${lab.db.port}`, '--json', ...extra], {home})
}

function remove(vendor: string, ...extra: string[]): Promise<CliRun> {
  return runCli(['remove-vendor-key', ...conn, '--vendor', vendor, '--json', ...extra], {home})
}

/** The host error of a one-host run (exit 8: the remote script refused). */
function refusal(r: CliRun, code: string): {message: string; suggestions: string[]} {
  assert.equal(r.code, 8, r.stdout + r.stderr)
  const err = r.json?.hosts?.[0]?.error
  assert.ok(err, r.stdout)
  assert.equal(err.code, `REMOTE_${code}`, err.message)
  assert.ok(err.suggestions.length > 0, 'a refusal says how to fix it')
  return err
}

/** A lab host of the suite's own, started before its tests and stopped after them (hooks of the calling describe). */
function onFreshLab(): void {
  before(async () => {
    lab = await startLab()
    home = isolatedHome()
    conn = connectionArgs(lab)
  })
  after(async () => {
    await lab?.stop()
  })
}

describe('vendor access never writes through a link or into what another user owns', () => {
  let rootKey: TestKey
  onFreshLab()
  before(async () => {
    // root's own key, which a planted link must never expose, rewrite or hand over
    rootKey = makeKey('ed25519', 'root@host')
    await lab.exec('mkdir -p -m 700 /root/.ssh && cat >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && echo secret >/root/notes', rootKey.publicText)
  })

  it('a vendor home that is a symlink to /root is refused by add-vendor-key, naming the link and its target; /root is untouched', async () => {
    const k = makeKey('ed25519', 'v1')
    assert.equal((await add('linkhome', k)).code, 0)
    await sh('rm -rf /home/linkhome && ln -s /root /home/linkhome')
    const before = await snapshot()
    const err = refusal(await add('linkhome', makeKey('ed25519', 'v1b')), 'SYMLINK')
    assert.match(err.message, /\/home\/linkhome is a symbolic link to \/root/)
    assert.ok(err.suggestions.some((s) => s.includes("rm '/home/linkhome'")), err.suggestions.join('\n'))
    assert.equal(await snapshot(), before)
    // remove-vendor-key refuses just the same
    refusal(await remove('linkhome', '--all'), 'SYMLINK')
    assert.equal(await snapshot(), before)
  })

  it('a new vendor whose home path is already a symlink to /etc is refused before any account is made', async () => {
    await sh('ln -s /etc /home/etclink')
    const before = await snapshot()
    const err = refusal(await add('etclink', makeKey()), 'HOME_EXISTS')
    assert.match(err.message, /\/home\/etclink already exists \(a symbolic link to \/etc\)/)
    assert.equal(await snapshot(), before)
    assert.equal((await lab.exec('test -e /etc/.ssh')).code, 1)
  })

  it('~/.ssh a symlink to /root/.ssh: add and remove --fingerprint refuse; root\'s authorized_keys keeps its key and owner', async () => {
    const k = makeKey('ed25519', 'dotssh')
    assert.equal((await add('dotssh', k)).code, 0)
    await sh('rm -rf /home/dotssh/.ssh && ln -s /root/.ssh /home/dotssh/.ssh')
    const before = await snapshot()
    refusal(await remove('dotssh', '--fingerprint', rootKey.fingerprint), 'SYMLINK')
    refusal(await add('dotssh', k), 'SYMLINK')
    // list-vendor-keys does not show root's keys as the vendor's: it says why it read nothing.
    const listed = await runCli(['list-vendor-keys', ...conn, '--vendor', 'dotssh', '--json'], {home})
    assert.equal(listed.code, 0, listed.stdout + listed.stderr)
    const acct = listed.json.hosts[0].result.accounts[0]
    assert.match(acct.keyFileUnsafe, /\/home\/dotssh\/\.ssh is a symbolic link to \/root\/\.ssh/)
    assert.deepEqual(acct.keys, [])
    const human = await runCli(['list-vendor-keys', ...conn, '--vendor', 'dotssh'], {home})
    assert.match(human.stdout, /not read: \/home\/dotssh\/\.ssh is a symbolic link/)
    assert.doesNotMatch(human.stdout, new RegExp(rootKey.fingerprint.replace(/[+/]/g, '\\$&')))
    assert.equal(await snapshot(), before)
    assert.match(await sh('stat -c %U:%G /root/.ssh /root/.ssh/authorized_keys'), /^root:root\nroot:root\n$/)
  })

  it('authorized_keys hard-linked to a root-only file is refused on every path; the root file keeps owner, mode and content', async () => {
    const k = makeKey('ed25519', 'hardlink')
    assert.equal((await add('hardlink', k)).code, 0)
    // The "already present" path used to chown the file; plant the link holding the vendor's own line.
    await sh('cp /home/hardlink/.ssh/authorized_keys /home/rootonly && chown root:root /home/rootonly && chmod 600 /home/rootonly && rm /home/hardlink/.ssh/authorized_keys && ln /home/rootonly /home/hardlink/.ssh/authorized_keys')
    const before = await snapshot()
    const err = refusal(await add('hardlink', k), 'HARDLINK')
    assert.match(err.message, /authorized_keys has 2 hard links/)
    refusal(await add('hardlink', makeKey()), 'HARDLINK')
    refusal(await remove('hardlink', '--all'), 'HARDLINK')
    assert.equal(await snapshot(), before)
    assert.match(await sh('stat -c "%U:%G %a" /home/rootonly'), /^root:root 600\n$/)
  })

  it('an existing /home/<vendor> owned by another user is refused, not chowned; that user\'s files stay theirs', async () => {
    await sh('useradd -m -s /bin/bash carol && mkdir /home/carolfiles && echo draft >/home/carolfiles/thesis.txt && chown -R carol:carol /home/carolfiles')
    const before = await snapshot()
    const err = refusal(await add('carolfiles', makeKey()), 'HOME_EXISTS')
    assert.match(err.message, /\/home\/carolfiles already exists \(a directory owned by carol \(uid \d+\)\)/)
    assert.equal(await snapshot(), before)
  })

  it('an existing vendor whose ~/.ssh is owned by another user is refused, not chowned', async () => {
    const k = makeKey('ed25519', 'foreignssh')
    assert.equal((await add('foreignssh', k)).code, 0)
    await sh('chown carol /home/foreignssh/.ssh')
    const before = await snapshot()
    const err = refusal(await add('foreignssh', k), 'NOT_OWNED')
    assert.match(err.message, /\/home\/foreignssh\/\.ssh is owned by carol/)
    assert.equal(await snapshot(), before)
  })
})

describe('vendor access touches only accounts and groups bastion created', () => {
  onFreshLab()

  it('system group names (shadow, disk, kmem, tty) are refused as vendor names before anything is sent', async () => {
    const before = await snapshot()
    for (const name of ['shadow', 'disk', 'kmem', 'tty']) {
      const r = await add(name, makeKey())
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`)
      assert.match(r.json.error.message, new RegExp(`"${name}" is a system`))
    }
    assert.equal(await snapshot(), before)
  })

  it('a vendor name that is an existing group bastion did not create is refused on the host; no user joins it', async () => {
    await sh('groupadd -r labsys && groupadd team')
    const before = await snapshot()
    for (const name of ['labsys', 'team']) {
      const err = refusal(await add(name, makeKey()), 'GROUP_EXISTS')
      assert.match(err.message, new RegExp(`a group named ${name} already exists \\(gid \\d+\\)`))
    }
    assert.equal(await snapshot(), before)
    assert.notEqual((await lab.exec('getent passwd team')).code, 0)
  })

  it('remove-vendor-key --delete-user never deletes a group bastion did not create', async () => {
    const before = await snapshot()
    const r = await remove('team', '--delete-user', '--confirm', 'team')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(r.json.hosts[0].result.group, 'kept-not-ours')
    assert.equal(await snapshot(), before)
  })

  it('an existing login user is refused; --adopt takes it over, and the key still runs no command (OpenSSH and ssh2 tunnels work)', async () => {
    await sh('useradd -m -s /bin/bash alice && echo "my thesis" >/home/alice/thesis.txt && chown alice: /home/alice/thesis.txt')
    const k = makeKey('ed25519', 'alice-vendor')
    const before = await snapshot()
    const err = refusal(await add('alice', k), 'NOT_OURS')
    assert.match(err.message, /user alice already exists \(uid \d+, shell \/bin\/bash, home \/home\/alice\) and bastion did not create it/)
    assert.ok(err.suggestions.some((s) => s.includes('--adopt')))
    assert.equal(await snapshot(), before)

    const adopted = await add('alice', k, '--adopt')
    assert.equal(adopted.code, 0, adopted.stdout + adopted.stderr)
    assert.equal(adopted.json.hosts[0].result.ownership, 'adopted')
    assert.equal(adopted.json.hosts[0].result.shell, '/bin/bash', 'an adopted account keeps its shell')
    assert.match(await sh('cat /var/lib/bastion/vendors/alice'), /^vendor=alice\nuid=\d+\ngid=\d+\nuser=adopted\ngroup=none\n/)

    // ssh2, as many vendors' clients: a command is not run, the tunnel works.
    const v = await vendorLogin({host: lab.address, port: lab.port, user: 'alice', privateKeyPath: k.privatePath, hostKeyFingerprint: lab.hostKeyFingerprint})
    try {
      const cmd = await v.exec('id; cat ~/thesis.txt')
      assert.doesNotMatch(cmd.output, /uid=|my thesis/)
      assert.notEqual(cmd.code, 0)
      const ch = await v.tunnel(lab.db.host, lab.db.port)
      assert.match(await readUntil(ch, (t) => t.includes('\n')), /^bastion-lab-db /)
      ch.close()
    } finally {
      v.close()
    }

    // OpenSSH: `ssh host cmd` runs nothing; `ssh -N -L` carries the database's bytes.
    const base = ['-i', k.privatePath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-p', String(lab.port)]
    const ran = spawnSync('ssh', [...base, `alice@${lab.address}`, 'id; cat ~/thesis.txt'], {encoding: 'utf8', timeout: 30_000, env: {...process.env, SSH_AUTH_SOCK: ''}})
    assert.doesNotMatch(ran.stdout + ran.stderr, /uid=|my thesis/)
    assert.notEqual(ran.status, 0)
    assert.match(await opensshTunnelGreeting(base, `alice@${lab.address}`), /^bastion-lab-db /)

    // --delete-user deletes only accounts bastion created: alice and her files stay.
    const del = await remove('alice', '--delete-user', '--confirm', 'alice')
    const delErr = refusal(del, 'NOT_CREATED')
    assert.match(delErr.message, /alice was adopted by bastion, not created by it/)
    assert.equal(await sh('cat /home/alice/thesis.txt'), 'my thesis\n')
    assert.equal((await remove('alice', '--all')).code, 0)
  })

  it('an account made by an earlier bastion release (its mark, no record) is recognised, recorded and still deletable', async () => {
    await sh("groupadd oldv && useradd -m -g oldv -s /usr/sbin/nologin -p '*' -c 'bastion vendor oldv' oldv")
    const k = makeKey()
    const r = await add('oldv', k)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(r.json.hosts[0].result.ownership, 'created')
    assert.match(await sh('cat /var/lib/bastion/vendors/oldv'), /user=created\ngroup=created\n/)
    const del = await remove('oldv', '--delete-user', '--confirm', 'oldv')
    assert.equal(del.code, 0, del.stdout + del.stderr)
    assert.notEqual((await lab.exec('getent passwd oldv')).code, 0)
    assert.notEqual((await lab.exec('getent group oldv')).code, 0)
    assert.equal((await lab.exec('test -e /var/lib/bastion/vendors/oldv')).code, 1)
  })

  it('an account made by an earlier release on a system group keeps that group when deleted', async () => {
    // What the old name check let through: user "kmemx" created with the system group kmem as its primary group.
    await sh("useradd -m -g kmem -s /usr/sbin/nologin -p '*' -c 'bastion vendor kmemx' kmemx")
    const err = refusal(await add('kmemx', makeKey()), 'SYSTEM_GROUP')
    assert.match(err.message, /primary group of kmemx is the system group kmem/)
    const del = await remove('kmemx', '--delete-user', '--confirm', 'kmemx')
    assert.equal(del.code, 0, del.stdout + del.stderr)
    assert.equal((await lab.exec('getent group kmem')).code, 0, 'the system group survives')
  })
})

describe('a refusal or a failure part-way leaves nothing behind', () => {
  onFreshLab()

  it('a system account with another primary group is refused before its group is created', async () => {
    await sh('useradd -r -g nogroup -s /usr/sbin/nologin svcy')
    const before = await snapshot()
    const err = refusal(await add('svcy', makeKey()), 'SYSTEM_ACCOUNT')
    assert.match(err.message, /svcy exists and is a system account/)
    assert.equal(await snapshot(), before)
    assert.notEqual((await lab.exec('getent group svcy')).code, 0)
  })

  it('a home path that is a regular file is refused with what it is and the fix; no user or group is left', async () => {
    await sh('echo x >/home/t7')
    const before = await snapshot()
    const err = refusal(await add('t7', makeKey()), 'HOME_EXISTS')
    assert.match(err.message, /\/home\/t7 already exists \(a regular file owned by root \(uid 0\)\)/)
    assert.ok(err.suggestions.some((s) => s.includes("mv '/home/t7' '/home/t7.old'")), err.suggestions.join('\n'))
    assert.equal(await snapshot(), before)
  })

  it('a full home file system is named ("no space left on …") and nothing is created', async () => {
    await sh("mkdir -p /var/lib/vhome && mount -t tmpfs -o size=256k tmpfs /var/lib/vhome && sed -i 's|^# *HOME=.*|HOME=/var/lib/vhome|' /etc/default/useradd && grep -q '^HOME=/var/lib/vhome' /etc/default/useradd || echo HOME=/var/lib/vhome >>/etc/default/useradd")
    await lab.exec('dd if=/dev/zero of=/var/lib/vhome/fill bs=4k 2>/dev/null; true')
    try {
      const before = await snapshot()
      const err = refusal(await add('diskfull', makeKey()), 'NO_SPACE')
      assert.match(err.message, /no space left on \/var\/lib\/vhome/)
      assert.equal(await snapshot(), before)
    } finally {
      await lab.exec('umount /var/lib/vhome')
    }
  })

  it('running out of space half-way (user and home made, ~/.ssh cannot be) undoes the user, group and home this run created', async () => {
    // 3 inodes: the root directory, the new home, one file of /etc/skel (useradd warns about the rest); ~/.ssh fails.
    await sh('mount -t tmpfs -o size=1m,nr_inodes=3 tmpfs /var/lib/vhome')
    try {
      const before = await snapshot()
      const r = await add('halfway', makeKey())
      const err = refusal(r, 'SSH_DIR')
      assert.match(err.message, /no space left on \/var\/lib\/vhome \(no free inodes\)/)
      assert.equal(await snapshot(), before)
      assert.notEqual((await lab.exec('getent passwd halfway')).code, 0)
      assert.notEqual((await lab.exec('getent group halfway')).code, 0)
      assert.equal((await lab.exec('ls -A /var/lib/vhome')).stdout, '')
    } finally {
      await lab.exec('umount /var/lib/vhome')
    }
    // With room again, the same command succeeds.
    const ok = await add('halfway', makeKey())
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    assert.equal(ok.json.hosts[0].result.home, '/var/lib/vhome/halfway')
  })
})

/** Open `ssh -N -L` as the vendor and read the database's greeting through it. */
async function opensshTunnelGreeting(base: string[], dest: string): Promise<string> {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const child = spawn('ssh', [...base, '-o', 'ExitOnForwardFailure=yes', '-N', '-L', `127.0.0.1:${port}:${lab.db.host}:${lab.db.port}`, dest], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {...process.env, SSH_AUTH_SOCK: ''},
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  try {
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`ssh -N -L exited ${child.exitCode}: ${stderr}`)
      const text = await new Promise<string | undefined>((resolve) => {
        const s = createConnection({host: '127.0.0.1', port})
        let got = ''
        s.on('data', (d) => {
          got += d.toString()
          if (got.includes('\n')) {
            s.destroy()
            resolve(got)
          }
        })
        s.on('error', () => resolve(undefined))
        s.on('close', () => resolve(got || undefined))
      })
      if (text) return text
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`the tunnel never came up: ${stderr}`)
  } finally {
    child.kill()
  }
}
