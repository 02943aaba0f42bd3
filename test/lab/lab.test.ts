import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {isAlive, startLab, stopAllLabs, withLab, type LabHost} from './lab.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

function run(cmd: string, args: string[], input = ''): Promise<Run> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr, ms: performance.now() - t0})
    })
    // ssh-keygen and friends exit without reading stdin: ignore EPIPE on it.
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
}

/** The real OpenSSH client, trusting only the lab's recorded host key. */
function ssh(lab: LabHost, user: string, key: string, args: string[], input = ''): Promise<Run> {
  return run('ssh', [
    '-F', '/dev/null',
    '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'ConnectTimeout=10',
    '-i', key,
    `${user}@${lab.address}`,
    ...args,
  ], input)
}

async function timed(lab: LabHost, command: string): Promise<Run> {
  const t0 = performance.now()
  const r = await lab.exec(command)
  return {...r, ms: performance.now() - t0}
}

function ifindex(lab: LabHost): string | undefined {
  try {
    return readFileSync(`/sys/class/net/blab${lab.slot}/ifindex`, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** After stop: no process, no veth, no directory of this lab (another lab may reuse the slot at once). */
function assertGone(lab: LabHost, vethIndex: string | undefined): void {
  assert.equal(isAlive(lab.pid), false, `init of ${lab.name} left`)
  const index = ifindex(lab)
  assert.ok(index === undefined || index !== vethIndex, `veth of ${lab.name} left`)
  let owner: {pid?: number} = {}
  try {
    owner = JSON.parse(readFileSync(`${lab.dir}/owner.json`, 'utf8')) as {pid?: number}
  } catch {
    // gone
  }
  assert.notEqual(owner.pid, process.pid, `dir of ${lab.name} left`)
}

/** Host pids of every process in the lab's pid namespace. */
function labProcesses(lab: LabHost): string[] {
  const ns = readlinkSync(`/proc/${lab.pid}/ns/pid`)
  return readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false
    try {
      return readlinkSync(`/proc/${p}/ns/pid`) === ns
    } catch {
      return false
    }
  })
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

function machineSnapshot(): Record<string, string> {
  return {
    passwd: digest('/etc/passwd'),
    shadow: digest('/etc/shadow'),
    group: digest('/etc/group'),
    sshdConfig: digest('/etc/ssh/sshd_config'),
    home: readdirSync('/home').sort().join(','),
    varLib: readdirSync('/var/lib').sort().join(','),
    usrLocalBin: readdirSync('/usr/local/bin').sort().join(','),
    sudoersD: readdirSync('/etc/sudoers.d').sort().join(','),
  }
}

describe('a lab host', () => {
  let lab: LabHost
  before(async () => {
    lab = await startLab()
  })
  after(() => stopAllLabs())

  test('sshd answers with the recorded host key and admin has passwordless sudo', async () => {
    const r = await ssh(lab, lab.adminUser, lab.adminKeyPath, ['sudo', '-n', 'id', '-u'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), '0')
  })

  test('the host key fingerprint is the one ssh-keygen reads from the known_hosts file', async () => {
    const r = await run('ssh-keygen', ['-l', '-f', lab.knownHostsFile])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^256 ${lab.hostKeyFingerprint.replace(/[+/]/g, '\\$&')} ${lab.address} \\(ED25519\\)`))
    assert.deepEqual(readFileSync(lab.knownHostsFile, 'utf8').trim().split('\n'), lab.knownHostsLines)
  })

  test('a client with another host key on record refuses to connect', async () => {
    const other = await startLab()
    try {
      const r = await run('ssh', [
        '-F', '/dev/null', '-o', `UserKnownHostsFile=${other.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes', '-o', `HostKeyAlias=${other.address}`, '-i', lab.adminKeyPath,
        `${lab.adminUser}@${lab.address}`, 'true',
      ])
      assert.equal(r.code, 255)
      assert.match(r.stderr, /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/)
    } finally {
      await other.stop()
    }
  })

  test('the sudo-password user logs in by key but sudo -n says a password is required', async () => {
    const r = await ssh(lab, lab.sudoPasswordUser, lab.sudoPasswordUserKeyPath, ['sudo', '-n', 'true'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /a password is required/)
    const withPw = await ssh(lab, lab.sudoPasswordUser, lab.sudoPasswordUserKeyPath, ['sudo', '-S', '-p', "''", 'id', '-u'], lab.sudoPassword + '\n')
    assert.equal(withPw.code, 0, withPw.stderr)
    assert.equal(withPw.stdout.trim(), '0')
  })

  test('exec runs as root inside the lab, with its own hostname and stdin', async () => {
    const r = await lab.exec('id -u; hostname; cat', 'from stdin')
    assert.deepEqual(r, {code: 0, stdout: `0\n${lab.name}\nfrom stdin`, stderr: ''})
    assert.equal((await lab.exec('exit 3')).code, 3)
  })

  test('useradd and files written inside the lab do not touch the machine', async () => {
    const before = machineSnapshot()
    const r = await lab.exec([
      'useradd -m -s /usr/sbin/nologin hevo',
      'install -d -m 0700 -o hevo -g hevo /home/hevo/.ssh',
      'mkdir -p /var/lib/bastion && echo x > /var/lib/bastion/state',
      'echo x > /usr/local/bin/bastion-lab-probe',
      'echo "hevo ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/hevo',
      'echo "# lab" >> /etc/ssh/sshd_config',
      'getent passwd hevo',
    ].join(' && '))
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^hevo:x:\d+:\d+::\/home\/hevo:\/usr\/sbin\/nologin$/m)
    assert.deepEqual(machineSnapshot(), before)
    assert.doesNotMatch(readFileSync('/etc/passwd', 'utf8'), /^hevo:/m)
    // and the test process can look at the lab's files
    assert.equal(readFileSync(lab.hostPath('/var/lib/bastion/state'), 'utf8'), 'x\n')
  })

  test('the db answers from inside the lab by name, and echoes what it receives', async () => {
    assert.equal((await lab.exec(`nc -z -w 2 ${lab.dbName} ${lab.db.port}`)).code, 0)
    const r = await lab.exec(`nc -q 1 -w 2 ${lab.dbName} ${lab.db.port}`, 'ping\n')
    assert.equal(r.stdout, `bastion-lab-db ${lab.name}\nping\n`)
    const resolved = await lab.exec(`getent hosts ${lab.dbName}`)
    assert.match(resolved.stdout, new RegExp(`^${lab.db.host.replace(/\./g, '\\.')}\\s`))
  })

  test('a tunnel through the lab sshd carries data to the db (ssh -W)', async () => {
    const r = await ssh(lab, lab.adminUser, lab.adminKeyPath, ['-W', `${lab.db.host}:${lab.db.port}`], 'through the tunnel\n')
    assert.match(r.stdout, new RegExp(`^bastion-lab-db ${lab.name}\nthrough the tunnel\n`))
  })

  // "At once" is told apart from a time-out by nc's own message; how long it took depends on the machine's load.
  test('the closed port is refused (not timed out)', async () => {
    const r = await timed(lab, `nc -v -z -w 2 ${lab.closedPort.host} ${lab.closedPort.port}`)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /refused/)
  })

  test('the timeout endpoint swallows the connect until nc gives up after 2 s', async () => {
    const r = await timed(lab, `nc -v -z -w 2 ${lab.timeoutEndpoint.host} ${lab.timeoutEndpoint.port}`)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /timed out/)
    assert.ok(r.ms >= 1900, `took ${r.ms} ms`)
  })

  test('the no-route endpoint fails with "No route to host" (not a time-out)', async () => {
    const r = await timed(lab, `nc -v -z -w 2 ${lab.noRouteEndpoint.host} ${lab.noRouteEndpoint.port}`)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /No route to host/)
  })

  test('the unresolvable name fails as a resolution error, not a DNS time-out', async () => {
    const r = await timed(lab, `nc -v -z -w 2 ${lab.unresolvableName} 5432`)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /getaddrinfo|resolution|not known/)
  })

  test('sshd logs verbosely to a file the test can read', async () => {
    await ssh(lab, lab.adminUser, lab.adminKeyPath, ['true'])
    const log = await lab.sshdLog()
    assert.match(log, new RegExp(`Server listening on ${lab.address.replace(/\./g, '\\.')} port 22`))
    assert.match(log, /Accepted publickey for admin/)
    assert.match(readFileSync(lab.sshdLogFile, 'utf8'), /Accepted publickey for admin/)
  })

  test('reloadSshd makes a new drop-in take effect', async () => {
    const w = await lab.exec(`echo "DenyUsers ${lab.sudoPasswordUser}" > /etc/ssh/sshd_config.d/deny.conf`)
    assert.equal(w.code, 0)
    await lab.reloadSshd()
    const r = await ssh(lab, lab.sudoPasswordUser, lab.sudoPasswordUserKeyPath, ['true'])
    assert.equal(r.code, 255)
    assert.match(await lab.sshdLog(), /not allowed because listed in DenyUsers/)
    assert.equal((await ssh(lab, lab.adminUser, lab.adminKeyPath, ['true'])).code, 0)
  })
})

