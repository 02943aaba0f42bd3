/**
 * files checks: the StrictModes walk exactly as OpenSSH does it (misc.c safe_path, called from auth2-pubkeyfile.c):
 * the realpath of authorized_keys must be a regular file owned by the user or root and not group/world-writable, then
 * each directory from its parent up to and including the (real) home directory — or up to / when the file is outside
 * home — owned by the user or root and not group/world-writable. sshd opens the file as the user, so the user must
 * also be able to search every directory on the way and read the file.
 *
 * Before any of that, the links: a fix may only touch paths inside the vendor's home as the passwd entry names it,
 * reached without a symlink (home, ~/.ssh, authorized_keys), through nothing owned by another account, to an
 * authorized_keys with a single link. Otherwise the files.*.link / files.home.shared findings fail and no files.*
 * finding carries a fix.
 */
import {posix} from 'node:path'
import type {Check, CheckContext, Finding, Fix, HostFacts, LinkFact, StatFact} from '../types.js'
import {addKeyCommand, finding, list, plural, q, strictModes, type Verdict} from './util.js'

const AREA = 'files'

type Role = 'ssh_dir' | 'home' | 'parent'

interface WalkDir {
  path: string
  role: Role
  st?: StatFact
}

interface Walk {
  /** authorized_keys path as sshd expands it. */
  path: string
  /** Its realpath (symlinks resolved). */
  real: string
  st: StatFact
  realHome?: string
  /** The StrictModes walk: parent of the real file up to the real home (or /). */
  dirs: WalkDir[]
  /** Every directory the user must search to open the file (the probe's chain and the walk). */
  searched: StatFact[]
  /** The probe's own test (open as the user with setpriv), when it could make one. */
  readableByUser?: boolean
}

function modeBits(st: StatFact): number | undefined {
  if (!st.mode || !/^[0-7]{3,4}$/.test(st.mode)) return undefined
  return parseInt(st.mode, 8) & 0o7777
}

function octal(m: number): string {
  return m.toString(8).padStart(4, '0')
}

function statIndex(facts: HostFacts): Map<string, StatFact> {
  const m = new Map<string, StatFact>()
  for (const a of facts.authorizedKeys) {
    for (const st of a.chain) {
      if (!m.has(st.path)) m.set(st.path, st)
      if (st.symlinkTo && st.type !== 'symlink' && !m.has(st.symlinkTo)) m.set(st.symlinkTo, {...st, path: st.symlinkTo})
    }
  }
  return m
}

function realPathOf(a: HostFacts['authorizedKeys'][number]): string {
  return a.realPath ?? a.stat.symlinkTo ?? a.path
}

/** The home as sshd's StrictModes walk sees it: realpath of the passwd home, as the probe resolved it. */
function realHomeOf(facts: HostFacts): string | undefined {
  const home = facts.user.home
  if (!home) return undefined
  return facts.user.homeReal ?? trimSlashes(home)
}

function trimSlashes(p: string): string {
  let h = p
  while (h.length > 1 && h.endsWith('/')) h = h.slice(0, -1)
  return h
}

// ------------------------------------------------------------------- the vendor's home: where doctor may change things

interface Scope {
  /** The home as the passwd entry names it (no trailing slash); undefined unless an absolute path below /. */
  home?: string
  /** realpath(home). */
  realHome?: string
  /** lstat of the home and of the paths below it on the way to each key file; undefined when not gathered. */
  lstat?: Map<string, LinkFact>
  uid?: number
  /** The first failing link finding: while it fails, no files.* finding offers a fix. */
  blockedBy?: string
}

/** [home, home/a, …, path] for a path under home by name (empty segments skipped); undefined otherwise or with . or .. in it. */
function pathsFrom(home: string, path: string): string[] | undefined {
  if (path !== home && !path.startsWith(`${home}/`)) return undefined
  const segs = path.slice(home.length).split('/').filter((x) => x !== '')
  if (segs.some((x) => x === '.' || x === '..')) return undefined
  const out = [home]
  for (const x of segs) out.push(`${out[out.length - 1]}/${x}`)
  return out
}

function scopeOf(facts: HostFacts): Scope {
  const raw = facts.user.home
  const h = raw ? trimSlashes(raw) : undefined
  const home = h && h !== '/' && h.startsWith('/') && !h.split('/').some((x) => x === '.' || x === '..') ? h : undefined
  const scope: Scope = {}
  if (home) scope.home = home
  const realHome = realHomeOf(facts)
  if (realHome) scope.realHome = realHome
  if (facts.homePaths) scope.lstat = new Map(facts.homePaths.map((l) => [l.path, l]))
  if (facts.user.uid !== undefined) scope.uid = facts.user.uid
  return scope
}

/** A path of the walk (a real path) as the passwd entry names it, when it lies in the home; undefined outside it. */
function namedPath(scope: Scope, path: string): string | undefined {
  if (!scope.home) return undefined
  const rh = scope.realHome ?? scope.home
  if (rh !== '/' && (path === rh || path.startsWith(`${rh}/`))) return scope.home + path.slice(rh.length)
  return pathsFrom(scope.home, path) ? path : undefined
}

