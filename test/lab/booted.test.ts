import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'
import {ensureRootfs, startBootedLab, withBootedLab, type BootedLabHost} from './booted.js'
import {isAlive, LAB_ROOT, stopAllLabs} from './lab.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
}

/** The real OpenSSH client in batch mode, trusting only the lab's recorded host key. */
function ssh(lab: BootedLabHost, args: string[], input = ''): Promise<Run> {
  return run('ssh', [
    '-F', '/dev/null', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'ConnectTimeout=10',
    '-i', lab.adminKeyPath, `${lab.adminUser}@${lab.address}`, ...args,
  ], input)
}

async function must(lab: BootedLabHost, command: string): Promise<string> {
  const r = await lab.exec(command, undefined, {timeoutMs: 60_000})
  assert.equal(r.code, 0, `${command}: ${r.stderr}${r.stdout}`)
  return r.stdout.trim()
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  for (const t = Date.now(); !(await check()); await sleep(100)) {
    if (Date.now() - t > timeoutMs) assert.fail(`${what} (waited ${timeoutMs} ms)`)
  }
}

/** Host pids of every process whose `ns` namespace is `inode` (e.g. 'net:[4026532…]'). */
function processesIn(ns: 'pid' | 'net' | 'mnt', inode: string): string[] {
  return readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false
    try {
      return readlinkSync(`/proc/${p}/ns/${ns}`) === inode
    } catch {
      return false
    }
  })
}

interface Traces {
  pids: number[]
  pidNs: string
  netNs: string
  mntNs: string
  veth: string
  cgroups: string[]
}

function traces(lab: BootedLabHost): Traces {
  const pidNs = readlinkSync(`/proc/${lab.pid}/ns/pid`)
  return {
    pids: [lab.pid, lab.nspawnPid, ...processesIn('pid', pidNs).map(Number)],
    pidNs,
    netNs: readlinkSync(`/proc/${lab.pid}/ns/net`),
    mntNs: readlinkSync(`/proc/${lab.nspawnPid}/ns/mnt`),
    veth: readFileSync(`/sys/class/net/blab${lab.slot}/ifindex`, 'utf8').trim(),
    cgroups: ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'].map((h) => `${h}/bastion-lab-${lab.slot}`).filter(existsSync),
  }
}

/** After stop(): no process, namespace, mount, veth, cgroup or directory of the lab is left on the machine. */
function assertGone(lab: BootedLabHost, t: Traces): void {
  assert.deepEqual(t.pids.filter(isAlive), [], `processes of ${lab.name} left`)
  assert.deepEqual(processesIn('pid', t.pidNs), [], `pid namespace of ${lab.name} in use`)
  assert.deepEqual(processesIn('net', t.netNs), [], `network namespace of ${lab.name} in use`)
  assert.deepEqual(processesIn('mnt', t.mntNs), [], `mount namespace (overlay) of ${lab.name} in use`)
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(lab.dir))
  assert.deepEqual(mounts, [], `mounts of ${lab.name} on the machine`)
  let index: string | undefined
  try {
    index = readFileSync(`/sys/class/net/blab${lab.slot}/ifindex`, 'utf8').trim()
  } catch {
    // gone
  }
  assert.notEqual(index, t.veth, `veth of ${lab.name} left`)
  let owner: {pid?: number} = {}
  try {
    owner = JSON.parse(readFileSync(`${lab.dir}/owner.json`, 'utf8')) as {pid?: number}
  } catch {
    // gone
  }
  assert.notEqual(owner.pid, process.pid, `dir of ${lab.name} left`)
  for (const c of t.cgroups) {
    // another lab may have taken the slot meanwhile: then its cgroup has that lab's processes
    assert.ok(!existsSync(c) || readFileSync(`${c}/cgroup.procs`, 'utf8').trim() !== '', `cgroup ${c} left`)
  }
}

