// Throw-away "lab hosts": Debian's real /usr/sbin/sshd in private namespaces (mount, pid, uts, ipc, net).
//
// Layout of one lab (n = slot 1..254, allocated with an atomic mkdir under LAB_ROOT, shared by all processes):
//   network   veth blab<n> (host side 10.231.<n>.1/24) <-> eth0 in the lab (10.231.<n>.2/24, sshd on :22)
//             in the lab: 10.231.<n>.128/25 -> a lab-internal veth that discards them (connect times out)
//                         unreachable 10.231.<n>.64/26 (connect fails at once: "No route to host")
//                         resolv.conf -> 127.0.0.1 where nothing listens (unknown names fail at once)
//   files     overlays (lower = the machine's dir, upper in the lab dir) on /etc, /var/lib, /usr/local;
//             fresh empty dirs on /home, /root, /run, /tmp, /var/log, /var/mail, /var/tmp; a tmpfs on /dev/shm
//   db        'tcp': a greeting+echo net.Server of this process on 10.231.<n>.1:5432;
//             'postgres': PostgreSQL 15 as the postgres user on 10.231.<n>.1:5432 (trust for 10.231.<n>.0/24)
// Every address lives on our veth pairs only; a host route `unreachable 10.231.0.0/16` makes sure that
// traffic to a lab that is gone fails locally instead of leaving the machine.
import {spawn, type ChildProcess} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync, rmSync} from 'node:fs'
import {
  appendFile, chmod, chown, cp, mkdir, readFile, readdir, rename, rm, stat, writeFile,
} from 'node:fs/promises'
import {createServer, type Server, type Socket} from 'node:net'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {generateEd25519} from '../../src/ssh/keygen.js'

export interface Endpoint {
  host: string
  port: number
}

export interface LabOptions {
  /** Lab name (hostname inside the lab); default `lab-<n>`. */
  name?: string
  /** Database target kind: a plain TCP listener (default) or a real PostgreSQL. */
  db?: 'tcp' | 'postgres'
  /** Extra lines appended to the lab's sshd_config (before any Match block the lab itself writes — it writes none). */
  sshdConfig?: string
  /** Set `UsePAM` in the lab's sshd_config (default: yes, as Debian ships it). */
  usePam?: boolean
}

export interface ExecResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface LabHost {
  name: string
  /** Address the test process dials to reach the lab's sshd. */
  address: string
  /** sshd port (22 inside the lab's own network namespace). */
  port: number
  /** Admin login with passwordless sudo. */
  adminUser: string
  /** Path to the admin's private key (ed25519, no passphrase). */
  adminKeyPath: string
  /** The lab's fresh ed25519 host key: `SHA256:…` as ssh-keygen prints it. */
  hostKeyFingerprint: string
  /** A known_hosts file containing exactly this lab's host key(s) for `address` (and `[address]:port`). */
  knownHostsFile: string
  /** The known_hosts line(s) for this lab. */
  knownHostsLines: string[]
  /** A real database target reachable FROM the lab (not necessarily from the test process). */
  db: Endpoint
  /** Same host as db, a port where nothing listens (connection refused). */
  closedPort: Endpoint
  /** An address:port whose TCP connect, from inside the lab, times out (packets silently dropped). */
  timeoutEndpoint: Endpoint
  /** An address:port for which, from inside the lab, connect fails with "no route to host". */
  noRouteEndpoint: Endpoint
  /** A name that does not resolve inside the lab (fails fast, no DNS timeout). */
  unresolvableName: string
  /** A name that resolves inside the lab (via its /etc/hosts) to db.host. */
  dbName: string
  /** Run a shell command as root inside the lab (all its namespaces). */
  exec(command: string, stdin?: string, options?: {timeoutMs?: number}): Promise<ExecResult>
  /** Stop sshd and everything in the lab, remove its network and files. Idempotent. */
  stop(): Promise<void>

  /** Slot number n: the lab's network is 10.231.<n>.0/24. */
  slot: number
  /** The lab's directory on the machine (overlay uppers, fresh dirs, keys, logs). Removed by stop(). */
  dir: string
  /** Host pid of the lab's init process (pid 1 inside); `nsenter -t <pid>` enters the lab. */
  pid: number
  /** Which kind of database `db` is. */
  dbKind: 'tcp' | 'postgres'
  /** For dbKind 'postgres': role and database to use (trust auth from the lab's subnet). */
  dbUser: string
  dbDatabase: string
  /** The admin's public key line (`ssh-ed25519 AAAA… admin@<name>`). */
  adminPublicKey: string
  /** A user whose sudo needs a password (key login works; `sudo -n` fails with "a password is required"). */
  sudoPasswordUser: string
  sudoPasswordUserKeyPath: string
  /** That user's login/sudo password. */
  sudoPassword: string
  /** Inside the lab: sshd_config path and pid file of the running sshd. */
  sshdConfigPath: string
  sshdPidFile: string
  /** On the machine: sshd's log (`sshd -E`, LogLevel VERBOSE). */
  sshdLogFile: string
  /** Host-side path through which the test process can read/write a path of the lab's file system. */
  hostPath(labPath: string): string
  /** Read sshd's log so far. */
  sshdLog(): Promise<string>
  /** SIGHUP sshd (re-reads its config, as `systemctl reload ssh` does) and wait until it listens again. */
  reloadSshd(): Promise<void>
  /** Milliseconds startLab took. */
  startupMs: number
}

