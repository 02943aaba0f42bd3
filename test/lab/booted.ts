// Booted lab hosts: a Debian bookworm root file system booted with systemd as pid 1 by systemd-nspawn, so sshd,
// dbus, logind and whatever a test installs run as services of a real init, as on a server.
//
// Same slots, network and db as the sshd-only labs of lab.ts (which stay the fast default for everything else):
//   rootfs    debootstrapped once per machine into LAB_ROOT/cache/<name> (built in a temp dir under a flock, then
//             renamed into place, so concurrent first users wait for one build); never written to afterwards
//   files     each lab boots an overlay (lower = the cached rootfs, upper = <slot dir>/upper) mounted in a private
//             mount namespace of its own, or a copy when overlayfs fails; the upper dir gets the lab's hostname,
//             hosts, resolv.conf, machine-id, fresh ed25519 host key, sshd drop-in and the users' authorized_keys
//   network   the lab's network namespace (veth blab<n> <-> eth0 10.231.<n>.2, the drop/unreachable routes) is made
//             by lab.ts's setupNetwork/labNetBatch and handed to `systemd-nspawn --network-namespace-path=`
//   cgroups   nspawn --keep-unit makes payload/ and supervisor/ cgroups beside its own: each lab runs in its own
//             cgroup bastion-lab-<n> (name=systemd and unified hierarchies), removed by stop()
// Readiness: the container's pid 1 exists, `systemctl is-system-running --wait` says running (or degraded), and an
// SSH login as the admin with the lab's known_hosts succeeds.
import {spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readFileSync, readdirSync, rmdirSync, rmSync} from 'node:fs'
import {chmod, chown, mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {createHash, randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {
  ADMIN_USER, CLEAN_ENV, LAB_ROOT, NAME_RE, NET_PREFIX, RESOLV_CONF, SUDO_PASSWORD_HASH, SUDO_PW_USER, active,
  allocateSlot, closeDb, commonFields, deleteVeth, ensureSafetyRoute, etcHosts, installHandlers, isAlive, killGroup,
  labNetBatch, makeKeys, preparePostgres, releaseSlot, run, setupNetwork, startDb, trackStart,
  type ExecResult, type LabHost, type LabOptions, type Running,
} from './lab.js'

export interface BootedLabOptions extends LabOptions {
  /** How long boot may take until sshd accepts the admin's login (default 180 s, or BASTION_LAB_BOOT_TIMEOUT_MS). */
  bootTimeoutMs?: number
  /**
   * Debian packages beyond ROOTFS_PACKAGES (e.g. cloud-init): booted from a variant of the rootfs cached apart (its
   * own cache key; built on first use, ~2 minutes), so the default labs keep theirs.
   */
  extraPackages?: string[]
  /**
   * Files written into the lab's upper dir before boot (as if on the image): what services read at boot (e.g. a
   * cloud-init seed). Made from the lab's address, db endpoint … (known once its slot is allocated).
   */
  bootFiles?: (lab: BootFileContext) => BootFile[] | Promise<BootFile[]>
}

export interface BootFile {
  path: string
  content: string | Buffer
  mode: number
}

/** What a lab's boot files may depend on: its name, address, database endpoint … */
export type BootFileContext = ReturnType<typeof commonFields> & {name: string}

export interface BootedLabHost extends LabHost {
  /** sshd logs to the journal as on a server: sshdLog() reads `journalctl -u ssh.service` and copies it here. */
  sshdLogFile: string
  kind: 'booted'
  /** nspawn's machine name (`bastion-lab-<n>`); the hostname inside is `name`. */
  machine: string
  /** Host pid of systemd-nspawn (pid is the container's pid 1, systemd). */
  nspawnPid: number
  /** On the machine: the container's console output (systemd's boot messages). */
  consoleLogFile: string
  /** What `systemctl is-system-running --wait` said at the end of boot: running (or degraded). */
  bootState: string
  /** Milliseconds from starting systemd-nspawn to sshd accepting the admin's login. */
  bootMs: number
}

export const DEBIAN_SUITE = 'bookworm'
/** What the booted labs need beyond debootstrap's minbase. */
export const ROOTFS_PACKAGES = [
  'openssh-server', 'openssh-client', 'sudo', 'systemd', 'systemd-sysv', 'dbus', 'netcat-openbsd', 'iproute2', 'procps',
]
const CACHE_DIR = join(LAB_ROOT, 'cache')
const DEFAULT_MIRROR = 'http://deb.debian.org/debian'
const BOOT_TIMEOUT_MS = Number(process.env.BASTION_LAB_BOOT_TIMEOUT_MS) || 180_000
const BUILD_TIMEOUT_MS = 30 * 60_000
const ADMIN_UID = 1000
const SUDO_PW_UID = 1001

// ---- the cached root file system ----------------------------------------------------------------------------------

// Runs in the fresh debootstrap tree (chroot) once: what every booted lab shares. Per-lab files go to the upper dir.
const ROOTFS_SETUP = String.raw`
set -eu
rm -f /etc/ssh/ssh_host_*                       # every lab gets a fresh host key
: > /etc/machine-id                             # and its own machine id
ln -sf /etc/machine-id /var/lib/dbus/machine-id
rm -f /etc/hostname
useradd -m -u ${ADMIN_UID} -U -G sudo -s /bin/bash -c 'lab admin' ${ADMIN_USER}
useradd -m -u ${SUDO_PW_UID} -U -G sudo -s /bin/bash -c 'lab user, sudo with a password' ${SUDO_PW_USER}
usermod -p '${SUDO_PASSWORD_HASH}' ${SUDO_PW_USER}
echo '${ADMIN_USER} ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/bastion-lab
chmod 0440 /etc/sudoers.d/bastion-lab
# no network beyond the lab: the apt timers would only fail (and mark the system degraded)
systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1
apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*.log /var/log/apt/* /tmp/* /var/tmp/*
`

// `sh -c BUILD sh <cache dir> <name> <mirror> <suite> <packages> <setup script>`, under flock on <cache dir>/.lock
const BUILD = String.raw`
set -eu
CACHE=$1; NAME=$2; MIRROR=$3; SUITE=$4; PKGS=$5; SETUP=$6
if [ -d "$CACHE/$NAME" ]; then echo cached; exit 0; fi   # built by whoever held the lock before us
rm -rf "$CACHE"/.build-*             # we hold the lock: these are left from builds that died
tmp="$CACHE/.build-$$"
mkdir -p "$tmp"
debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$tmp/root" "$MIRROR" >"$tmp/debootstrap.log" 2>&1 || {
  tail -n 30 "$tmp/debootstrap.log"; tail -n 30 "$tmp/root/debootstrap/debootstrap.log" 2>/dev/null; exit 1
}
chroot "$tmp/root" /bin/sh -c "$SETUP"
du -sk "$tmp/root" | cut -f1 > "$tmp/size-kib"
mv -T "$tmp" "$CACHE/$NAME"
`

/** The Debian mirror this machine's apt uses (deb822 .sources or one-line .list), else deb.debian.org. */
export function debianMirror(): string {
  if (process.env.BASTION_LAB_DEBIAN_MIRROR) return process.env.BASTION_LAB_DEBIAN_MIRROR
  const files = ['/etc/apt/sources.list']
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d')) {
      if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join('/etc/apt/sources.list.d', f))
    }
  } catch {
    // none
  }
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? []
      const uri = field('URIs')[0]
      if (uri && field('Suites').includes(DEBIAN_SUITE) && field('Components').includes('main') && !/security/.test(uri)) {
        return uri
      }
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim())
      if (m?.[1] && m[2] === DEBIAN_SUITE && m[3]?.split(/\s+/).includes('main')) return m[1]
    }
  }
  return DEFAULT_MIRROR
}