function ownedByVendorOrRoot(l: {uid?: number}, uid: number | undefined): boolean {
  return l.uid === 0 || (uid !== undefined && l.uid === uid)
}

/**
 * The paths from the home down to `named` when root may change `named` by itself: each one there, not a symlink,
 * owned by root or the vendor, a file among them with a single link. undefined otherwise.
 */
function safeChain(scope: Scope, named: string): string[] | undefined {
  if (!scope.home || !scope.lstat || scope.uid === undefined) return undefined
  const chain = pathsFrom(scope.home, named)
  if (!chain) return undefined
  for (const [i, p] of chain.entries()) {
    const l = scope.lstat.get(p)
    if (!l || l.type === 'symlink' || !ownedByVendorOrRoot(l, scope.uid)) return undefined
    if (i < chain.length - 1 && l.type !== 'dir') return undefined
    if (l.type !== 'dir' && l.links !== 1) return undefined
  }
  return chain
}

/**
 * `command` guarded as --fix runs it: every path from the home down is checked again on the host, right before the
 * change (not a symlink, owned by root or the vendor, one link unless a directory).
 */
function guarded(chain: string[], uid: number, command: string): string {
  const guard = `for p in ${chain.map((p) => q(p)).join(' ')}; do [ ! -L "$p" ] && o=$(stat -c '%u %h' -- "$p") || exit 1; case \${o%% *} in 0|${uid}) ;; *) exit 1 ;; esac; [ -d "$p" ] || [ "\${o#* }" = 1 ] || exit 1; done`
  return `( ${guard} ) && ${command}`
}

/**
 * The fix for changing `path` (a path of the walk): inside the home, the command on the path as passwd names it and,
 * when `auto`, a guarded script for --fix, but only when safeChain allows it (else no fix: files.*.owner says why);
 * outside the home (directories above it, a key file sshd is configured to read elsewhere), the command only.
 */
function changeFix(scope: Scope, path: string, build: (p: string) => string, auto = true): Fix | undefined {
  const named = namedPath(scope, path)
  if (named === undefined) return {command: build(path)}
  const chain = safeChain(scope, named)
  if (!chain || scope.uid === undefined) return undefined
  const command = build(named)
  return auto ? {command, script: guarded(chain, scope.uid, command)} : {command}
}

function walks(facts: HostFacts): Walk[] {
  const index = statIndex(facts)
  const realHome = realHomeOf(facts)
  return facts.authorizedKeys
    .filter((a) => a.stat.exists)
    .map((a) => {
      const real = realPathOf(a)
      const dirs: WalkDir[] = []
      let d = posix.dirname(real)
      for (let i = 0; i < 64; i++) {
        const role: Role = realHome && d === realHome ? 'home' : realHome && d === `${realHome}/.ssh` && d === posix.dirname(real) ? 'ssh_dir' : 'parent'
        const st = index.get(d)
        dirs.push({path: d, role, ...(st ? {st} : {})})
        if ((realHome && d === realHome) || d === '/' || d === '.') break
        d = posix.dirname(d)
      }
      const searched = new Map<string, StatFact>()
      for (const st of a.chain) if (st.exists) searched.set(st.symlinkTo && st.type !== 'symlink' ? st.symlinkTo : st.path, st)
      for (let p = posix.dirname(real); ; p = posix.dirname(p)) {
        const st = index.get(p)
        if (st && !searched.has(p)) searched.set(p, st)
        if (p === '/' || p === '.') break
      }
      return {
        path: a.path,
        real,
        st: a.stat,
        ...(realHome ? {realHome} : {}),
        dirs,
        searched: [...searched.values()],
        ...(a.readableByUser !== undefined ? {readableByUser: a.readableByUser} : {}),
      }
    })
}

function ownerOk(st: StatFact, uid: number | undefined): boolean {
  return st.uid === 0 || (uid !== undefined && st.uid === uid)
}

function ownerLabel(facts: HostFacts, uid: number | undefined): string {
  if (uid === undefined) return 'unknown'
  if (uid === 0) return 'root'
  if (uid === facts.user.uid) return facts.user.name
  return `uid ${uid}`
}

function chownCmd(facts: HostFacts, path: string): string {
  return `chown ${q(`${facts.user.name}:${facts.user.group ?? facts.user.name}`)} ${q(path)}`
}

function withFix(fix: Fix | undefined): {fix?: Fix} {
  return fix ? {fix} : {}
}

type Access = 'yes' | 'no' | 'unknown'

/** Whether the user may read (4) / search (1) a path by its owner, group and mode (ACLs aside). */
function access(facts: HostFacts, st: StatFact, bit: 4 | 1): Access {
  const m = modeBits(st)
  if (m === undefined || st.uid === undefined) return 'unknown'
  if (facts.user.uid !== undefined && st.uid === facts.user.uid) return (m >> 6) & bit ? 'yes' : 'no'
  const g = ((m >> 3) & bit) !== 0
  const o = (m & bit) !== 0
  if (facts.user.gid !== undefined && st.gid === facts.user.gid) return g ? 'yes' : 'no'
  if (g === o) return o ? 'yes' : 'no'
  // Group bits differ from other bits: depends on supplementary groups, whose gids the probe does not give.
  return 'unknown'
}