describe('a booted lab host', () => {
  let lab: BootedLabHost
  before(async () => {
    const t0 = performance.now()
    const rootfs = await ensureRootfs()
    console.log(`# rootfs ${rootfs.path}: ${Math.round(rootfs.sizeKiB / 1024)} MiB, ` +
      (rootfs.builtMs ? `built in ${rootfs.builtMs} ms` : `cached (looked up in ${Math.round(performance.now() - t0)} ms)`))
    lab = await startBootedLab({name: 'booted'})
    console.log(`# booted lab up in ${lab.startupMs} ms (boot to sshd login ${lab.bootMs} ms), state ${lab.bootState}`)
  })
  after(() => stopAllLabs())

  test('systemd is pid 1 and the system finished booting', async () => {
    assert.equal(await must(lab, 'cat /proc/1/comm'), 'systemd')
    assert.equal(await must(lab, 'readlink /proc/1/exe'), '/usr/lib/systemd/systemd')
    assert.equal(lab.bootState, 'running')
    assert.equal(await must(lab, 'hostname'), 'booted')
    assert.equal(await must(lab, 'cat /etc/debian_version | cut -d. -f1'), '12')
  })

  test('sshd runs as systemd\'s ssh.service, not started by the lab', async () => {
    assert.equal(await must(lab, 'systemctl is-active ssh.service'), 'active')
    const mainPid = await must(lab, 'systemctl show --property=MainPID --value ssh.service')
    assert.equal(await must(lab, `cat /proc/${mainPid}/comm`), 'sshd')
    assert.equal(await must(lab, `ps -o ppid= -p ${mainPid}`), '1')
    assert.equal(await must(lab, 'cat /run/sshd.pid'), mainPid)
  })

  test('the admin logs in over SSH with the lab\'s known_hosts and has passwordless sudo', async () => {
    const r = await ssh(lab, ['sudo', '-n', 'id', '-u'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), '0')
    const key = await must(lab, 'ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub')
    assert.equal(key.split(' ')[1], lab.hostKeyFingerprint)
    assert.match(await lab.sshdLog(), /Accepted publickey for admin/)
  })

  test('the sudo-password user logs in by key but sudo -n says a password is required', async () => {
    const r = await run('ssh', [
      '-F', '/dev/null', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', lab.sudoPasswordUserKeyPath,
      `${lab.sudoPasswordUser}@${lab.address}`, 'sudo', '-n', 'true',
    ])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /a password is required/)
  })

  test('systemctl restart gives a service a new main process and it keeps serving', async () => {
    const before = await must(lab, 'systemctl show --property=MainPID --value ssh.service')
    await must(lab, 'systemctl restart ssh.service')
    assert.equal(await must(lab, 'systemctl is-active ssh.service'), 'active')
    const after = await must(lab, 'systemctl show --property=MainPID --value ssh.service')
    assert.notEqual(after, before)
    assert.equal((await ssh(lab, ['true'])).code, 0)
  })

  test('a unit written to /etc/systemd/system starts, and Restart=always brings it back after kill -9', async () => {
    await lab.exec('cat > /etc/systemd/system/lab-probe.service', [
      '[Service]',
      'ExecStart=/bin/sleep infinity',
      'Restart=always',
      'RestartSec=100ms',
      '',
    ].join('\n'))
    await must(lab, 'systemctl daemon-reload && systemctl start lab-probe.service')
    assert.equal(await must(lab, 'systemctl is-active lab-probe.service'), 'active')
    const first = await must(lab, 'systemctl show --property=MainPID --value lab-probe.service')
    assert.notEqual(first, '0')
    await must(lab, `kill -9 ${first}`)
    await until('lab-probe.service is back with a new main pid', async () => {
      const r = await lab.exec('systemctl show --property=MainPID --value lab-probe.service; systemctl is-active lab-probe.service')
      const [pid, state] = r.stdout.trim().split('\n')
      return pid !== first && pid !== '0' && state === 'active'
    })
    assert.equal(await must(lab, 'systemctl show --property=NRestarts --value lab-probe.service'), '1')
    assert.match(await must(lab, 'journalctl --no-pager -u lab-probe.service'), /Main process exited, code=killed, status=9\/KILL/)
  })

  test('the lab network works as in sshd-only labs: db by name, refused, no route', async () => {
    const db = await lab.exec(`nc -q 1 -w 2 ${lab.dbName} ${lab.db.port}`, 'ping\n')
    assert.equal(db.stdout, `bastion-lab-db ${lab.name}\nping\n`)
    const closed = await lab.exec(`nc -v -z -w 2 ${lab.closedPort.host} ${lab.closedPort.port}`)
    assert.equal(closed.code, 1)
    assert.match(closed.stderr, /refused/)
    const noRoute = await lab.exec(`nc -v -z -w 2 ${lab.noRouteEndpoint.host} ${lab.noRouteEndpoint.port}`)
    assert.equal(noRoute.code, 1)
    assert.match(noRoute.stderr, /No route to host/)
    const timeout = await lab.exec(`nc -v -z -w 2 ${lab.timeoutEndpoint.host} ${lab.timeoutEndpoint.port}`)
    assert.equal(timeout.code, 1)
    assert.match(timeout.stderr, /timed out/)
  })

  test('what the lab writes stays in its own upper dir, the cached rootfs is untouched', async () => {
    const rootfs = await ensureRootfs()
    await must(lab, 'echo lab > /etc/bastion-lab-probe && useradd -m probe')
    assert.equal(readFileSync(lab.hostPath('/etc/bastion-lab-probe'), 'utf8'), 'lab\n')
    assert.equal(existsSync(`${rootfs.path}/etc/bastion-lab-probe`), false)
    assert.doesNotMatch(readFileSync(`${rootfs.path}/etc/passwd`, 'utf8'), /^probe:/m)
    assert.deepEqual(readdirSync(`${rootfs.path}/etc/ssh`).filter((f) => f.startsWith('ssh_host_')), [])
  })
})