/** The extra packages of a variant, sorted and without repeats; refused unless they are Debian package names. */
function packageSet(extra: string[]): string[] {
  const out = [...new Set(extra)].sort()
  for (const p of out) if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p)) throw new Error(`extraPackages: ${JSON.stringify(p)} is not a Debian package name`)
  return out
}

/**
 * Cache entry name: changes whenever what goes into the rootfs changes. The default rootfs (no extra packages) keeps
 * the name it always had; a variant with extra packages is another entry (…-<hash>-<first package>).
 */
export function rootfsName(extraPackages: string[] = []): string {
  const extra = packageSet(extraPackages)
  const parts = [DEBIAN_SUITE, ROOTFS_PACKAGES.join(','), ROOTFS_SETUP, ...(extra.length > 0 ? [`extra:${extra.join(',')}`] : [])]
  const h = createHash('sha256').update(parts.join('\n')).digest('hex')
  return `debian-${DEBIAN_SUITE}-${h.slice(0, 12)}${extra.length > 0 ? `-${extra[0]}` : ''}`
}

export interface Rootfs {
  /** The root file system (read-only for labs). */
  path: string
  /** Its size on disk (du) in KiB. */
  sizeKiB: number
  /** Milliseconds this process spent building it; 0 when it was already cached or another process built it. */
  builtMs: number
}