const SKIP_IDS = [
  'files.authorized_keys.type',
  'files.authorized_keys.owner',
  'files.authorized_keys.mode',
  'files.authorized_keys.readable',
  'files.ssh_dir.owner',
  'files.ssh_dir.mode',
  'files.home.owner',
  'files.home.mode',
  'files.parents',
] as const

/** The link findings, in report order: while one of them fails, no other files.* finding offers a fix. */
const LINK_IDS = ['files.home.link', 'files.home.shared', 'files.ssh_dir.link', 'files.authorized_keys.link'] as const

const TITLES: Record<string, string> = {
  'files.home.link': 'the home directory is not a symlink',
  'files.home.shared': 'the home directory is the vendor\'s own',
  'files.ssh_dir.link': '~/.ssh is not a symlink',
  'files.authorized_keys.link': 'authorized_keys is not a symlink or a hard link',
  'files.authorized_keys.exists': 'authorized_keys exists',
  'files.authorized_keys.type': 'authorized_keys is a regular file',
  'files.authorized_keys.owner': 'authorized_keys is owned by the user or root',
  'files.authorized_keys.mode': 'authorized_keys mode (0600)',
  'files.authorized_keys.readable': 'the user can read authorized_keys',
  'files.ssh_dir.owner': '~/.ssh is owned by the user or root',
  'files.ssh_dir.mode': '~/.ssh mode (0700)',
  'files.home.owner': 'home directory is owned by the user or root',
  'files.home.mode': 'home directory is not group/world-writable',
  'files.parents': 'directories above the key file are owned by root and not group/world-writable',
}

function title(id: string, w?: Walk, many = false): string {
  const t = TITLES[id] ?? id
  return many && w ? `${t} (${w.path})` : t
}

function linkShown(l: LinkFact): string {
  const to = l.target ?? l.linkText ?? '?'
  return `${l.path} is a symlink to ${to}${l.linkText && l.linkText !== to ? ` (the link says ${l.linkText})` : ''}`
}

const LANDS = 'doctor --fix, bastion add-vendor-key and an admin following a fix would change what the link leads to instead'

/** What the vendor's key in `keysFile` would do when that is root's own authorized_keys. */
function asRoot(keysFile: string): string {
  return keysFile === '/root/.ssh/authorized_keys' ? ', which lets the vendor log in as root' : ''
}

/**
 * The links on the way from the home (as passwd names it) to each key file under it, and whether the home is the
 * vendor's alone: what makes changes "in the vendor's home" land elsewhere.
 */