// ---------------------------------------------------------------------------------------------------------------

export const LAB_ROOT = process.env.BASTION_LAB_DIR ?? '/var/tmp/bastion-lab'
// Exported below with "shared": the parts test/lab/booted.ts (systemd-booted labs) reuses: slots, network, db,
// keys, teardown. They are not meant for tests.
/** shared */
export const NET_PREFIX = '10.231'
const SAFETY_ROUTE = `${NET_PREFIX}.0.0/16`
const PG_BIN = '/usr/lib/postgresql/15/bin'
const DB_PORT = 5432
const CLOSED_PORT = 5433
/** shared */
export const SUDO_PASSWORD = 'lab-sudo-password'
// `openssl passwd -6 -salt bastionlabsalt lab-sudo-password`
/** shared */
export const SUDO_PASSWORD_HASH =
  '$6$bastionlabsalt$t53YlsBjBf4bN8.Q1paWNQ/qPfvifKSyTQarMra4ZkUCcgCjpNfcaEq5scWSOUibj7peGF8DPNBe61We26IrT0'
/** shared */
export const ADMIN_USER = 'admin'
/** shared */
export const SUDO_PW_USER = 'sudopw'
const START_TIMEOUT_MS = 30_000
/** shared */
export const CLEAN_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
}

/** shared */
export function run(
  cmd: string,
  args: string[],
  options: {input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string} = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {env: options.env ?? CLEAN_ENV, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.stdin.on('error', () => {})
    let timer: NodeJS.Timeout | undefined
    if (options.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      if (timer) clearTimeout(timer)
      resolve({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()})
    })
    child.stdin.end(options.input ?? '')
  })
}

/** shared */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as {code: unknown}).code) : undefined
}

// ---- slots: atomic mkdir under LAB_ROOT; an owner file says which process holds it ---------------------------

interface Owner {
  pid: number
  start: string
}

/** Start time of a process (field 22 of /proc/<pid>/stat), to tell a live owner from a reused pid. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

const me: Owner = {pid: process.pid, start: procStart(process.pid) ?? ''}

async function isStale(dir: string): Promise<boolean> {
  let owner: Owner
  try {
    owner = JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as Owner
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT' && !(e instanceof SyntaxError)) throw e
    // just created by someone who has not written the owner file yet, or left over from a crash
    try {
      return Date.now() - (await stat(dir)).mtimeMs > 30_000
    } catch {
      return false
    }
  }
  if (owner.pid === me.pid && owner.start === me.start) return false // ours: reserved or being stopped
  return procStart(owner.pid) !== owner.start
}

/** shared */
export async function deleteVeth(n: number): Promise<void> {
  if (existsSync(`/sys/class/net/blab${n}`)) await run('ip', ['link', 'del', `blab${n}`])
}

async function reclaim(n: number, dir: string): Promise<void> {
  const trash = join(LAB_ROOT, `.trash-${n}-${randomBytes(4).toString('hex')}`)
  try {
    await rename(dir, trash) // only one reclaimer wins
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return
    throw e
  }
  await deleteVeth(n)
  await rm(trash, {recursive: true, force: true}).catch(() => {})
}

let swept = false
async function sweepTrash(): Promise<void> {
  if (swept) return
  swept = true
  for (const entry of await readdir(LAB_ROOT)) {
    if (!entry.startsWith('.trash-') && !entry.startsWith('.pg-template-')) continue
    const path = join(LAB_ROOT, entry)
    try {
      if (Date.now() - (await stat(path)).mtimeMs > 60_000) await rm(path, {recursive: true, force: true})
    } catch {
      // someone else is removing it
    }
  }
}

let routeReady: Promise<void> | undefined
/** Traffic for 10.231.0.0/16 that no live lab claims fails on this machine, never leaves it. */
/** shared */
export function ensureSafetyRoute(): Promise<void> {
  routeReady ??= run('ip', ['route', 'replace', 'unreachable', SAFETY_ROUTE]).then((r) => {
    if (r.code !== 0) throw new Error(`ip route replace unreachable ${SAFETY_ROUTE}: ${r.stderr}`)
  })
  return routeReady
}

/** shared */
export async function allocateSlot(): Promise<{n: number; dir: string}> {
  await mkdir(LAB_ROOT, {recursive: true})
  await chmod(LAB_ROOT, 0o755) // the postgres user must traverse it
  await sweepTrash()
  for (let n = 1; n <= 254; n++) {
    if (reserved.has(n)) continue
    const dir = join(LAB_ROOT, `slot-${n}`)
    try {
      await mkdir(dir)
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e
      if (reserved.has(n) || !(await isStale(dir)) || reserved.has(n)) continue
      reserved.set(n, '') // while this process reclaims it
      try {
        await reclaim(n, dir)
        await mkdir(dir)
      } catch {
        reserved.delete(n)
        continue
      }
    }
    reserved.set(n, dir)
    await writeFile(join(dir, 'owner.json'), JSON.stringify(me))
    await chmod(dir, 0o755)
    return {n, dir}
  }
  throw new Error(`no free lab slot under ${LAB_ROOT} (254 labs in use?)`)
}

// ---- process-wide teardown -------------------------------------------------------------------------------------

/** shared: a lab this process runs (plain or booted), as the teardown code sees it. */
export interface Running {
  init?: ChildProcess
  pg?: ChildProcess
  db?: {server: Server; sockets: Set<Socket>}
  stop(): Promise<void>
  stopSync(): void
}