const rootfsPs = new Map<string, Promise<Rootfs>>()

/**
 * The cached Debian rootfs (with `extraPackages`: that variant), debootstrapped first if no one has yet (one build
 * per machine and variant, others wait for it).
 */
export function ensureRootfs(extraPackages: string[] = []): Promise<Rootfs> {
  const name = rootfsName(extraPackages)
  const packages = [...ROOTFS_PACKAGES, ...packageSet(extraPackages)]
  let rootfsP = rootfsPs.get(name)
  rootfsP ??= (async () => {
    const entry = join(CACHE_DIR, name)
    const done = async (builtMs: number): Promise<Rootfs> => ({
      path: join(entry, 'root'),
      sizeKiB: Number((await readFile(join(entry, 'size-kib'), 'utf8')).trim()),
      builtMs,
    })
    if (existsSync(join(entry, 'root'))) return done(0)
    for (const tool of ['/usr/sbin/debootstrap', '/usr/bin/systemd-nspawn']) {
      if (!existsSync(tool)) {
        throw new Error(`booted labs need ${tool} (Debian packages debootstrap and systemd-container): run scripts/setup.sh`)
      }
    }
    await mkdir(CACHE_DIR, {recursive: true})
    const t0 = performance.now()
    const r = await run('flock', [
      '-w', String(BUILD_TIMEOUT_MS / 1000), join(CACHE_DIR, '.lock'),
      '/bin/sh', '-c', BUILD, 'sh', CACHE_DIR, name, debianMirror(), DEBIAN_SUITE, packages.join(','), ROOTFS_SETUP,
    ], {timeoutMs: BUILD_TIMEOUT_MS + 60_000})
    if (r.code !== 0 || !existsSync(join(entry, 'root'))) {
      throw new Error(`building the booted-lab rootfs ${entry} (debootstrap ${DEBIAN_SUITE} from ${debianMirror()}) failed (exit ${r.code}):\n${r.stdout}${r.stderr}`)
    }
    return done(r.stdout.trim() === 'cached' ? 0 : Math.round(performance.now() - t0))
  })()
  rootfsPs.set(name, rootfsP)
  rootfsP.catch(() => {
    rootfsPs.delete(name)
  })
  return rootfsP
}

// ---- per-lab files ------------------------------------------------------------------------------------------------

/** Create <upper>/<path> and its parents with the owner and mode they have in the rootfs (overlay takes them). */
async function upperDir(rootfs: string, upper: string, path: string): Promise<string> {
  let sub = ''
  for (const part of path.split('/').filter(Boolean)) {
    sub += '/' + part
    const target = upper + sub
    if (existsSync(target)) continue
    await mkdir(target)
    const s = await stat(rootfs + sub).catch(() => undefined)
    if (s) {
      await chown(target, s.uid, s.gid)
      await chmod(target, s.mode & 0o7777)
    }
  }
  return upper + path
}

async function upperFile(rootfs: string, upper: string, path: string, content: string | Buffer, mode: number, owner = 0): Promise<void> {
  const slash = path.lastIndexOf('/')
  await upperDir(rootfs, upper, path.slice(0, slash))
  await writeFile(upper + path, content)
  await chmod(upper + path, mode)
  await chown(upper + path, owner, owner)
}

function sshdDropIn(options: LabOptions): string {
  // sshd_config Includes sshd_config.d/*.conf first, and the first value read wins: these override Debian's defaults
  return [
    '# bastion booted lab',
    ...(options.sshdConfig?.trim() ? ['# options.sshdConfig', options.sshdConfig.trim()] : []),
    'LogLevel VERBOSE',
    ...(options.usePam === false ? ['UsePAM no'] : []),
    'MaxStartups 100:30:200',
    '',
  ].join('\n')
}

// ---- boot -----------------------------------------------------------------------------------------------------------

