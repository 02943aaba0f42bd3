/** Helpers shared by the host checks: building findings, reading sshd -T settings, fix commands. Pure. */
import {quoteShell} from '../../ssh/quote.js'
import {parseAuthorizedKeys, type AuthorizedKeyLine} from '../../access/authorized-keys.js'
import type {PublicKey} from '../../access/keys.js'
import type {Area, CheckContext, Finding, Fix, HostFacts, SshdEffective, Status} from '../types.js'

export const q = quoteShell

export interface Verdict {
  status: Status
  seen: string
  why?: string
  fix?: Fix
}

/** A finding; `why` only when not pass, `fix` only for fail/warn. */
export function finding(area: Area, id: string, title: string, v: Verdict): Finding {
  const f: Finding = {id, area, status: v.status, title, seen: v.seen}
  if (v.status !== 'pass' && v.why) f.why = v.why
  if ((v.status === 'fail' || v.status === 'warn') && v.fix) f.fix = v.fix
  return f
}

/** Join list items as "a, b and c". */
export function list(items: string[], conj = 'and'): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} ${conj} ${items[items.length - 1]}`
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

// ---------------------------------------------------------------------------------------------- sshd settings

/** sshd -T outputs that could be read (no error, some settings). */
export function usableSpecs(facts: HostFacts): SshdEffective[] {
  return facts.sshd.effective.filter((e) => !e.error && Object.keys(e.settings).length > 0)
}

/** The first line sshd -T printed for a keyword (several names: older sshd spellings), or undefined. */
export function settingLine(eff: SshdEffective, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = eff.settings[k]
    if (v && v.length > 0) return v[0]!.trim()
  }
  return undefined
}

/** Every value printed for a keyword, split on whitespace (sshd -T prints lists one per line or on one line). */
export function settingList(eff: SshdEffective, ...keys: string[]): string[] | undefined {
  for (const k of keys) {
    const v = eff.settings[k]
    if (v && v.length > 0) return v.flatMap((line) => line.trim().split(/\s+/)).filter((x) => x !== '')
  }
  return undefined
}

/** `addr=` of a connection spec (the vendor address sshd -T judged for). */
export function specAddr(eff: SshdEffective): string | undefined {
  return eff.address ?? /(?:^|,)addr=([^,]+)/.exec(eff.spec)?.[1]
}

/**
 * The sshd -T outputs to judge: the per-vendor-address ones that worked; when all of them failed but the probe got a
 * plain `sshd -T` (no Match applied), that one, marked so findings can say so.
 */
export function judgedSpecs(facts: HostFacts): {eff: SshdEffective; global: boolean}[] {
  const specs = usableSpecs(facts)
  if (specs.length > 0) return specs.map((eff) => ({eff, global: false}))
  const g = facts.sshd.globalSettings
  if (g && Object.keys(g).length > 0) return [{eff: {spec: 'sshd -T (no Match blocks applied)', settings: g}, global: true}]
  return []
}

/** yes/no setting read from the first usable sshd -T output. */
function flag(facts: HostFacts, key: string): boolean | undefined {
  const eff = judgedSpecs(facts)[0]?.eff
  if (!eff) return undefined
  const v = settingLine(eff, key)
  return v === undefined ? undefined : v.toLowerCase() === 'yes'
}

/**
 * UsePAM as sshd uses it: the printed value; false when sshd -T printed settings without `usepam` (built without PAM);
 * undefined when no settings could be read.
 */
export function usePam(facts: HostFacts): boolean | undefined {
  const eff = judgedSpecs(facts)[0]?.eff
  if (!eff) return undefined
  return flag(facts, 'usepam') ?? false
}

/** StrictModes (default yes). */
export function strictModes(facts: HostFacts): boolean {
  return flag(facts, 'strictmodes') ?? true
}

export function useDns(facts: HostFacts): boolean {
  return flag(facts, 'usedns') ?? false
}

/**
 * Judge something per sshd -T output (one per vendor address). Identical verdicts make one finding; differing ones a
 * finding per connection spec. No usable output: one `skip`.
 */
export function perSpec(
  ctx: CheckContext,
  area: Area,
  id: string,
  title: string,
  judge: (eff: SshdEffective) => Verdict,
): Finding[] {
  const specs = judgedSpecs(ctx.facts)
  if (specs.length === 0) {
    return [finding(area, id, title, {status: 'skip', seen: 'sshd -T printed no effective settings (see sshd.effective), so this cannot be judged'})]
  }
  const verdicts = specs.map(({eff, global}) => {
    const v = judge(eff)
    return {eff, v: global && v.status !== 'skip' ? {...v, seen: `${v.seen} (from plain sshd -T: Match blocks not applied)`} : v}
  })
  const first = verdicts[0]!.v
  if (verdicts.every(({v}) => v.status === first.status && v.seen === first.seen)) return [finding(area, id, title, first)]
  return verdicts.map(({eff, v}) => finding(area, id, `${title} (${eff.spec})`, v))
}

// ------------------------------------------------------------------------------------------------------ fixes

/** Check the configuration, then reload sshd (Debian/Ubuntu call the unit ssh, RHEL-family sshd). */
export const RELOAD_SSHD = 'sshd -t && { systemctl reload ssh 2>/dev/null || systemctl reload sshd; }'

/**
 * Append a `Match User <vendor>` block to sshd_config. Match blocks override the global settings for the vendor only;
 * where an earlier Match block for the vendor sets the same keyword, sshd keeps that first value (change it there).
 */
export function matchBlockFix(vendor: string, lines: string[]): Fix {
  const args = ['', `Match User ${vendor}`, ...lines.map((l) => `    ${l}`)].map((a) => q(a)).join(' ')
  return {command: `printf '%s\\n' ${args} >> /etc/ssh/sshd_config && ${RELOAD_SSHD}`}
}

export const MATCH_NOTE =
  'The fix appends a "Match User" block at the end of /etc/ssh/sshd_config, which overrides the global value for this user only; if an earlier Match block that applies to the user sets the same keyword, sshd keeps that first value: change it there instead.'

/** Locate where sshd_config (and its drop-ins) set a keyword. */
export function grepSshdConfig(...keywords: string[]): string {
  return `grep -rniE ${q(`^[[:space:]]*(${keywords.join('|')})[[:space:]]`)} /etc/ssh/sshd_config /etc/ssh/sshd_config.d`
}

/** `bastion add-vendor-key …` for this host and vendor: creates what is missing and adds the key as a least-privilege line. */
export function addKeyCommand(ctx: CheckContext): string {
  const {input, facts} = ctx
  const parts = ['bastion add-vendor-key', '--host', q(input.host || facts.hostname || '<bastion-host>'), '--vendor', q(input.vendor)]
  if (input.key) {
    const k = input.key
    const comment = /^[\x20-\x7e]*$/.test(k.comment) && k.comment.trim() !== '' ? ` ${k.comment.trim()}` : ''
    parts.push('--key', q(`${k.type} ${k.base64}${comment}`))
  } else {
    parts.push('--key-file', q(`${input.vendor}.pub`))
  }
  if (input.dbs.length === 0) parts.push('--db', q('<db-host>:<port>'))
  for (const db of input.dbs) parts.push('--db', q(db.text))
  for (const ip of input.vendorIps) parts.push('--vendor-ip', q(ip))
  return parts.join(' ')
}

export function installSshCommand(facts: HostFacts): string {
  const id = `${facts.os.id}`.toLowerCase()
  if (/debian|ubuntu/.test(id)) return 'apt-get update && apt-get install -y openssh-server'
  if (/^(amzn|rhel|centos|rocky|almalinux|fedora|ol)$/.test(id)) return 'dnf install -y openssh-server || yum install -y openssh-server'
  return 'apt-get install -y openssh-server || dnf install -y openssh-server'
}

export function upgradeSshCommand(facts: HostFacts): string {
  const id = `${facts.os.id}`.toLowerCase()
  if (/debian|ubuntu/.test(id)) return 'apt-get update && apt-get install -y --only-upgrade openssh-server'
  return 'dnf upgrade -y openssh-server || yum update -y openssh-server'
}

// ------------------------------------------------------------------------------------------------------- time

const DAY_MS = 86_400_000

/** Days since the epoch (as /etc/shadow counts them) of a moment, in UTC. */
export function dayNumber(d: Date): number {
  return Math.floor(d.getTime() / DAY_MS)
}

export function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

// -------------------------------------------------------------------------------------------- authorized_keys

export interface KeyFile {
  path: string
  exists: boolean
  /** undefined when the content was not gathered (file missing or unreadable). */
  lines?: AuthorizedKeyLine[]
}

const keyFileCache = new WeakMap<HostFacts, KeyFile[]>()

/** The authorized_keys files sshd reads for the user, parsed as sshd reads them. */
export function keyFiles(facts: HostFacts): KeyFile[] {
  let files = keyFileCache.get(facts)
  if (!files) {
    files = facts.authorizedKeys.map((a) => ({
      path: a.path,
      exists: a.stat.exists,
      ...(a.content !== undefined ? {lines: parseAuthorizedKeys(a.content)} : {}),
    }))
    keyFileCache.set(facts, files)
  }
  return files
}

export interface VendorLine {
  file: string
  line: AuthorizedKeyLine
}

/** Lines sshd accepts that carry the vendor's key (the given key; without one, every key line of the vendor's files). */
export function vendorLines(ctx: CheckContext): VendorLine[] {
  const out: VendorLine[] = []
  for (const f of keyFiles(ctx.facts)) {
    for (const line of f.lines ?? []) {
      if (line.kind !== 'key' || !line.key) continue
      if (ctx.input.key && line.key.fingerprint !== ctx.input.key.fingerprint) continue
      out.push({file: f.path, line})
    }
  }
  return out
}

/** The vendor's keys to judge: the given one, else the distinct keys on the vendor's lines. */
export function vendorKeys(ctx: CheckContext): PublicKey[] {
  if (ctx.input.key) return [ctx.input.key]
  const seen = new Map<string, PublicKey>()
  for (const {line} of vendorLines(ctx)) if (line.key && !seen.has(line.key.fingerprint)) seen.set(line.key.fingerprint, line.key)
  return [...seen.values()]
}

export function describeKey(k: PublicKey): string {
  return `${k.algorithm} ${k.bits} ${k.fingerprint}`
}

export function where(v: VendorLine): string {
  return `${v.file} line ${v.line.lineNo}`
}