/** shared */
export const active = new Set<Running>()
/** Slots this process holds, with their dirs (from mkdir until stop() removed the slot dir). */
const reserved = new Map<number, string>()

/** shared: the slot is free again (its dir is gone). */
export function releaseSlot(n: number): void {
  reserved.delete(n)
}
let handlersInstalled = false

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'
  } catch {
    return false
  }
}

/** shared */
export function killGroup(child: ChildProcess | undefined): void {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    try {
      child.kill('SIGKILL')
    } catch {
      // gone
    }
  }
}

function stopAllSync(): void {
  for (const r of active) {
    killGroup(r.init)
    killGroup(r.pg)
  }
  for (const r of active) r.stopSync()
  active.clear()
  // labs still being set up have a slot dir but no processes yet
  for (const dir of reserved.values()) {
    try {
      if (dir) rmSync(dir, {recursive: true, force: true})
    } catch {
      // reclaimed by the next run (its owner is dead)
    }
  }
  reserved.clear()
}

/** shared */
export function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', stopAllSync)
  const signals: Array<[NodeJS.Signals, number]> = [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]
  let exiting = false
  for (const [signal, status] of signals) {
    process.on(signal, () => {
      if (exiting) return
      exiting = true
      // a proper stop (waits for the veths to go); the 'exit' handler kills whatever is left
      setTimeout(() => process.exit(status), 5000).unref()
      stopAllLabs().finally(() => process.exit(status))
    })
  }
}

// ---- the lab's files ---------------------------------------------------------------------------------------------

interface UserSpec {
  name: string
  uid: number
  gid: number
  shadowHash: string
  publicKey: string
  groups: string[]
}

function nextId(file: string, min: number, max: number, taken: number[] = []): number {
  let best = min - 1
  for (const line of file.split('\n')) {
    const id = Number(line.split(':')[2])
    if (Number.isInteger(id) && id >= min && id < max && id > best) best = id
  }
  for (const id of taken) if (id > best) best = id
  return best + 1
}

function addMembers(file: string, group: string, users: string[]): string {
  return file
    .split('\n')
    .map((line) => {
      const parts = line.split(':')
      if (parts[0] !== group || parts.length < 4) return line
      const members = (parts[3] ?? '').split(',').filter(Boolean)
      parts[3] = [...members, ...users.filter((u) => !members.includes(u))].join(',')
      return parts.join(':')
    })
    .join('\n')
}

function withNewline(s: string): string {
  return s.endsWith('\n') || s === '' ? s : s + '\n'
}

async function copyMeta(from: string, to: string): Promise<void> {
  const s = await stat(from)
  await chown(to, s.uid, s.gid)
  await chmod(to, s.mode & 0o7777)
}

function sshdConfig(address: string, usePam: boolean, extra: string): string {
  // sshd uses the first value it reads for a keyword: the machine's drop-ins (Include, as Debian ships) win,
  // then the caller's extra lines, then the lab's defaults. The caller's Match blocks go last.
  const extraLines = extra.split('\n')
  const matchAt = extraLines.findIndex((l) => /^\s*match\s/i.test(l))
  const globalExtra = matchAt < 0 ? extraLines : extraLines.slice(0, matchAt)
  const matchExtra = matchAt < 0 ? [] : extraLines.slice(matchAt)
  const given = new Set(
    globalExtra.map((l) => l.trim().split(/[\s=]+/)[0]?.toLowerCase() ?? '').filter((k) => k && !k.startsWith('#')),
  )
  const defaults: Array<[string, string]> = [
    ['ListenAddress', `${address}:22`],
    ['HostKey', '/etc/ssh/ssh_host_ed25519_key'],
    ['KbdInteractiveAuthentication', 'no'],
    ['UsePAM', usePam ? 'yes' : 'no'],
    ['X11Forwarding', 'yes'],
    ['PrintMotd', 'no'],
    ['AcceptEnv', 'LANG LC_*'],
    ['Subsystem', 'sftp /usr/lib/openssh/sftp-server'],
    ['MaxStartups', '100:30:200'],
    ['LogLevel', 'VERBOSE'],
    ['PidFile', '/run/sshd.pid'],
  ]
  return [
    '# bastion test lab: Debian defaults + what the lab needs',
    'Include /etc/ssh/sshd_config.d/*.conf',
    ...(globalExtra.some((l) => l.trim()) ? ['# options.sshdConfig', ...globalExtra] : []),
    '# lab defaults',
    ...defaults.filter(([k]) => !given.has(k.toLowerCase())).map(([k, v]) => `${k} ${v}`),
    ...matchExtra,
    '',
  ].join('\n')
}

/** shared */
export interface LabKeys {
  hostKey: ReturnType<typeof generateEd25519>
  adminKey: ReturnType<typeof generateEd25519>
  pwKey: ReturnType<typeof generateEd25519>
  knownHostsLines: string[]
}

