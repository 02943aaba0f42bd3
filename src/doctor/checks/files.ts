/**
 * files checks: the StrictModes walk exactly as OpenSSH does it (misc.c safe_path, called from auth2-pubkeyfile.c):
 * the realpath of authorized_keys must be a regular file owned by the user or root and not group/world-writable, then
 * each directory from its parent up to and including the (real) home directory — or up to / when the file is outside
 * home — owned by the user or root and not group/world-writable. sshd opens the file as the user, so the user must
 * also be able to search every directory on the way and read the file.
 */
import {posix} from 'node:path'
import type {Check, CheckContext, Finding, HostFacts, StatFact} from '../types.js'
import {addKeyCommand, finding, list, q, strictModes, type Verdict} from './util.js'

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

/**
 * realpath(home): given by a stat with symlinkTo when there is one; else inferred from a key file under home whose real
 * path keeps the same tail (/home/hevo/.ssh/authorized_keys → /data/hevo/.ssh/authorized_keys: home is /data/hevo).
 */
function realHomeOf(facts: HostFacts, index: Map<string, StatFact>): string | undefined {
  const home = facts.user.home
  if (!home) return undefined
  const h = home.length > 1 ? home.replace(/\/+$/, '') : home
  const known = facts.user.homeStat?.symlinkTo ?? index.get(h)?.symlinkTo
  if (known) return known
  for (const a of facts.authorizedKeys) {
    const real = realPathOf(a)
    if (real === a.path || !a.path.startsWith(`${h}/`)) continue
    const tail = a.path.slice(h.length)
    if (real.endsWith(tail) && real.length > tail.length) return real.slice(0, real.length - tail.length)
  }
  return h
}