function judgeLinks(ctx: CheckContext, scope: Scope): Finding[] {
  const {facts, input} = ctx
  const u = facts.user
  const out: Finding[] = []
  const add = (id: string, v: Verdict, t = title(id)) => out.push(finding(AREA, id, t, v))
  const raw = u.home
  const home = scope.home
  if (!raw) {
    for (const id of LINK_IDS) add(id, {status: 'skip', seen: 'the account has no home directory set (see user.home)'})
    return out
  }
  const lstat = scope.lstat
  const homeLk = home ? lstat?.get(home) : undefined

  // --- the home itself
  if (!home) add('files.home.link', {status: 'skip', seen: `${raw} is not an absolute path below / (see files.home.shared)`})
  else if (!lstat) add('files.home.link', {status: 'skip', seen: `${home}: the probe gathered no lstat for it`})
  else if (!homeLk) add('files.home.link', {status: 'skip', seen: `${home} does not exist (see user.home)`})
  else if (homeLk.type === 'symlink') {
    const to = homeLk.target ?? homeLk.linkText ?? '?'
    add('files.home.link', {
      status: 'fail',
      seen: linkShown(homeLk),
      why: `The passwd entry names ${home}, but that is a link to ${to}. sshd follows it: it reads ${to}/.ssh/authorized_keys for ${u.name} and ends its StrictModes walk at ${to}. ${LANDS}: ${to}, another account's or the system's directory (the vendor's key added to ${to}/.ssh/authorized_keys${asRoot(`${to}/.ssh/authorized_keys`)}; ${to}/.ssh handed to ${u.name}). doctor --fix changes nothing while this fails. Remove the link (rm removes only the link, not ${to}), make the home a directory of the vendor's own, then add the key again with bastion add-vendor-key`,
      fix: {command: `ls -ld ${q(home)} && rm ${q(home)} && mkdir -m 0750 ${q(home)} && chown ${q(`${u.name}:${u.group ?? u.name}`)} ${q(home)}`},
    })
  } else add('files.home.link', {status: 'pass', seen: `${home} is a ${homeLk.type === 'dir' ? 'directory' : homeLk.type}, not a symlink`})

  // --- whose home it is
  const trimmed = trimSlashes(raw)
  if (trimmed === '/' || !home) {
    add('files.home.shared', {
      status: 'fail',
      seen: trimmed === '/' ? 'the home directory is /: every file on the host lies inside it' : `the home directory ${raw} is not an absolute path below /`,
      why: `Changes "in the vendor's home" would not stay in a directory of the vendor's own: doctor --fix changes nothing while this fails. Give the vendor a home directory of its own, then add the key again with bastion add-vendor-key`,
      fix: {command: `usermod -d ${q(`/home/${input.vendor}`)} ${q(input.vendor)} && mkdir -m 0750 ${q(`/home/${input.vendor}`)} && chown ${q(`${u.name}:${u.group ?? u.name}`)} ${q(`/home/${input.vendor}`)}`},
    })
  } else if (!u.homeShared) add('files.home.shared', {status: 'skip', seen: 'the probe did not list the other accounts\' home directories'})
  else if (u.homeShared.length > 0) {
    const same = u.homeShared.filter((a) => trimSlashes(a.home) === home).map((a) => a.name)
    const inside = u.homeShared.filter((a) => trimSlashes(a.home) !== home).map((a) => `${a.name} (${a.home})`)
    const seen = [same.length > 0 ? `${home} is also the home of ${list(same)}` : '', inside.length > 0 ? `${home} holds the home of ${list(inside)}` : ''].filter(Boolean).join('; ')
    const own = `/home/${input.vendor}`
    add('files.home.shared', {
      status: 'fail',
      seen,
      why: `Another account's files live there: a change "in the vendor's home" (doctor --fix, bastion add-vendor-key, an admin following a fix) changes that account's files — for root's home, root's own SSH keys, so the vendor's key there would let the vendor log in as root. doctor --fix changes nothing while this fails. Give the vendor a home directory of its own, then add the key again with bastion add-vendor-key`,
      fix: {command: home === own
        ? `getent passwd | awk -F: -v h=${q(home)} '$6 == h || index($6, h "/") == 1'`
        : `usermod -d ${q(own)} ${q(input.vendor)} && mkdir -m 0750 ${q(own)} && chown ${q(`${u.name}:${u.group ?? u.name}`)} ${q(own)}`},
    })
  } else add('files.home.shared', {status: 'pass', seen: `no other account's home is ${home} or lies inside it`})

  // --- the paths from the home down to each key file
  const chains = home ? facts.authorizedKeys.map((a) => pathsFrom(home, a.path)).filter((c): c is string[] => c !== undefined) : []
  const viaHomeLink = homeLk?.type === 'symlink'
  const dirs = [...new Set(chains.flatMap((c) => c.slice(1, -1)))]
  if (!home || chains.length === 0) {
    const why = !home ? 'there is no usable home directory' : 'sshd reads no key file under the home directory'
    add('files.ssh_dir.link', {status: 'skip', seen: why})
    add('files.authorized_keys.link', {status: 'skip', seen: why})
    return out
  }
  if (!lstat) {
    for (const id of ['files.ssh_dir.link', 'files.authorized_keys.link']) add(id, {status: 'skip', seen: 'the probe gathered no lstat of the paths under the home'})
    return out
  }
  /** The first symlink on the way from the home down to (not including) `path`. */
  const linkAbove = (path: string) => {
    const c = pathsFrom(home, path) ?? []
    return c.slice(0, -1).map((p) => lstat.get(p)).find((l) => l?.type === 'symlink')
  }

  const linkedDirs = dirs.map((d) => lstat.get(d)).filter((l): l is LinkFact => l !== undefined && l.type === 'symlink' && !linkAbove(l.path))
  if (viaHomeLink) add('files.ssh_dir.link', {status: 'skip', seen: `reached through the symlinked home (see files.home.link)`})
  else if (linkedDirs.length > 0) {
    const l = linkedDirs[0]!
    const to = l.target ?? l.linkText ?? '?'
    add('files.ssh_dir.link', {
      status: 'fail',
      seen: linkedDirs.map(linkShown).join('; '),
      why: `sshd follows the link: it reads the vendor's keys from ${to} and judges ${to}, not a directory of the vendor's. ${LANDS}: ${to}, another account's or the system's directory (the vendor's key added to ${to}/authorized_keys${asRoot(`${to}/authorized_keys`)}; ${to} handed to ${u.name}). doctor --fix changes nothing while this fails. Remove the link (rm removes only the link, not ${to}), then add the key again with bastion add-vendor-key: it creates a real ~/.ssh`,
      fix: {command: linkedDirs.map((x) => `ls -la ${q(x.path)} && rm ${q(x.path)}`).join(' && ')},
    })
  } else {
    const present = dirs.filter((d) => lstat.get(d))
    add('files.ssh_dir.link', present.length > 0
      ? {status: 'pass', seen: `${list(present)} ${present.length > 1 ? 'are directories' : 'is a directory'}, not a symlink`}
      : {status: 'skip', seen: dirs.length > 0 ? `${list(dirs)} ${dirs.length > 1 ? 'do' : 'does'} not exist` : 'the key files lie directly in the home directory'})
  }

  const files = chains.map((c) => c[c.length - 1]!).filter((p) => lstat.get(p))
  if (files.length === 0) {
    add('files.authorized_keys.link', {status: 'skip', seen: `no key file under ${home} exists`})
    return out
  }
  const many = files.length > 1
  for (const p of files) {
    const l = lstat.get(p)!
    const t = many ? `${title('files.authorized_keys.link')} (${p})` : title('files.authorized_keys.link')
    const above = linkAbove(p)
    if (above) {
      add('files.authorized_keys.link', {status: 'skip', seen: `${p} is reached through the symlink ${above.path} (see ${above.path === home ? 'files.home.link' : 'files.ssh_dir.link'})`}, t)
    } else if (l.type === 'symlink') {
      const to = l.target ?? l.linkText ?? '?'
      add('files.authorized_keys.link', {
        status: 'fail',
        seen: linkShown(l),
        why: `sshd follows the link and reads ${to} as the vendor's keys. ${LANDS}: ${to}, another account's or the system's file (the vendor's key added to it${asRoot(to)}; the file handed to ${u.name}). doctor --fix changes nothing while this fails. Remove the link (rm removes only the link, not ${to}), then add the key again with bastion add-vendor-key`,
        fix: {command: `ls -la ${q(p)} && rm ${q(p)}`},
      }, t)
    } else if (l.type === 'file' && l.links > 1) {
      add('files.authorized_keys.link', {
        status: 'fail',
        seen: `${p} is hard-linked, ${l.links} links: the same file has ${plural(l.links - 1, 'other name')} elsewhere (owner ${ownerLabel(facts, l.uid)})`,
        why: `A hard link is not a copy: it is the same file as its other names — a file in /root, or /etc/shadow. sshd reads it as the vendor's keys; changing its owner or mode (doctor --fix, or an admin following a fix) or writing to it changes that file under every name. doctor --fix changes nothing while this fails. Find the other names (find / -xdev -samefile ${p}), move this name aside (mv renames only this name; the other names keep the file), then add the key again with bastion add-vendor-key`,
        fix: {command: `ls -li ${q(p)} && mv ${q(p)} ${q(`${p}.hardlink-moved-by-doctor`)}`},
      }, t)
    } else add('files.authorized_keys.link', {status: 'pass', seen: `${p} is a ${l.type === 'file' ? 'regular file' : l.type} with ${plural(l.links, 'link')}`}, t)
  }
  return out
}