/** shared: fresh host and user keys; the users' private keys under <dir>/keys, the known_hosts file in <dir>. */
export async function makeKeys(dir: string, name: string, address: string): Promise<LabKeys> {
  const hostKey = generateEd25519(`root@${name}`)
  const adminKey = generateEd25519(`${ADMIN_USER}@${name}`)
  const pwKey = generateEd25519(`${SUDO_PW_USER}@${name}`)
  await mkdir(join(dir, 'keys'), {recursive: true, mode: 0o700})
  await writeFile(join(dir, 'keys', ADMIN_USER), adminKey.privateKey, {mode: 0o600})
  await writeFile(join(dir, 'keys', `${ADMIN_USER}.pub`), adminKey.publicKey + '\n')
  await writeFile(join(dir, 'keys', SUDO_PW_USER), pwKey.privateKey, {mode: 0o600})
  await writeFile(join(dir, 'keys', `${SUDO_PW_USER}.pub`), pwKey.publicKey + '\n')
  const [ktype, kb64] = hostKey.publicKey.split(' ')
  const knownHostsLines = [`${address} ${ktype} ${kb64}`]
  await writeFile(join(dir, 'known_hosts'), knownHostsLines.join('\n') + '\n')
  return {hostKey, adminKey, pwKey, knownHostsLines}
}

/** shared: /etc/hosts of a lab (its own name, db.lab for the db host). */
export function etcHosts(name: string, address: string, dbHost: string): string {
  return `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n${address}\t${name}.lab\n${dbHost}\tdb.lab db\n::1\tlocalhost ip6-localhost ip6-loopback\n`
}

/** shared: nothing listens on 127.0.0.1:53 inside a lab: lookups of unknown names fail at once. */
export const RESOLV_CONF = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n'

async function prepareFiles(dir: string, name: string, address: string, dbHost: string, options: LabOptions): Promise<LabKeys> {
  const keys = await makeKeys(dir, name, address)
  const {hostKey, adminKey, pwKey} = keys

  const d = (...p: string[]) => join(dir, ...p)
  const dirs: Array<[string, number]> = [
    ['etc-upper', 0o755], ['etc-work', 0o755], ['etc-copy', 0o755],
    ['etc-upper/ssh', 0o755], ['etc-upper/sudoers.d', 0o755],
    ['varlib-upper', 0o755], ['varlib-work', 0o755], ['varlib-copy', 0o755],
    ['usrlocal-upper', 0o755], ['usrlocal-work', 0o755],
    ['home', 0o755], ['root', 0o700], ['run', 0o755], ['run/sshd', 0o755], ['run/lock', 0o1777],
    ['tmp', 0o1777], ['var-log', 0o755], ['var-mail', 0o2775], ['var-tmp', 0o1777], ['keys', 0o700],
  ]
  for (const [p, mode] of dirs) {
    await mkdir(d(p), {recursive: true})
    await chmod(d(p), mode)
  }
  for (const [p, from] of [['etc-upper', '/etc'], ['varlib-upper', '/var/lib'], ['usrlocal-upper', '/usr/local']] as const) {
    await copyMeta(from, d(p))
  }
  await copyMeta('/var/mail', d('var-mail')).catch(() => {})

  // users: copies of the machine's account files plus the lab's users
  const [passwd, shadow, group, gshadow] = await Promise.all(
    ['passwd', 'shadow', 'group', 'gshadow'].map((f) => readFile(`/etc/${f}`, 'utf8')),
  )
  if (passwd === undefined || shadow === undefined || group === undefined || gshadow === undefined) {
    throw new Error('cannot read the account files in /etc')
  }
  const adminUid = nextId(passwd, 1000, 60000)
  const adminGid = nextId(group, 1000, 60000)
  const users: UserSpec[] = [
    {name: ADMIN_USER, uid: adminUid, gid: adminGid, shadowHash: '*', publicKey: adminKey.publicKey, groups: ['sudo']},
    {name: SUDO_PW_USER, uid: adminUid + 1, gid: adminGid + 1, shadowHash: SUDO_PASSWORD_HASH, publicKey: pwKey.publicKey, groups: ['sudo']},
  ]
  const day = Math.floor(Date.now() / 86_400_000)
  let passwdOut = withNewline(passwd)
  let shadowOut = withNewline(shadow)
  let groupOut = withNewline(group)
  let gshadowOut = withNewline(gshadow)
  for (const u of users) {
    passwdOut += `${u.name}:x:${u.uid}:${u.gid}:lab user:/home/${u.name}:/bin/bash\n`
    shadowOut += `${u.name}:${u.shadowHash}:${day}:0:99999:7:::\n`
    groupOut += `${u.name}:x:${u.gid}:\n`
    gshadowOut += `${u.name}:!::\n`
  }
  groupOut = addMembers(groupOut, 'sudo', users.map((u) => u.name))
  gshadowOut = addMembers(gshadowOut, 'sudo', users.map((u) => u.name))
  const files: Array<[string, string, string]> = [
    ['passwd', passwdOut, '/etc/passwd'],
    ['shadow', shadowOut, '/etc/shadow'],
    ['group', groupOut, '/etc/group'],
    ['gshadow', gshadowOut, '/etc/gshadow'],
  ]
  for (const [f, content, meta] of files) {
    await writeFile(d('etc-upper', f), content)
    await copyMeta(meta, d('etc-upper', f))
  }

  const etc: Array<[string, string, number]> = [
    ['hostname', `${name}\n`, 0o644],
    ['hosts', etcHosts(name, address, dbHost), 0o644],
    ['resolv.conf', RESOLV_CONF, 0o644],
    ['ssh/sshd_config', sshdConfig(address, options.usePam ?? true, options.sshdConfig ?? ''), 0o644],
    ['ssh/ssh_host_ed25519_key', hostKey.privateKey, 0o600],
    ['ssh/ssh_host_ed25519_key.pub', hostKey.publicKey + '\n', 0o644],
    ['sudoers.d/bastion-lab', `${ADMIN_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`, 0o440],
  ]
  for (const [f, content, mode] of etc) {
    await writeFile(d('etc-upper', f), content)
    await chmod(d('etc-upper', f), mode)
  }

  for (const u of users) {
    const home = d('home', u.name)
    await mkdir(join(home, '.ssh'), {recursive: true})
    await writeFile(join(home, '.ssh', 'authorized_keys'), u.publicKey + '\n')
    await chmod(home, 0o750)
    await chmod(join(home, '.ssh'), 0o700)
    await chmod(join(home, '.ssh', 'authorized_keys'), 0o600)
    for (const p of [home, join(home, '.ssh'), join(home, '.ssh', 'authorized_keys')]) await chown(p, u.uid, u.gid)
  }

  return keys
}