function walks(facts: HostFacts): Walk[] {
  const index = statIndex(facts)
  const realHome = realHomeOf(facts, index)
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

/** Paths root may chown/chmod by itself: inside the vendor's real home, and not reached through a symlink out of it. */
function insideHome(w: Walk, path: string): boolean {
  return w.realHome !== undefined && w.realHome !== '/' && (path === w.realHome || path.startsWith(`${w.realHome}/`))
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

/** A fix root can apply safely: only for paths inside the vendor's home, and never through a symlink. */
function fixFor(w: Walk, path: string, command: string): {command: string; script?: string} {
  if (!insideHome(w, path)) return {command}
  return {command, script: `[ ! -L ${q(path)} ] && ${command}`}
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

const TITLES: Record<string, string> = {
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

/** Everything files.* judges, computed once per run. */
function judgeFiles(ctx: CheckContext): Finding[] {
  const {facts, input} = ctx
  const u = facts.user
  if (!u.exists) {
    return ['files.authorized_keys.exists', ...SKIP_IDS].map((id) =>
      finding(AREA, id, title(id), {status: 'skip', seen: `user ${input.vendor} does not exist (see user.exists)`}),
    )
  }
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
  for (const w of ws) out.push(...judgeWalk(ctx, w, refuse, strictNote, many))
  return out
}

function judgeWalk(ctx: CheckContext, w: Walk, refuse: 'fail' | 'warn', strictNote: string, many: boolean): Finding[] {
  const {facts} = ctx
  const u = facts.user
  const out: Finding[] = []
  const add = (id: string, v: Verdict) => out.push(finding(AREA, id, title(id, w, many), v))
  const st = w.st
  const realShown = w.real !== w.path ? `${w.path} (→ ${w.real})` : w.path
  const sshdSays = (what: string) => `sshd (StrictModes yes) ignores the file and logs "Authentication refused: ${what}"; the vendor gets "Permission denied (publickey)"`

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
      fix: {command: `mv ${q(w.real)} ${q(`${w.real}.moved-by-doctor`)}`},
    })
  } else add('files.authorized_keys.type', {status: 'pass', seen: `${realShown} is a regular file`})

  const m = modeBits(st)
  if (st.uid === undefined) add('files.authorized_keys.owner', {status: 'skip', seen: `${realShown}: owner unknown`})
  else if (!ownerOk(st, u.uid)) {
    add('files.authorized_keys.owner', {
      status: refuse,
      seen: `${realShown} is owned by ${ownerLabel(facts, st.uid)}${strictNote}`,
      why: sshdSays(`bad ownership or modes for file ${w.real}`),
      fix: fixFor(w, w.real, chownCmd(facts, w.real)),
    })
  } else add('files.authorized_keys.owner', {status: 'pass', seen: `${realShown} is owned by ${ownerLabel(facts, st.uid)}`})

  if (m === undefined) add('files.authorized_keys.mode', {status: 'skip', seen: `${realShown}: mode unknown`})
  else if (m & 0o022) {
    add('files.authorized_keys.mode', {
      status: refuse,
      seen: `${realShown} is ${octal(m)}: writable by ${m & 0o002 ? 'everyone' : 'its group'}${strictNote}`,
      why: sshdSays(`bad ownership or modes for file ${w.real}`),
      fix: fixFor(w, w.real, `chmod 600 ${q(w.real)}`),
    })
  } else if (m & 0o077) {
    add('files.authorized_keys.mode', {
      status: 'warn',
      seen: `${realShown} is ${octal(m)}: readable by others (sshd accepts it; 0600 is usual)`,
      why: 'other local users can read which keys may log in and with which options; vendors\' checklists ask for 0600',
      fix: fixFor(w, w.real, `chmod 600 ${q(w.real)}`),
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
  const fmt = (b: (typeof blockers)[number]) => `${b.st.path} (${ownerLabel(facts, b.st.uid)}, gid ${b.st.gid ?? '?'}, ${b.st.mode ?? '?'}) lacks ${b.what} for ${u.name}`
  if (hard.length > 0) {
    const b = hard[0]!
    const path = b.st.path
    const own = b.st.uid !== undefined && b.st.uid === u.uid
    const cmd = own ? `chmod u+${b.what.startsWith('read') ? 'r' : 'x'} ${q(path)}` : insideHome(w, path) ? chownCmd(facts, path) : `chmod o+x ${q(path)}`
    add('files.authorized_keys.readable', {
      status: 'fail',
      seen: hard.map(fmt).join('; '),
      why: `sshd opens authorized_keys as the user: it cannot, so the key is never seen ("Permission denied (publickey)"; sshd logs "Could not open user '${u.name}' authorized keys '${w.path}': Permission denied"). A root-owned 0600 file or a root-owned 0700 ~/.ssh does this`,
      fix: fixFor(w, path, cmd),
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
      fix: fixFor(w, blockers[0]!.st.path, insideHome(w, blockers[0]!.st.path) ? chownCmd(facts, blockers[0]!.st.path) : `chmod o+x ${q(blockers[0]!.st.path)}`),
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
      if (!ownerOk(s, u.uid)) {
        add(id, {
          status: refuse,
          seen: `${d.path} is owned by ${ownerLabel(facts, s.uid)}${strictNote}`,
          why: sshdSays(`bad ownership or modes for directory ${d.path}`),
          fix: fixFor(w, d.path, chownCmd(facts, d.path)),
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
        fix: fixFor(w, d.path, `chmod go-w ${q(d.path)}`),
      })
    } else if (looseWarnAbove !== undefined && dm & looseWarnAbove) {
      add(id, {
        status: 'warn',
        seen: `${d.path} is ${octal(dm)} (sshd accepts it; 0700 is usual)`,
        why: 'other local users can list and read the vendor\'s SSH files; vendors\' checklists ask for 0700',
        fix: fixFor(w, d.path, `chmod 700 ${q(d.path)}`),
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
    const cmds = bad.map((d) => {
      const parts: string[] = []
      if (!ownerOk(d.st!, u.uid)) parts.push(`chown root ${q(d.path)}`)
      if ((modeBits(d.st!) ?? 0) & 0o022) parts.push(`chmod go-w ${q(d.path)}`)
      return parts.join(' && ')
    })
    add('files.parents', {
      status: refuse,
      seen: `${list(desc)}: not owned by root or ${u.name}, or group/world-writable${strictNote}`,
      why: `${sshdSays(`bad ownership or modes for directory ${bad[0]!.path}`)}. sshd checks every directory from the key file up to the home directory (or / when the file is outside home). A world-writable directory with the sticky bit (like /tmp) fails too`,
      fix: {command: cmds.join(' && ')},
    })
  } else if (unknown.length === parents.length) {
    add('files.parents', {status: 'skip', seen: `${list(parents.map((d) => d.path))}: the probe gathered no stat for them`})
  } else {
    add('files.parents', {status: 'pass', seen: `${list(parents.filter((d) => !unknown.includes(d)).map((d) => d.path))} owned by root or ${u.name}, not group/world-writable`})
  }
  return out
}

const ALL_IDS = ['files.authorized_keys.exists', ...SKIP_IDS]

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

export const filesExists = check(['files.authorized_keys.exists'])
export const filesAuthorizedKeys = check(['files.authorized_keys.type', 'files.authorized_keys.owner', 'files.authorized_keys.mode'])
export const filesReadable = check(['files.authorized_keys.readable'])
export const filesSshDir = check(['files.ssh_dir.owner', 'files.ssh_dir.mode'])
export const filesHome = check(['files.home.owner', 'files.home.mode'])
export const filesParents = check(['files.parents'])

/** files checks in report order. */
export const filesChecks: Check[] = [filesExists, filesAuthorizedKeys, filesSshDir, filesHome, filesParents, filesReadable]

export {ALL_IDS as FILES_IDS}