describe('lab options', () => {
  after(() => stopAllLabs())

  test('usePam false and extra sshd_config lines are what sshd runs with', async () => {
    await withLab(async (lab) => {
      const r = await lab.exec('sshd -T')
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^usepam no$/m)
      assert.match(r.stdout, /^maxsessions 3$/m)
      assert.match(r.stdout, /^maxstartups 100:30:200$/m)
      assert.match(r.stdout, /^loglevel VERBOSE$/m)
      const login = await ssh(lab, lab.adminUser, lab.adminKeyPath, ['sudo', '-n', 'id', '-u'])
      assert.equal(login.code, 0, login.stderr)
    }, {usePam: false, sshdConfig: 'MaxSessions 3\nLogLevel VERBOSE', name: 'nopam'})
  })

  test('a PostgreSQL db is reachable from the lab with trust auth', async () => {
    await withLab(async (lab) => {
      assert.equal(lab.dbKind, 'postgres')
      const r = await lab.exec(`psql -h ${lab.dbName} -U ${lab.dbUser} -d ${lab.dbDatabase} -Atc 'select 40 + 2'`)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout.trim(), '42')
    }, {db: 'postgres'})
  })

  test('withLab stops the lab even when the callback throws', async () => {
    let seen: LabHost | undefined
    let index: string | undefined
    await assert.rejects(
      withLab(async (lab) => {
        seen = lab
        index = ifindex(lab)
        throw new Error('test failure')
      }),
      /test failure/,
    )
    assert.ok(seen && index)
    assertGone(seen, index)
    await seen.stop() // idempotent
    await assert.rejects(seen.exec('true'), /stopped/)
  })

  test('an invalid lab name is refused before anything starts', async () => {
    await assert.rejects(startLab({name: 'bad name;rm'}), /not a valid host name/)
  })
})