// Runs as pid 1 of the lab (`sh <dir>/init.sh <dir> <name> <no-overlay> <drop-in files to hide...>`).
// Without overlayfs (or with BASTION_LAB_NO_OVERLAY=1) /etc and /var/lib are copies, /usr/local is read-only.
const INIT = String.raw`
set -e
read -r hostpid rest < /proc/self/stat   # the machine's /proc is still mounted: this is our pid out there
echo "pid $hostpid"
D=$1; NAME=$2; NO_OVERLAY=$3; shift 3
M='mount -n'
$M --bind "$D/run" /run   # first, so even mount's own bookkeeping stays in the lab
$M -t proc proc /proc
$M -t sysfs sysfs /sys   # shows the lab's own network devices
$M -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm
ovl() {   # <dir> <key> <fallback: copy|ro>
  if [ -z "$NO_OVERLAY" ] && $M -t overlay overlay -o "lowerdir=$1,upperdir=$D/$2-upper,workdir=$D/$2-work" "$1" 2>>"$D/init.err"; then
    return
  fi
  echo "no overlay on $1: $3" >>"$D/init.err"
  if [ "$3" = copy ]; then
    cp -a "$1/." "$D/$2-copy/" && cp -a "$D/$2-upper/." "$D/$2-copy/" && $M --bind "$D/$2-copy" "$1"
  else
    $M --bind "$1" "$1" && $M -o remount,bind,ro "$1"
  fi
}
ovl /etc etc copy
ovl /var/lib varlib copy
ovl /usr/local usrlocal ro
$M --bind "$D/home" /home
$M --bind "$D/root" /root
$M --bind "$D/tmp" /tmp
$M --bind "$D/var-log" /var/log
$M --bind "$D/var-mail" /var/mail
$M --bind "$D/var-tmp" /var/tmp   # last: it may hide $D
for f in "$@"; do rm -f "$f"; done
echo "$NAME" > /proc/sys/kernel/hostname
cd /
echo mounted
ip -batch -   # the test process writes the lab-side network setup once the veth exists
/usr/sbin/sshd -D -E /var/log/sshd.log </dev/null >>/var/log/sshd.stderr 2>&1 &
echo started
exec </dev/null >/dev/null 2>&1
set +e
while :; do wait; sleep 2147483647 & done
`

// ---- database targets --------------------------------------------------------------------------------------------

/** shared */
export function startTcpDb(host: string, name: string): Promise<{server: Server; sockets: Set<Socket>}> {
  const sockets = new Set<Socket>()
  const server = createServer((sock) => {
    sockets.add(sock)
    sock.unref()
    sock.on('error', () => {})
    sock.on('close', () => sockets.delete(sock))
    sock.write(`bastion-lab-db ${name}\n`)
    sock.pipe(sock)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({host, port: DB_PORT, exclusive: true}, () => {
      server.off('error', reject)
      server.unref()
      resolve({server, sockets})
    })
  })
}

let pgTemplate: Promise<string> | undefined

/** initdb once per machine (cached under LAB_ROOT), labs copy it. */
function postgresTemplate(): Promise<string> {
  pgTemplate ??= (async () => {
    const tpl = join(LAB_ROOT, 'pg-template-15')
    if (existsSync(join(tpl, 'data', 'PG_VERSION'))) return tpl
    const tmp = join(LAB_ROOT, `.pg-template-${process.pid}-${randomBytes(4).toString('hex')}`)
    await mkdir(tmp)
    await chown(tmp, ...(await pgIds()))
    const r = await run('setpriv', [
      '--reuid=postgres', '--regid=postgres', '--init-groups',
      `${PG_BIN}/initdb`, '-D', join(tmp, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8',
      '--locale=C.UTF-8', '--no-sync', '--no-instructions',
    ], {cwd: tmp})
    if (r.code !== 0) throw new Error(`initdb failed: ${r.stderr}${r.stdout}`)
    try {
      await rename(tmp, tpl)
    } catch {
      await rm(tmp, {recursive: true, force: true}) // another process won the race
    }
    return tpl
  })()
  pgTemplate.catch(() => {
    pgTemplate = undefined
  })
  return pgTemplate
}

let pgIdsCache: [number, number] | undefined
async function pgIds(): Promise<[number, number]> {
  if (pgIdsCache) return pgIdsCache
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith('postgres:'))
  if (!line) throw new Error('no postgres user on this machine (apt-get install postgresql)')
  const parts = line.split(':')
  pgIdsCache = [Number(parts[2]), Number(parts[3])]
  return pgIdsCache
}