// `sh BOOT <dir> <slot> <rootfs> <machine> <hostname> <no-overlay>`, as pid 1 of fresh pid, mount and network
// namespaces. Prints "pid <host pid>" (which becomes nspawn's pid), reads the lab-side `ip -batch` on stdin, then
// execs nspawn.
const BOOT = String.raw`
set -eu
D=$1; N=$2; ROOTFS=$3; MACHINE=$4; HOST=$5; NO_OVERLAY=$6
read -r hostpid rest </proc/self/stat   # the machine's /proc is still mounted: our pid out there
# nspawn --keep-unit creates payload/ and supervisor/ next to its own cgroup: give it one per lab
for c in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
  [ -e "$c/cgroup.procs" ] || continue
  [ "$c" = /sys/fs/cgroup ] && [ -d /sys/fs/cgroup/unified ] && continue
  mkdir -p "$c/bastion-lab-$N" && echo 0 > "$c/bastion-lab-$N/cgroup.procs"   # 0: this shell
done
echo "pid $hostpid"
# nspawn keeps state under /run/systemd/nspawn and wants it on a tmpfs: a private one, gone with this namespace
mount -n -t tmpfs -o mode=0755,size=16m tmpfs /run
# and a /proc of this pid namespace, where nspawn finds its container's pid
mount -n -t proc proc /proc
mkdir -p "$D/root"
if [ -n "$NO_OVERLAY" ] || ! mount -n -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$D/upper,workdir=$D/work" "$D/root" 2>>"$D/boot.err"; then
  echo "no overlay: copying the rootfs" >>"$D/boot.err"
  cp -a "$ROOTFS/." "$D/root/" && cp -a "$D/upper/." "$D/root/"
fi
ip -batch -
exec systemd-nspawn --boot --register=no --keep-unit --directory="$D/root" --machine="$MACHINE" --hostname="$HOST" \
  --network-namespace-path=/proc/self/ns/net --resolv-conf=off --timezone=off --link-journal=no --console=read-only \
  </dev/null >>"$D/console.log" 2>&1
`

/** Host pid of the container's pid 1: nspawn's child whose pid in its own namespace is 1. */
function containerInit(nspawnPid: number): number | undefined {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8')
      if (Number(/^PPid:\s*(\d+)/m.exec(status)?.[1]) !== nspawnPid) continue
      const nspid = /^NSpid:\s*(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? []
      if (nspid.length >= 2 && nspid[nspid.length - 1] === '1') return Number(p)
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')
}

function tail(file: string, lines = 40): string {
  try {
    return stripAnsi(readFileSync(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no output)'
  }
}

/** The per-lab cgroups (all hierarchies), deepest first. */
function labCgroups(n: number): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    let entries: string[]
    try {
      entries = readdirSync(d, {withFileTypes: true}).filter((e) => e.isDirectory()).map((e) => join(d, e.name))
    } catch {
      return
    }
    for (const e of entries) walk(e)
    out.push(d)
  }
  for (const h of ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    if (existsSync(join(h, `bastion-lab-${n}`))) walk(join(h, `bastion-lab-${n}`))
  }
  return out
}

function removeCgroups(n: number): boolean {
  let ok = true
  for (const d of labCgroups(n)) {
    try {
      rmdirSync(d)
    } catch {
      ok = false
    }
  }
  return ok
}

let cgroupsSwept = false
/** Cgroups of booted labs whose slot is free (their process died without stop()): empty, so rmdir takes them. */
function sweepCgroups(): void {
  if (cgroupsSwept) return
  cgroupsSwept = true
  for (const h of ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    let entries: string[]
    try {
      entries = readdirSync(h)
    } catch {
      continue
    }
    for (const e of entries) {
      const m = /^bastion-lab-(\d+)$/.exec(e)
      // a slot dir exists from allocation on, before its cgroup is made: without one, no lab is using it
      if (m && !existsSync(join(LAB_ROOT, `slot-${m[1]}`))) removeCgroups(Number(m[1]))
    }
  }
}

export function startBootedLab(options: BootedLabOptions = {}): Promise<BootedLabHost> {
  return trackStart(startBootedLabNow(options))
}