/** Everything files.* judges, computed once per run. */
function judgeFiles(ctx: CheckContext): Finding[] {
  const {facts, input} = ctx
  const u = facts.user
  if (!u.exists) {
    return [...LINK_IDS, 'files.authorized_keys.exists', ...SKIP_IDS].map((id) =>
      finding(AREA, id, title(id), {status: 'skip', seen: `user ${input.vendor} does not exist (see user.exists)`}),
    )
  }
  const scope = scopeOf(facts)
  const links = judgeLinks(ctx, scope)
  const blocked = links.find((f) => f.status === 'fail')
  if (blocked) scope.blockedBy = blocked.id
  return [...links, ...judgeWalks(ctx, scope).map((f) => withoutFixWhileBlocked(f, scope))]
}

/** While a link finding fails, the other files.* findings describe what the link leads to: they offer no fix. */
function withoutFixWhileBlocked(f: Finding, scope: Scope): Finding {
  if (!scope.blockedBy || !f.fix) return f
  const {fix: _fix, ...rest} = f
  return {...rest, seen: `${f.seen} (no fix offered while ${scope.blockedBy} fails: the path may lead out of the vendor's home)`}
}

function judgeWalks(ctx: CheckContext, scope: Scope): Finding[] {
  const {facts} = ctx
  if (facts.authorizedKeys.length === 0) {
    return ['files.authorized_keys.exists', ...SKIP_IDS].map((id) =>
      finding(AREA, id, title(id), {status: 'skip', seen: 'sshd reads no authorized_keys file for the user (see sshd.authorized_keys_file)'}),
    )
  }
  const ws = walks(facts)
  const out: Finding[] = []
  if (ws.length === 0) {
    const paths = facts.authorizedKeys.map((a) => a.path)
    out.push(finding(AREA, 'files.authorized_keys.exists', title('files.authorized_keys.exists'), {
      status: 'fail',
      seen: `${list(paths, 'nor')} ${paths.length > 1 ? 'exist' : 'does not exist'}`,
      why: 'sshd finds no key for the user: the vendor gets "Permission denied (publickey)". add-vendor-key creates ~/.ssh (0700) and authorized_keys (0600) with the vendor\'s key',
      fix: {command: addKeyCommand(ctx)},
    }))
    for (const id of SKIP_IDS) out.push(finding(AREA, id, title(id), {status: 'skip', seen: 'there is no authorized_keys file to check'}))
    return out
  }
  out.push(finding(AREA, 'files.authorized_keys.exists', title('files.authorized_keys.exists'), {status: 'pass', seen: ws.map((w) => (w.real !== w.path ? `${w.path} → ${w.real}` : w.path)).join(', ')}))

  const strict = strictModes(facts)
  const refuse = strict ? 'fail' : 'warn'
  const strictNote = strict ? '' : ' (StrictModes no: sshd reads it anyway, but anyone who can write there can add keys)'
  const many = ws.length > 1
  for (const w of ws) out.push(...judgeWalk(ctx, scope, w, refuse, strictNote, many))
  return out
}