/** shared */
export async function preparePostgres(dir: string, subnet: string): Promise<string> {
  const tpl = await postgresTemplate()
  const pg = join(dir, 'pg')
  await mkdir(join(pg, 'run'), {recursive: true})
  await cp(join(tpl, 'data'), join(pg, 'data'), {recursive: true, preserveTimestamps: true})
  const [uid, gid] = await pgIds()
  const r = await run('chown', ['-R', `${uid}:${gid}`, pg])
  if (r.code !== 0) throw new Error(`chown postgres: ${r.stderr}`)
  await chmod(join(pg, 'data'), 0o700)
  await appendFile(join(pg, 'data', 'pg_hba.conf'), `host all all ${subnet} trust\n`)
  return pg
}

/** shared */
export async function startPostgres(pg: string, host: string, onSpawn: (child: ChildProcess) => void): Promise<ChildProcess> {
  const logFile = join(pg, 'postgres.log')
  const fd = openSync(logFile, 'a')
  const child = spawn('setpriv', [
    // pid 1 of the namespace stays root (changing uid would clear the parent-death signal): when the test process
    // dies, unshare, this sh and with it every postgres process die too; the IPC namespace takes the SysV memory
    '--pdeathsig', 'KILL', 'unshare', '--ipc', '--pid', '--fork', '--kill-child',
    '/bin/sh', '-c', 'read -r hostpid rest </proc/self/stat; echo "$hostpid" >"$0"; "$@" & wait', join(pg, 'ns.pid'),
    'setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups',
    `${PG_BIN}/postgres`, '-D', join(pg, 'data'),
    '-c', `listen_addresses=${host}`, '-c', `port=${DB_PORT}`, '-c', `unix_socket_directories=${join(pg, 'run')}`,
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'dynamic_shared_memory_type=sysv', '-c', 'shared_buffers=16MB', '-c', 'max_connections=40',
    '-c', 'logging_collector=off', '-c', 'log_connections=on',
  ], {cwd: pg, env: CLEAN_ENV, detached: true, stdio: ['ignore', fd, fd]})
  closeSync(fd)
  child.unref()
  onSpawn(child)
  const t0 = Date.now()
  for (;;) {
    await sleep(20)
    const log = await readFile(logFile, 'utf8').catch(() => '')
    if (/ready to accept connections/.test(log)) return child
    if (child.exitCode !== null || child.signalCode !== null || Date.now() - t0 > START_TIMEOUT_MS) {
      killGroup(child)
      throw new Error(`postgres did not start:\n${log}`)
    }
  }
}

/**
 * shared: start the lab's db target on the host side of its veth (the lab's pg dir from preparePostgres for
 * 'postgres'); what runs is recorded on `running` so stop()/exit handlers take it down.
 */
export async function startDb(
  running: Running, kind: 'tcp' | 'postgres', hostSide: string, name: string,
  pgPrepared: Promise<string> | undefined, stopping: () => boolean,
): Promise<void> {
  const stoppedMeanwhile = () => new Error(`lab ${name} was stopped while starting`)
  if (kind === 'tcp') {
    const s = await startTcpDb(hostSide, name)
    running.db = s
    if (stopping()) {
      closeDb(running)
      throw stoppedMeanwhile()
    }
    return
  }
  const pgDir = await pgPrepared!
  if (stopping()) throw stoppedMeanwhile()
  await startPostgres(pgDir, hostSide, (c) => {
    running.pg = c
    if (stopping()) killGroup(c)
  })
}

/** shared */
export function closeDb(running: Running): void {
  running.db?.server.close()
  for (const s of running.db?.sockets ?? []) s.destroy()
}

/** shared: the LabHost fields that depend only on the slot, its dir, the keys and the db kind. */
export function commonFields(n: number, dir: string, keys: LabKeys, dbKind: 'tcp' | 'postgres') {
  const hostSide = `${NET_PREFIX}.${n}.1`
  const address = `${NET_PREFIX}.${n}.2`
  return {
    address,
    port: 22,
    adminUser: ADMIN_USER,
    adminKeyPath: join(dir, 'keys', ADMIN_USER),
    hostKeyFingerprint: keys.hostKey.fingerprint,
    knownHostsFile: join(dir, 'known_hosts'),
    knownHostsLines: keys.knownHostsLines,
    db: {host: hostSide, port: DB_PORT},
    closedPort: {host: hostSide, port: CLOSED_PORT},
    timeoutEndpoint: {host: `${NET_PREFIX}.${n}.130`, port: DB_PORT},
    noRouteEndpoint: {host: `${NET_PREFIX}.${n}.70`, port: DB_PORT},
    unresolvableName: 'no-such-host.invalid',
    dbName: 'db.lab',
    slot: n,
    dir,
    dbKind,
    dbUser: 'postgres',
    dbDatabase: 'postgres',
    adminPublicKey: keys.adminKey.publicKey,
    sudoPasswordUser: SUDO_PW_USER,
    sudoPasswordUserKeyPath: join(dir, 'keys', SUDO_PW_USER),
    sudoPassword: SUDO_PASSWORD,
  } satisfies Partial<LabHost>
}

// ---- start / stop --------------------------------------------------------------------------------------------------

/** shared */
export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i

const starting = new Set<Promise<LabHost>>()