async function startBootedLabNow(options: BootedLabOptions): Promise<BootedLabHost> {
  const t0 = performance.now()
  if (options.name !== undefined && !NAME_RE.test(options.name)) {
    throw new Error(`lab name ${JSON.stringify(options.name)} is not a valid host name`)
  }
  const bootTimeoutMs = options.bootTimeoutMs ?? BOOT_TIMEOUT_MS
  installHandlers()
  const routeP = ensureSafetyRoute()
  const rootfsP = ensureRootfs(options.extraPackages ?? [])
  rootfsP.catch(() => {})
  const {n, dir} = await allocateSlot()
  const name = options.name ?? `lab-${n}`
  const machine = `bastion-lab-${n}`
  const hostSide = `${NET_PREFIX}.${n}.1`
  const address = `${NET_PREFIX}.${n}.2`
  const veth = `blab${n}`
  const dbKind = options.db ?? 'tcp'
  const consoleLogFile = join(dir, 'console.log')

  let stopping: Promise<void> | undefined
  let nspawnPid = 0
  let pid1 = 0
  const running: Running = {stop: () => stop(), stopSync: () => releaseSync()}
  active.add(running)

  const releaseSync = () => {
    if (pid1 && isAlive(pid1)) {
      try {
        process.kill(pid1, 'SIGKILL') // the container's pid 1: its whole pid namespace goes with it
      } catch {
        // gone
      }
    }
    closeDb(running)
    removeCgroups(n)
    try {
      rmSync(dir, {recursive: true, force: true})
    } catch {
      // reclaimed by the next run (owner is dead)
    }
  }

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      active.delete(running)
      const init = running.init
      const exited = (c: typeof init) =>
        c && c.exitCode === null && c.signalCode === null
          ? new Promise<void>((resolve) => c.once('exit', () => resolve()))
          : Promise.resolve()
      const waits = [exited(init), exited(running.pg)]
      let postmaster = 0
      if (running.pg) {
        try {
          postmaster = Number(readFileSync(join(dir, 'pg', 'ns.pid'), 'utf8').trim())
        } catch {
          // not started
        }
      }
      // power off the hard way: SIGKILL to the container's pid 1 ends its pid namespace; nspawn then exits by itself
      if (pid1 && isAlive(pid1)) {
        try {
          process.kill(pid1, 'SIGKILL')
        } catch {
          // gone
        }
      }
      killGroup(running.pg)
      closeDb(running)
      if (pid1) {
        const ac = new AbortController()
        await Promise.race([exited(init), sleep(10_000, undefined, {signal: ac.signal}).catch(() => {})])
        ac.abort()
      }
      // nspawn did not exit in time, or the container never started: nspawn is pid 1 of its own pid namespace, so
      // killing it takes everything it started along
      killGroup(init)
      const ac2 = new AbortController()
      await Promise.race([Promise.all(waits), sleep(5000, undefined, {signal: ac2.signal}).catch(() => {})])
      ac2.abort()
      for (let i = 0; i < 500 && ((pid1 && isAlive(pid1)) || (nspawnPid && isAlive(nspawnPid)) || (postmaster && isAlive(postmaster))); i++) {
        await sleep(10)
      }
      await deleteVeth(n).catch(() => {})
      for (let i = 0; i < 200 && existsSync(`/sys/class/net/${veth}`); i++) await sleep(10)
      for (let i = 0; i < 200 && !removeCgroups(n); i++) await sleep(10)
      await rm(dir, {recursive: true, force: true, maxRetries: 3}).catch(() => {})
      releaseSlot(n)
    })()
    return stopping
  }

  const stoppedMeanwhile = () => new Error(`lab ${name} was stopped while starting`)
  try {
    removeCgroups(n) // left by a process that died holding this slot
    sweepCgroups()
    const keys = await makeKeys(dir, name, address)
    const pgPrepared = dbKind === 'postgres' ? preparePostgres(dir, `${NET_PREFIX}.${n}.0/24`) : undefined
    pgPrepared?.catch(() => {})
    const rootfs = await rootfsP
    if (stopping) throw stoppedMeanwhile()

    const upper = join(dir, 'upper')
    await mkdir(join(dir, 'work'), {recursive: true})
    await mkdir(upper, {recursive: true})
    await chmod(upper, 0o755)
    const file = (path: string, content: string | Buffer, mode: number, owner = 0) => upperFile(rootfs.path, upper, path, content, mode, owner)
    await file('/etc/hostname', `${name}\n`, 0o644)
    await file('/etc/hosts', etcHosts(name, address, hostSide), 0o644)
    await file('/etc/resolv.conf', RESOLV_CONF, 0o644)
    await file('/etc/machine-id', randomBytes(16).toString('hex') + '\n', 0o444)
    await file('/etc/ssh/ssh_host_ed25519_key', keys.hostKey.privateKey, 0o600)
    await file('/etc/ssh/ssh_host_ed25519_key.pub', keys.hostKey.publicKey + '\n', 0o644)
    await file('/etc/ssh/sshd_config.d/00-bastion-lab.conf', sshdDropIn(options), 0o644)
    for (const [user, uid, key] of [[ADMIN_USER, ADMIN_UID, keys.adminKey], [SUDO_PW_USER, SUDO_PW_UID, keys.pwKey]] as const) {
      const ssh = await upperDir(rootfs.path, upper, `/home/${user}/.ssh`)
      await chown(ssh, uid, uid)
      await chmod(ssh, 0o700)
      await file(`/home/${user}/.ssh/authorized_keys`, key.publicKey + '\n', 0o600, uid)
    }
    for (const f of (await options.bootFiles?.({...commonFields(n, dir, keys, dbKind), name})) ?? []) await file(f.path, f.content, f.mode)
    await routeP
    if (stopping) throw stoppedMeanwhile()

    const bootStart = performance.now()
    const fd = openSync(consoleLogFile, 'a')
    const child = spawn('setpriv', [
      // nspawn runs as pid 1 of a pid namespace of its own: if it is killed (or this process dies: pdeathsig, then
      // --kill-child), the kernel kills everything in it, the container's nested pid namespace included
      '--pdeathsig', 'KILL', 'unshare', '--mount', '--net', '--pid', '--propagation', 'private', '--fork', '--kill-child',
      '/bin/sh', '-c', BOOT, 'sh', dir, String(n), rootfs.path, machine, name, process.env.BASTION_LAB_NO_OVERLAY ? '1' : '',
    ], {env: CLEAN_ENV, detached: true, stdio: ['pipe', 'pipe', fd], cwd: '/'})
    closeSync(fd)
    running.init = child
    child.unref()
    child.stdin?.on('error', () => {})
    const deadline = Date.now() + bootTimeoutMs
    const failure = (what: string) => {
      const err = (() => {
        try {
          return readFileSync(join(dir, 'boot.err'), 'utf8').trim()
        } catch {
          return ''
        }
      })()
      return new Error(
        `booted lab ${name} (${machine}): ${what}\n` +
        (err ? `--- boot.err\n${err}\n` : '') +
        `--- console (last lines of ${consoleLogFile})\n${tail(consoleLogFile)}`,
      )
    }
    const dead = () => child.exitCode !== null || child.signalCode !== null

    // 1. nspawn's pid, then the network, then nspawn starts the container
    await new Promise<void>((resolve, reject) => {
      let buf = ''
      let settled = false
      const timer = setTimeout(() => done(failure(`systemd-nspawn did not start in ${bootTimeoutMs} ms`)), bootTimeoutMs)
      const done = (e?: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (e) reject(e)
        else resolve()
      }
      child.on('error', (e) => done(e))
      child.on('exit', (code, signal) => done(failure(`boot script exited (${code ?? signal}) before the container started`)))
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString()
        const m = /^pid (\d+)$/m.exec(buf)
        if (m && !nspawnPid) {
          nspawnPid = Number(m[1])
          setupNetwork(n, nspawnPid, hostSide)
            .then(() => {
              child.stdin?.end(labNetBatch(n, address))
              done()
            })
            .catch((e: Error) => done(e))
        }
      })
    })
    for (const stream of [child.stdin, child.stdout]) stream?.destroy()

    const dbReady = startDb(running, dbKind, hostSide, name, pgPrepared, () => stopping !== undefined)
    dbReady.catch(() => {}) // awaited below; a boot failure first stops the lab, and then this fails too

    // 2. the container's pid 1
    for (;;) {
      if (stopping) throw stoppedMeanwhile()
      if (dead()) throw failure(`systemd-nspawn exited (${child.exitCode ?? child.signalCode}) before the container's pid 1 appeared`)
      if (Date.now() > deadline) throw failure(`the container's pid 1 did not appear in ${bootTimeoutMs} ms`)
      pid1 = containerInit(nspawnPid) ?? 0
      if (pid1) break
      await sleep(50)
    }
    const exec = async (command: string, stdin?: string, opts: {timeoutMs?: number} = {}): Promise<ExecResult> => {
      if (stopping) throw new Error(`lab ${name} is stopped`)
      return run('nsenter', ['-t', String(pid1), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', '--', '/bin/sh', '-c', command], {
        input: stdin, timeoutMs: opts.timeoutMs,
      })
    }

    // 3. systemd finished booting
    let bootState = ''
    for (;;) {
      if (stopping) throw stoppedMeanwhile()
      if (dead()) throw failure(`systemd-nspawn exited (${child.exitCode ?? child.signalCode}) while the container booted`)
      const left = deadline - Date.now()
      if (left <= 0) throw failure(`systemd did not finish booting in ${bootTimeoutMs} ms (last state: ${bootState || 'unknown'})`)
      // before systemd has set up its bus, systemctl fails at once: try again
      const r = await exec('systemctl is-system-running --wait', undefined, {timeoutMs: left})
      bootState = r.stdout.trim() || r.stderr.trim()
      if (bootState === 'running' || bootState === 'degraded') break
      if (bootState === 'stopping' || bootState === 'maintenance') throw failure(`systemd is ${bootState} instead of running`)
      await sleep(100)
    }

    // 4. sshd (ssh.service) accepts a real login, with the lab's known_hosts and the admin's key
    for (let last = '';;) {
      if (stopping) throw stoppedMeanwhile()
      if (Date.now() > deadline) {
        const status = await exec('systemctl status --no-pager --lines=20 ssh.service', undefined, {timeoutMs: 10_000})
        throw failure(`sshd did not accept the admin's login in ${bootTimeoutMs} ms: ${last}\n--- systemctl status ssh\n${status.stdout}`)
      }
      const r = await run('ssh', [
        '-F', '/dev/null', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'ConnectTimeout=5',
        '-i', join(dir, 'keys', ADMIN_USER), `${ADMIN_USER}@${address}`, 'true',
      ], {timeoutMs: 20_000})
      if (r.code === 0) break
      last = r.stderr.trim()
      await sleep(200)
    }
    const bootMs = Math.round(performance.now() - bootStart)
    await dbReady

    const sshdLogFile = join(dir, 'sshd.log')
    const sshdLog = async () => {
      const r = await exec('journalctl --no-pager -o short-iso -u ssh.service', undefined, {timeoutMs: 30_000})
      await writeFile(sshdLogFile, r.stdout).catch(() => {})
      return r.stdout
    }
    const lab: BootedLabHost = {
      ...commonFields(n, dir, keys, dbKind),
      name,
      exec,
      stop,
      pid: pid1,
      sshdConfigPath: '/etc/ssh/sshd_config',
      sshdPidFile: '/run/sshd.pid',
      sshdLogFile,
      hostPath: (p: string) => `/proc/${pid1}/root${p.startsWith('/') ? '' : '/'}${p}`,
      sshdLog,
      reloadSshd: async () => {
        const count = async () => ((await sshdLog()).match(/Server listening on/g) ?? []).length
        const before = await count()
        const r = await exec('systemctl reload ssh.service')
        if (r.code !== 0) throw new Error(`systemctl reload ssh in lab ${name}: ${r.stderr}`)
        for (const t = Date.now(); (await count()) <= before; await sleep(50)) {
          if (Date.now() - t > 20_000) throw new Error(`sshd in lab ${name} did not come back after reload:\n${await sshdLog()}`)
        }
      },
      startupMs: 0,
      kind: 'booted',
      machine,
      nspawnPid,
      consoleLogFile,
      bootState,
      bootMs,
    }
    lab.startupMs = Math.round(performance.now() - t0)
    return lab
  } catch (e) {
    const stoppedFirst = stopping !== undefined
    await stop()
    throw stoppedFirst ? stoppedMeanwhile() : e
  }
}

/** Start a booted lab, run fn, always stop the lab (even when fn throws). */
export async function withBootedLab<T>(fn: (lab: BootedLabHost) => Promise<T>, options?: BootedLabOptions): Promise<T> {
  const lab = await startBootedLab(options)
  try {
    return await fn(lab)
  } finally {
    await lab.stop()
  }
}