function judgeWalk(ctx: CheckContext, scope: Scope, w: Walk, refuse: 'fail' | 'warn', strictNote: string, many: boolean): Finding[] {
  const {facts} = ctx
  const u = facts.user
  const out: Finding[] = []
  const add = (id: string, v: Verdict) => out.push(finding(AREA, id, title(id, w, many), v))
  const st = w.st
  const realShown = w.real !== w.path ? `${w.path} (→ ${w.real})` : w.path
  const sshdSays = (what: string) => `sshd (StrictModes yes) ignores the file and logs "Authentication refused: ${what}"; the vendor gets "Permission denied (publickey)"`
  const foreign = (path: string, what: string) =>
    `${path} belongs to another account: it may be that account's own ${what} (a reused or shared path), and giving it to ${u.name} would hand the vendor another account's files, so doctor changes nothing there. Find out whose it is (ls -la), move it aside inside the home and add the key again with bastion add-vendor-key`

  // --- the file
  const type = st.type === 'symlink' ? st.targetType : st.type
  if (type === undefined && st.type === 'symlink') {
    add('files.authorized_keys.type', {
      status: 'fail',
      seen: `${w.path} is a symlink to ${w.real}, which does not exist`,
      why: 'sshd cannot open a dangling symlink, so it finds no key: "Permission denied (publickey)". Remove the link, then add the key again with bastion add-vendor-key',
      fix: {command: `rm ${q(w.path)}`},
    })
  } else if (type === undefined) add('files.authorized_keys.type', {status: 'skip', seen: `${realShown}: the probe gave no file type`})
  else if (type !== 'file') {
    add('files.authorized_keys.type', {
      status: 'fail',
      seen: `${realShown} is a ${type === 'dir' ? 'directory' : 'special file'}, not a regular file`,
      why: `sshd reads only regular files: "${w.real} is not a regular file"; the vendor gets "Permission denied (publickey)". Move it aside, then add the key again with bastion add-vendor-key`,
      ...withFix(changeFix(scope, w.real, (p) => `mv ${q(p)} ${q(`${p}.moved-by-doctor`)}`, false)),
    })
  } else add('files.authorized_keys.type', {status: 'pass', seen: `${realShown} is a regular file`})

  const m = modeBits(st)
  if (st.uid === undefined) add('files.authorized_keys.owner', {status: 'skip', seen: `${realShown}: owner unknown`})
  else if (!ownerOk(st, u.uid)) {
    const named = namedPath(scope, w.real)
    add('files.authorized_keys.owner', named !== undefined ? {
      status: 'fail',
      seen: `${realShown} is owned by ${ownerLabel(facts, st.uid)}${strictNote}`,
      why: `${sshdSays(`bad ownership or modes for file ${w.real}`)}. ${foreign(named, 'file')}`,
      fix: {command: `ls -la ${q(named)} && mv ${q(named)} ${q(`${named}.moved-by-doctor`)}`},
    } : {
      status: refuse,
      seen: `${realShown} is owned by ${ownerLabel(facts, st.uid)}${strictNote}`,
      why: sshdSays(`bad ownership or modes for file ${w.real}`),
      ...withFix(changeFix(scope, w.real, (p) => chownCmd(facts, p))),
    })
  } else add('files.authorized_keys.owner', {status: 'pass', seen: `${realShown} is owned by ${ownerLabel(facts, st.uid)}`})

  if (m === undefined) add('files.authorized_keys.mode', {status: 'skip', seen: `${realShown}: mode unknown`})
  else if (m & 0o022) {
    add('files.authorized_keys.mode', {
      status: refuse,
      seen: `${realShown} is ${octal(m)}: writable by ${m & 0o002 ? 'everyone' : 'its group'}${strictNote}`,
      why: sshdSays(`bad ownership or modes for file ${w.real}`),
      ...withFix(changeFix(scope, w.real, (p) => `chmod 600 ${q(p)}`)),
    })
  } else if (m & 0o077) {
    add('files.authorized_keys.mode', {
      status: 'warn',
      seen: `${realShown} is ${octal(m)}: readable by others (sshd accepts it; 0600 is usual)`,
      why: 'other local users can read which keys may log in and with which options; vendors\' checklists ask for 0600',
      ...withFix(changeFix(scope, w.real, (p) => `chmod 600 ${q(p)}`)),
    })
  } else add('files.authorized_keys.mode', {status: 'pass', seen: `${realShown} is ${octal(m)}`})

  // --- readable by the user (sshd opens the file with the user's uid)
  const blockers: {st: StatFact; what: string; verdict: Access}[] = []
  for (const d of w.searched) {
    if (!d.exists || (d.type !== 'dir' && d.type !== undefined && !d.symlinkTo)) continue
    const a = access(facts, d, 1)
    if (a !== 'yes') blockers.push({st: d, what: 'search (x)', verdict: a})
  }
  const fileRead = access(facts, st, 4)
  if (fileRead !== 'yes') blockers.push({st: {...st, path: w.real}, what: 'read (r)', verdict: fileRead})
  let hard = blockers.filter((b) => b.verdict === 'no')
  if (w.readableByUser === true) {
    // The probe opened the file as the user: that settles it (ACLs and supplementary groups included).
    blockers.length = 0
    hard = []
  }
  // inside the home: hand the path to the user; above it: let everyone search it
  const unblock = (p: string) => (namedPath(scope, p) !== undefined ? chownCmd(facts, p) : `chmod o+x ${q(p)}`)
  const fmt = (b: (typeof blockers)[number]) => `${b.st.path} (${ownerLabel(facts, b.st.uid)}, gid ${b.st.gid ?? '?'}, ${b.st.mode ?? '?'}) lacks ${b.what} for ${u.name}`
  if (hard.length > 0) {
    const b = hard[0]!
    const path = b.st.path
    const own = b.st.uid !== undefined && b.st.uid === u.uid
    const bit = b.what.startsWith('read') ? 'r' : 'x'
    add('files.authorized_keys.readable', {
      status: 'fail',
      seen: hard.map(fmt).join('; '),
      why: `sshd opens authorized_keys as the user: it cannot, so the key is never seen ("Permission denied (publickey)"; sshd logs "Could not open user '${u.name}' authorized keys '${w.path}': Permission denied"). A root-owned 0600 file or a root-owned 0700 ~/.ssh does this`,
      ...withFix(changeFix(scope, path, (p) => (own ? `chmod u+${bit} ${q(p)}` : unblock(p)))),
    })
  } else if (w.readableByUser === false) {
    add('files.authorized_keys.readable', {
      status: 'fail',
      seen: `opening ${w.path} as ${u.name} failed (the probe tried with setpriv)${blockers.length > 0 ? `: ${blockers.map(fmt).join('; ')}` : ''}`,
      why: `sshd opens authorized_keys as the user: it cannot, so the key is never seen ("Permission denied (publickey)"; sshd logs "Could not open user '${u.name}' authorized keys '${w.path}': Permission denied"). Check ACLs (getfacl) and the owners and modes of the directories on the way`,
      fix: {command: `namei -l ${q(w.path)}`},
    })
  } else if (blockers.length > 0) {
    add('files.authorized_keys.readable', {
      status: 'warn',
      seen: `${blockers.map(fmt).join('; ')} unless ${u.name} is in the owning group (supplementary group ids are not known)`,
      why: 'sshd opens authorized_keys as the user; if the user is not in that group, the key is never seen ("Permission denied (publickey)")',
      ...withFix(changeFix(scope, blockers[0]!.st.path, unblock)),
    })
  } else add('files.authorized_keys.readable', {status: 'pass', seen: `${u.name} can search every directory down to the file and read it`})

  // --- the directories of the StrictModes walk
  const byRole = (role: Role) => w.dirs.filter((d) => d.role === role)
  const judgeDir = (id: string, d: WalkDir | undefined, kind: 'owner' | 'mode', looseWarnAbove?: number) => {
    if (!d) {
      add(id, {status: 'skip', seen: id.startsWith('files.ssh_dir') ? `${w.real} is not in ~/.ssh, so there is no ~/.ssh to check` : 'not part of the walk'})
      return
    }
    const s = d.st
    if (!s || !s.exists) {
      add(id, {status: 'skip', seen: `${d.path}: the probe gathered no stat for it`})
      return
    }
    if (kind === 'owner') {
      const named = namedPath(scope, d.path)
      if (!ownerOk(s, u.uid) && named !== undefined) {
        const isHome = d.role === 'home'
        add(id, {
          status: 'fail',
          seen: `${d.path} is owned by ${ownerLabel(facts, s.uid)}${strictNote}`,
          why: `${sshdSays(`bad ownership or modes for directory ${d.path}`)}. ${isHome
            ? `${named} belongs to another account: it may be that account's own home, and giving it to ${u.name} would hand the vendor another account's files, so doctor changes nothing there. Find out whose it is (ls -ld, getent passwd) and give the vendor a home directory of its own (usermod -d)`
            : foreign(named, 'directory')}`,
          fix: {command: isHome ? `ls -ld ${q(named)}` : `ls -la ${q(named)} && mv ${q(named)} ${q(`${named}.moved-by-doctor`)}`},
        })
      } else if (!ownerOk(s, u.uid)) {
        add(id, {
          status: refuse,
          seen: `${d.path} is owned by ${ownerLabel(facts, s.uid)}${strictNote}`,
          why: sshdSays(`bad ownership or modes for directory ${d.path}`),
          ...withFix(changeFix(scope, d.path, (p) => chownCmd(facts, p))),
        })
      } else if (s.uid === 0 && d.role !== 'parent' && s.uid !== u.uid) {
        add(id, {status: 'pass', seen: `${d.path} is owned by root (sshd accepts root; see files.authorized_keys.readable for whether ${u.name} can get through)`})
      } else add(id, {status: 'pass', seen: `${d.path} is owned by ${ownerLabel(facts, s.uid)}`})
      return
    }
    const dm = modeBits(s)
    if (dm === undefined) add(id, {status: 'skip', seen: `${d.path}: mode unknown`})
    else if (dm & 0o022) {
      add(id, {
        status: refuse,
        seen: `${d.path} is ${octal(dm)}: writable by ${dm & 0o002 ? 'everyone' : 'its group'}${strictNote}`,
        why: sshdSays(`bad ownership or modes for directory ${d.path}`),
        ...withFix(changeFix(scope, d.path, (p) => `chmod go-w ${q(p)}`)),
      })
    } else if (looseWarnAbove !== undefined && dm & looseWarnAbove) {
      add(id, {
        status: 'warn',
        seen: `${d.path} is ${octal(dm)} (sshd accepts it; 0700 is usual)`,
        why: 'other local users can list and read the vendor\'s SSH files; vendors\' checklists ask for 0700',
        ...withFix(changeFix(scope, d.path, (p) => `chmod 700 ${q(p)}`)),
      })
    } else add(id, {status: 'pass', seen: `${d.path} is ${octal(dm)}`})
  }
  const sshDir = byRole('ssh_dir')[0]
  judgeDir('files.ssh_dir.owner', sshDir, 'owner')
  judgeDir('files.ssh_dir.mode', sshDir, 'mode', 0o077)
  const home = byRole('home')[0]
  if (home) {
    judgeDir('files.home.owner', home, 'owner')
    judgeDir('files.home.mode', home, 'mode')
  } else {
    for (const id of ['files.home.owner', 'files.home.mode']) {
      add(id, {status: 'skip', seen: `${w.real} is outside the home directory${w.realHome ? ` ${w.realHome}` : ''}: sshd walks up to / instead (see files.parents)`})
    }
  }

  const parents = byRole('parent')
  const unknown = parents.filter((d) => !d.st || !d.st.exists || modeBits(d.st) === undefined)
  const bad = parents.filter((d) => d.st && d.st.exists && (!ownerOk(d.st, u.uid) || ((modeBits(d.st) ?? 0) & 0o022) !== 0))
  if (parents.length === 0) add('files.parents', {status: 'pass', seen: 'no directories above the home directory are part of the walk'})
  else if (bad.length > 0) {
    const desc = bad.map((d) => {
      const dm = modeBits(d.st!) ?? 0
      return `${d.path} (${ownerLabel(facts, d.st!.uid)}, ${octal(dm)})`
    })
    const cmds = bad.flatMap((d) => {
      const parts: string[] = []
      if (!ownerOk(d.st!, u.uid)) parts.push('chown root')
      if ((modeBits(d.st!) ?? 0) & 0o022) parts.push('chmod go-w')
      const fix = changeFix(scope, d.path, (p) => parts.map((c) => `${c} ${q(p)}`).join(' && '), false)
      return fix ? [fix.command] : []
    })
    add('files.parents', {
      status: refuse,
      seen: `${list(desc)}: not owned by root or ${u.name}, or group/world-writable${strictNote}`,
      why: `${sshdSays(`bad ownership or modes for directory ${bad[0]!.path}`)}. sshd checks every directory from the key file up to the home directory (or / when the file is outside home). A world-writable directory with the sticky bit (like /tmp) fails too`,
      ...(cmds.length > 0 ? {fix: {command: cmds.join(' && ')}} : {}),
    })
  } else if (unknown.length === parents.length) {
    add('files.parents', {status: 'skip', seen: `${list(parents.map((d) => d.path))}: the probe gathered no stat for them`})
  } else {
    add('files.parents', {status: 'pass', seen: `${list(parents.filter((d) => !unknown.includes(d)).map((d) => d.path))} owned by root or ${u.name}, not group/world-writable`})
  }
  return out
}