/** shared: stopAllLabs() waits for a lab that is still starting. */
export function trackStart<T extends LabHost>(p: Promise<T>): Promise<T> {
  starting.add(p)
  p.then(() => starting.delete(p), () => starting.delete(p))
  return p
}

export function startLab(options: LabOptions = {}): Promise<LabHost> {
  return trackStart(startLabNow(options))
}

async function startLabNow(options: LabOptions): Promise<LabHost> {
  const t0 = performance.now()
  if (options.name !== undefined && !NAME_RE.test(options.name)) {
    throw new Error(`lab name ${JSON.stringify(options.name)} is not a valid host name`)
  }
  installHandlers()
  const routeP = ensureSafetyRoute()
  const {n, dir} = await allocateSlot()
  const name = options.name ?? `lab-${n}`
  const subnet = `${NET_PREFIX}.${n}.0/24`
  const hostSide = `${NET_PREFIX}.${n}.1`
  const address = `${NET_PREFIX}.${n}.2`
  const veth = `blab${n}`
  const dbKind = options.db ?? 'tcp'

  let init: ChildProcess | undefined
  let pg: ChildProcess | undefined
  let stopping: Promise<void> | undefined
  let nsPid = 0
  const running: Running = {stop: () => stop(), stopSync: () => releaseSync()}
  active.add(running) // from now on stopAllLabs() and the exit handlers know about this lab

  const releaseSync = () => {
    closeDb(running)
    try {
      rmSync(dir, {recursive: true, force: true})
    } catch {
      // reclaimed by the next run (owner is dead)
    }
  }

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      active.delete(running)
      const exited = (c: ChildProcess | undefined) =>
        c && c.exitCode === null && c.signalCode === null
          ? new Promise<void>((resolve) => c.once('exit', () => resolve()))
          : Promise.resolve()
      const waits = [exited(init), exited(pg)]
      let postmaster = 0
      if (pg) {
        try {
          // pid 1 of postgres' pid namespace: once it is dead, so is every postgres process
          postmaster = Number(readFileSync(join(dir, 'pg', 'ns.pid'), 'utf8').trim())
        } catch {
          // not started
        }
      }
      killGroup(init)
      killGroup(pg)
      closeDb(running)
      const ac = new AbortController()
      await Promise.race([Promise.all(waits), sleep(5000, undefined, {signal: ac.signal}).catch(() => {})])
      ac.abort()
      // the lab's pid 1 may linger as a zombie until the machine's init reaps it: dead enough, its namespaces are gone
      for (let i = 0; i < 500 && ((nsPid && isAlive(nsPid)) || (postmaster && isAlive(postmaster))); i++) await sleep(10)
      // the kernel removes the veth pair with the namespace; make sure before the slot is free again
      await deleteVeth(n).catch(() => {})
      for (let i = 0; i < 200 && existsSync(`/sys/class/net/${veth}`); i++) await sleep(10)
      await rm(dir, {recursive: true, force: true, maxRetries: 3}).catch(() => {})
      reserved.delete(n)
    })()
    return stopping
  }

  const stoppedMeanwhile = () => new Error(`lab ${name} was stopped while starting`)
  try {
    const hiddenDropIns = (await readdir('/etc/ssh/sshd_config.d').catch(() => [] as string[]))
      .filter((f) => f.endsWith('.conf'))
      .map((f) => `/etc/ssh/sshd_config.d/${f}`)
    const prepared = await prepareFiles(dir, name, address, hostSide, options)
    await writeFile(join(dir, 'init.sh'), INIT)
    const pgPrepared = dbKind === 'postgres' ? preparePostgres(dir, subnet) : undefined
    pgPrepared?.catch(() => {})
    await routeP
    if (stopping) throw stoppedMeanwhile()

    const child = spawn('setpriv', [
      '--pdeathsig', 'KILL', 'unshare', '--mount', '--pid', '--uts', '--ipc', '--net', '--fork', '--kill-child',
      '--propagation', 'private', '/bin/sh', join(dir, 'init.sh'), dir, name, process.env.BASTION_LAB_NO_OVERLAY ? '1' : '', ...hiddenDropIns,
    ], {env: CLEAN_ENV, detached: true, stdio: ['pipe', 'pipe', 'pipe'], cwd: '/'})
    init = child
    child.unref()
    running.init = child

    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdin?.on('error', () => {})
    const failure = () => {
      const read = (p: string) => {
        try {
          return readFileSync(p, 'utf8')
        } catch {
          return ''
        }
      }
      return [stderr, read(join(dir, 'init.err')), read(join(dir, 'var-log', 'sshd.stderr')), read(join(dir, 'var-log', 'sshd.log'))]
        .filter(Boolean)
        .join('\n')
    }

    await new Promise<void>((resolve, reject) => {
      let buf = ''
      let settled = false
      const timer = setTimeout(() => done(new Error(`lab ${name} did not start in ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      const done = (e?: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (e) reject(e)
        else resolve()
      }
      child.on('error', (e) => done(e))
      child.on('exit', (code, signal) => done(new Error(`lab ${name} init exited (${code ?? signal}):\n${failure()}`)))
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString()
        let i: number
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i)
          buf = buf.slice(i + 1)
          const pidMatch = /^pid (\d+)$/.exec(line)
          if (pidMatch) {
            nsPid = Number(pidMatch[1])
            setupNetwork(n, nsPid, hostSide)
              .then(() => child.stdin?.end(labNetBatch(n, address)))
              .catch(done)
          } else if (line === 'started') {
            done()
          }
        }
      })
    })

    const dbReady = startDb(running, dbKind, hostSide, name, pgPrepared, () => stopping !== undefined).then(() => {
      pg = running.pg
    })
    // sshd writes its pid file once it listens
    const pidFile = join(dir, 'run', 'sshd.pid')
    const sshdReady = (async () => {
      for (const t = Date.now(); !existsSync(pidFile); await sleep(5)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`lab ${name} died:\n${failure()}`)
        if (Date.now() - t > START_TIMEOUT_MS) throw new Error(`sshd in lab ${name} did not start:\n${failure()}`)
      }
    })()
    await Promise.all([dbReady, sshdReady])
    // nothing more comes through the init's pipes; let go of them so they do not keep this process alive
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy()

    const sshdLogFile = join(dir, 'var-log', 'sshd.log')
    const hostPath = (p: string) => `/proc/${nsPid}/root${p.startsWith('/') ? '' : '/'}${p}`
    const exec = async (command: string, stdin?: string, opts: {timeoutMs?: number} = {}): Promise<ExecResult> => {
      if (stopping) throw new Error(`lab ${name} is stopped`)
      return run('nsenter', ['-t', String(nsPid), '-m', '-u', '-i', '-n', '-p', '--wdns=/root', '--', '/bin/sh', '-c', command], {
        input: stdin, timeoutMs: opts.timeoutMs,
      })
    }
    const sshdLog = () => readFile(sshdLogFile, 'utf8').catch(() => '')
    const lab: LabHost = {
      ...commonFields(n, dir, prepared, dbKind),
      name,
      exec,
      stop,
      pid: nsPid,
      sshdConfigPath: '/etc/ssh/sshd_config',
      sshdPidFile: '/run/sshd.pid',
      sshdLogFile,
      hostPath,
      sshdLog,
      reloadSshd: async () => {
        const count = async () => ((await sshdLog()).match(/Server listening on/g) ?? []).length
        const before = await count()
        const r = await exec('kill -HUP "$(cat /run/sshd.pid)"')
        if (r.code !== 0) throw new Error(`reloading sshd in lab ${name}: ${r.stderr}`)
        for (const t = Date.now(); (await count()) <= before; await sleep(10)) {
          if (Date.now() - t > 10_000) throw new Error(`sshd in lab ${name} did not come back after SIGHUP:\n${await sshdLog()}`)
        }
      },
      startupMs: 0,
    }
    lab.startupMs = Math.round(performance.now() - t0)
    return lab
  } catch (e) {
    const stoppedFirst = stopping !== undefined
    await stop()
    throw stoppedFirst ? stoppedMeanwhile() : e
  }
}

/** shared */
export async function setupNetwork(n: number, nsPid: number, hostSide: string): Promise<void> {
  const veth = `blab${n}`
  const batch = [
    `link add ${veth} type veth peer name eth0 netns ${nsPid}`,
    `link set ${veth} addrgenmode none`,
    `addr add ${hostSide}/24 dev ${veth}`,
    `link set ${veth} up`,
    '',
  ].join('\n')
  let r = await run('ip', ['-batch', '-'], {input: batch})
  if (r.code !== 0 && /exists/i.test(r.stderr)) {
    // a veth left by a crashed run (this slot is ours now): remove it and try again
    await run('ip', ['link', 'del', veth])
    r = await run('ip', ['-batch', '-'], {input: batch})
  }
  if (r.code !== 0) throw new Error(`setting up ${veth}: ${r.stderr}`)
}

/** shared */
export function labNetBatch(n: number, address: string): string {
  return [
    'link set lo up',
    'link set eth0 addrgenmode none',
    `addr add ${address}/24 dev eth0`,
    'link set eth0 up',
    // a veth pair inside the lab, used as a "dummy" device (this kernel has none): with ARP off on drop0 its
    // frames reach drop1 addressed to drop0's own MAC and are discarded there, so connect() gets no answer at all
    'link add drop0 type veth peer name drop1',
    'link set drop0 arp off addrgenmode none',
    'link set drop1 addrgenmode none',
    'link set drop0 up',
    'link set drop1 up',
    `route add ${NET_PREFIX}.${n}.128/25 dev drop0`,
    // and these fail at once with EHOSTUNREACH
    `route add unreachable ${NET_PREFIX}.${n}.64/26`,
    '',
  ].join('\n')
}

/** Start a lab, run fn, always stop the lab (even when fn throws). */
/** bastion's connection flags for a lab host: its admin login, key and known_hosts (the host key is pinned there). */
export function connectionArgs(lab: LabHost): string[] {
  return ['--host', `${lab.adminUser}@${lab.address}`, '--identity', lab.adminKeyPath, '--known-hosts', lab.knownHostsFile]
}

export async function withLab<T>(fn: (lab: LabHost) => Promise<T>, options?: LabOptions): Promise<T> {
  const lab = await startLab(options)
  try {
    return await fn(lab)
  } finally {
    await lab.stop()
  }
}

/** Stop every lab this process started (for process exit / test teardown). */
export async function stopAllLabs(): Promise<void> {
  // labs still starting are stopped too (they fail with "stopped while starting" or are stopped right after)
  const pending = [...starting]
  await Promise.all([...active].map((r) => r.stop()))
  await Promise.allSettled(pending)
  await Promise.all([...active].map((r) => r.stop()))
}
