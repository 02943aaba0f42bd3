/**
 * The file facts from the probe: stat of paths (following links), lstat of the paths under the home, and the
 * authorized_keys files sshd would read for the vendor, each with its content and the directories above it.
 */
import type {HostFacts, LinkFact, StatFact} from '../types.js'
import type {AreaRecords} from './records.js'

/** Content of an authorized_keys file is read up to this many bytes. */
export const MAX_KEYS_FILE_BYTES = 1024 * 1024

/** File type from the raw mode stat prints with %f (hex). */
function typeFromRawMode(hex: string): StatFact['type'] {
  const fmt = Number.parseInt(hex, 16) & 0o170000
  if (fmt === 0o100000) return 'file'
  if (fmt === 0o040000) return 'dir'
  if (fmt === 0o120000) return 'symlink'
  return 'other'
}

interface StatLine {
  uid: number
  gid: number
  mode: string
  type: StatFact['type']
  size: number
}

/** Every path the probe stat'ed (following links), by path. */
export type StatIndex = ReadonlyMap<string, StatLine>

export function readStats(records: AreaRecords<'files'>): StatIndex {
  const stats = new Map<string, StatLine>()
  for (const st of records.all('st')) {
    stats.set(st.path, {uid: st.uid, gid: st.gid, mode: st.mode, type: typeFromRawMode(st.rawMode), size: st.size})
  }
  return stats
}

/** What stat said about `path`: not there when it printed nothing for it. */
export function statFact(path: string, stats: StatIndex): StatFact {
  const st = stats.get(path)
  if (!st) return {path, exists: false}
  return {path, exists: true, type: st.type, uid: st.uid, gid: st.gid, mode: st.mode, size: st.size}
}

/** The home and the paths under it as lstat sees them, in the probe's order. */
export function readHomePaths(records: AreaRecords<'files'>): LinkFact[] {
  return records.all('lk').map((f) => {
    const lk: LinkFact = {path: f.path, type: typeFromRawMode(f.rawMode) ?? 'other', uid: f.uid, gid: f.gid, links: f.links}
    if (lk.type === 'symlink') {
      lk.linkText = f.linkText
      if (f.target) lk.target = f.target
    }
    return lk
  })
}

/** The authorized_keys files, in AuthorizedKeysFile order, with stat of what each path leads to and its directory chain. */
export function readAuthorizedKeys(records: AreaRecords<'files'>, stats: StatIndex): HostFacts['authorizedKeys'] {
  interface Working {
    path: string
    realPath: string
    isLink: boolean
    chain: StatFact[]
    content?: string
    readableByUser?: boolean
  }
  const working: Working[] = []
  const byIndex = new Map<number, Working>()
  // in output order: the lines about a file follow its ak line and refer to it by index
  for (const f of records.inOrder(['ak', 'akreal', 'akdir', 'akcontent', 'akreadable'])) {
    if (f.key === 'ak') {
      const w: Working = {path: f.record.path, realPath: f.record.path, isLink: f.record.link, chain: []}
      byIndex.set(f.record.index, w)
      working.push(w)
      continue
    }
    const w = byIndex.get(f.record.index)
    if (!w) continue
    if (f.key === 'akreal') w.realPath = f.record.path
    else if (f.key === 'akdir') w.chain.push(statFact(f.record.path, stats))
    else if (f.key === 'akcontent') w.content = f.record.content
    else w.readableByUser = f.record.readable
  }
  return working.map((w) => {
    const target = stats.get(w.realPath)
    const stat: StatFact = {path: w.path, exists: w.isLink || target !== undefined}
    if (w.isLink) {
      stat.type = 'symlink'
      if (target) stat.targetType = target.type
    } else if (target) {
      stat.type = target.type
    }
    if (w.realPath !== w.path) stat.symlinkTo = w.realPath
    if (target) {
      stat.uid = target.uid
      stat.gid = target.gid
      stat.mode = target.mode
      stat.size = target.size
    }
    const entry: HostFacts['authorizedKeys'][number] = {path: w.path, realPath: w.realPath, stat, chain: w.chain}
    if (w.content !== undefined) entry.content = w.content
    if (w.content !== undefined && target && target.size > MAX_KEYS_FILE_BYTES) entry.truncated = true
    if (w.readableByUser !== undefined) entry.readableByUser = w.readableByUser
    return entry
  })
}

/** True when the probe assumed sshd's default AuthorizedKeysFile (no sshd -T result named one). */
export function readAuthorizedKeysFileDefaulted(records: AreaRecords<'files'>): boolean {
  return records.first('akf_default') !== undefined
}