describe('booted labs', () => {
  after(() => stopAllLabs())

  test('two run at once with their own host keys, and stop() leaves no process, namespace, mount, veth or cgroup', async () => {
    const labs = await Promise.all([startBootedLab(), startBootedLab()])
    const [a, b] = labs as [BootedLabHost, BootedLabHost]
    assert.notEqual(a.address, b.address)
    assert.notEqual(a.hostKeyFingerprint, b.hostKeyFingerprint)
    const names = await Promise.all(labs.map((l) => ssh(l, ['hostname'])))
    assert.deepEqual(names.map((r) => r.stdout.trim()), labs.map((l) => l.name))
    const ids = await Promise.all(labs.map((l) => must(l, 'cat /etc/machine-id')))
    assert.notEqual(ids[0], ids[1])
    const t = labs.map(traces)
    for (const x of t) assert.ok(x.pids.length >= 5, `systemd, journald, sshd … of each lab: ${x.pids.length}`)
    await Promise.all(labs.map((l) => l.stop()))
    labs.forEach((l, i) => assertGone(l, t[i]!))
  })

  test('withBootedLab stops the lab even when the callback throws', async () => {
    let seen: BootedLabHost | undefined
    let t: Traces | undefined
    await assert.rejects(withBootedLab(async (lab) => {
      seen = lab
      t = traces(lab)
      throw new Error('test failure')
    }), /test failure/)
    assert.ok(seen && t)
    assertGone(seen, t)
    await seen.stop() // idempotent
    await assert.rejects(seen.exec('true'), /stopped/)
  })

  test('a boot that does not finish in time fails naming the stage, with the console output, and cleans up', async () => {
    let slot = 0
    await assert.rejects(startBootedLab({bootTimeoutMs: 300}), (e: Error) => {
      assert.match(e.message, /^booted lab lab-\d+ \(bastion-lab-\d+\): .* in 300 ms/)
      assert.match(e.message, /--- console \(last lines of /)
      slot = Number(/bastion-lab-(\d+)/.exec(e.message)?.[1])
      return true
    })
    // the slot is released (another process may own it by now) and no boot process of ours is left
    let owner: {pid?: number} = {}
    try {
      owner = JSON.parse(readFileSync(`${LAB_ROOT}/slot-${slot}/owner.json`, 'utf8')) as {pid?: number}
    } catch {
      // gone
    }
    assert.notEqual(owner.pid, process.pid)
    const children = readdirSync('/proc').filter((p) => {
      try {
        const status = readFileSync(`/proc/${p}/status`, 'utf8')
        return /^PPid:\s*(\d+)$/m.exec(status)?.[1] === String(process.pid) && /^Name:\s*(unshare|setpriv)$/m.test(status)
      } catch {
        return false
      }
    })
    assert.deepEqual(children, [])
  })

  test('an invalid lab name is refused before anything starts', async () => {
    await assert.rejects(startBootedLab({name: 'bad name;rm'}), /not a valid host name/)
  })
})