describe('many labs', () => {
  after(() => stopAllLabs())

  test('10 labs start concurrently on distinct networks and leave nothing behind after stop', async () => {
    const t0 = performance.now()
    const labs = await Promise.all(Array.from({length: 10}, () => startLab()))
    const ms = performance.now() - t0
    assert.equal(new Set(labs.map((l) => l.address)).size, 10)
    const answers = await Promise.all(labs.map((l) => ssh(l, l.adminUser, l.adminKeyPath, ['hostname'])))
    assert.deepEqual(answers.map((a) => a.stdout.trim()), labs.map((l) => l.name))
    const dbs = await Promise.all(labs.map((l) => l.exec(`nc -q 1 -w 2 ${l.dbName} ${l.db.port}`, '')))
    assert.deepEqual(dbs.map((d) => d.stdout), labs.map((l) => `bastion-lab-db ${l.name}\n`))

    const indexes = labs.map(ifindex)
    const processes = labs.flatMap(labProcesses)
    assert.ok(processes.length >= 20, `init and sshd of each lab: ${processes.length}`)
    await Promise.all(labs.map((l) => l.stop()))
    labs.forEach((l, i) => assertGone(l, indexes[i]))
    assert.deepEqual(processes.filter((p) => isAlive(Number(p))), [], 'processes left')
    console.log(`# 10 labs started in ${Math.round(ms)} ms`)
  })
})