const ALL_IDS = [...LINK_IDS, 'files.authorized_keys.exists', ...SKIP_IDS]

const cache = new WeakMap<object, Finding[]>()

/** The walk is judged once per context and each check returns its own ids (report order). */
function findingsFor(ctx: CheckContext, ids: string[]): Finding[] {
  let all = cache.get(ctx)
  if (!all) {
    all = judgeFiles(ctx)
    cache.set(ctx, all)
  }
  return all.filter((f) => ids.includes(f.id))
}

function check(ids: string[]): Check {
  return {ids, area: AREA, run: (ctx) => findingsFor(ctx, ids)}
}

export const filesLinks = check([...LINK_IDS])
export const filesExists = check(['files.authorized_keys.exists'])
export const filesAuthorizedKeys = check(['files.authorized_keys.type', 'files.authorized_keys.owner', 'files.authorized_keys.mode'])
export const filesReadable = check(['files.authorized_keys.readable'])
export const filesSshDir = check(['files.ssh_dir.owner', 'files.ssh_dir.mode'])
export const filesHome = check(['files.home.owner', 'files.home.mode'])
export const filesParents = check(['files.parents'])

/** files checks in report order. */
export const filesChecks: Check[] = [filesLinks, filesExists, filesAuthorizedKeys, filesSshDir, filesHome, filesParents, filesReadable]

export {ALL_IDS as FILES_IDS, LINK_IDS as FILES_LINK_IDS}
