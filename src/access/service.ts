/**
 * Vendor access on a host: plan (pure), render the remote script, read back what it did.
 * The host is reached through a ScriptRunner so tests can hand in a fake or a lab host.
 */
import {parseAuthorizedKeys, renderVendorLine, stripOwnerTag, type KeyOption} from './authorized-keys.js'
import type {PublicKey} from './keys.js'
import type {HostPort} from '../input/parse.js'
import {checkScriptRun, renderScript, template, type ScriptFact} from '../remote/script.js'
import type {ScriptRunner} from '../remote/run.js'


export const DEFAULT_SHELL = '/usr/sbin/nologin'

// ---------------------------------------------------------------------------------------------------------------- add

export interface AddPlanInput {
  vendor: string
  key: PublicKey
  permitOpen: HostPort[]
  from?: string[]
  expiryTime?: string
  /** Explicit --shell; undefined keeps nologin for new users and leaves existing users' shells alone. */
  shell?: string
  /** YYYY-MM-DD used as `added=` for a key that is new on the host. */
  today: string
  /** Take over an existing non-system account bastion did not create (--adopt); otherwise such an account is refused. */
  adopt?: boolean
}

export interface AddPlan extends AddPlanInput {
  /** The authorized_keys line as it will read for a new key. */
  line: string
  /** The line without its trailing ownership tag: the script appends the tag with the original `added` date. */
  linePrefix: string
}

export function planAdd(input: AddPlanInput): AddPlan {
  const line = renderVendorLine({
    key: input.key,
    vendor: input.vendor,
    permitOpen: input.permitOpen.map((p) => p.text),
    ...(input.from && input.from.length > 0 ? {from: input.from} : {}),
    ...(input.expiryTime ? {expiryTime: input.expiryTime} : {}),
    added: input.today,
  })
  const tagAt = line.lastIndexOf(` bastion:vendor=${input.vendor},added=`)
  if (tagAt < 0) throw new Error('rendered vendor line has no ownership tag')
  return {...input, line, linePrefix: line.slice(0, tagAt)}
}

export function addScript(plan: AddPlan): string {
  return renderScript('vendor-add.sh', {
    VENDOR: plan.vendor,
    SHELL_WANTED: plan.shell ?? DEFAULT_SHELL,
    SHELL_EXPLICIT: plan.shell ? '1' : '0',
    KEY_TYPE: plan.key.type,
    KEY_B64: plan.key.base64,
    LINE_PREFIX: plan.linePrefix,
    TODAY: plan.today,
    ADOPT: plan.adopt ? '1' : '0',
    MERGE_AWK: template('merge-key.awk'),
  })
}

export interface Repair {
  path: string
  what: 'owner' | 'mode'
  from: string
  to: string
}

export interface AddResult {
  vendor: string
  os?: string
  group: 'created' | 'present'
  user: 'created' | 'present'
  /**
   * How bastion holds the account: it created it now or earlier (`created`), or took over an existing account on
   * --adopt (`adopted`, now or earlier). Only created accounts and groups are ever deleted.
   */
  ownership: 'created' | 'adopted'
  /** This run took over an existing account (--adopt); its shell stays, the key's forced command blocks commands. */
  adoptedNow: boolean
  uid: number
  shell: string
  shellChanged?: {from: string; to: string}
  /** The account was locked (`!` in shadow) or passwordless and is now `*`: usable for key login only. */
  unlocked: boolean
  home: string
  homeCreated: boolean
  sshDir: 'created' | 'present'
  repairs: Repair[]
  key: {
    fingerprint: string
    type: string
    bits: number
    status: 'added' | 'updated' | 'present'
    duplicatesRemoved: number
  }
  file: 'written' | 'unchanged'
  /** Temporary files left by an interrupted earlier run, removed. */
  cleaned: string[]
  warnings: string[]
}

function facts1(facts: ScriptFact[], key: string): ScriptFact | undefined {
  return facts.find((f) => f.key === key)
}

export function readAddFacts(plan: AddPlan, facts: ScriptFact[]): AddResult {
  const val = (k: string) => facts1(facts, k)?.rest ?? ''
  const repairs: Repair[] = facts
    .filter((f) => f.key === 'repaired')
    .map((f) => {
      // repaired <path…> <owner|mode> <from> <to>  (path may contain spaces: take the last three words)
      const a = f.args
      return {path: a.slice(0, -3).join(' '), what: a.at(-3) as 'owner' | 'mode', from: a.at(-2) ?? '', to: a.at(-1) ?? ''}
    })
  const [status = 'added'] = (val('key') || 'added').split(' ')
  const shellChanged = facts1(facts, 'shell_changed')
  const warnings = facts.filter((f) => f.key === 'warning').map((f) => {
    if (f.args[0] === 'account_expired')
      return `the account ${plan.vendor} is expired (shadow expire day ${f.args[1]}); sshd refuses it — run: sudo chage -E -1 ${plan.vendor}`
    return f.rest
  })
  const os = val('os').trim()
  return {
    vendor: plan.vendor,
    ...(os ? {os} : {}),
    group: val('group') === 'created' ? 'created' : 'present',
    user: val('user') === 'created' ? 'created' : 'present',
    ownership: val('ownership') === 'adopted' ? 'adopted' : 'created',
    adoptedNow: facts.some((f) => f.key === 'adopted'),
    uid: Number(val('uid')),
    shell: val('shell'),
    ...(shellChanged ? {shellChanged: {from: shellChanged.args[0] ?? '', to: shellChanged.args[1] ?? ''}} : {}),
    unlocked: val('unlocked') === 'yes',
    home: val('home'),
    homeCreated: facts.some((f) => f.key === 'home_created'),
    sshDir: val('ssh_dir') === 'created' ? 'created' : 'present',
    repairs,
    key: {
      fingerprint: plan.key.fingerprint,
      type: plan.key.type,
      bits: plan.key.bits,
      status: status as AddResult['key']['status'],
      duplicatesRemoved: Number(val('duplicates_removed') || 0),
    },
    file: val('file') === 'written' ? 'written' : 'unchanged',
    cleaned: facts.filter((f) => f.key === 'cleaned').map((f) => f.rest),
    warnings,
  }
}

export async function applyAdd(host: string, run: ScriptRunner, plan: AddPlan): Promise<AddResult> {
  const result = await run(addScript(plan))
  return readAddFacts(plan, checkScriptRun(host, 'vendor-add.sh', result))
}

// ------------------------------------------------------------------------------------------------------------- remove

export interface RemovePlan {
  vendor: string
  /** Remove the lines with these keys (any owner), or every line bastion owns, or no key lines. */
  mode: 'fingerprints' | 'all' | 'none'
  fingerprints: string[]
  deleteUser: boolean
  /** The account bastion logs in as: never deleted. */
  loginUser: string
}

/** `SHA256:<base64>` → hex digest (what sha256sum prints on the host). */
export function fingerprintToHex(fp: string): string {
  return Buffer.from(fp.replace(/^SHA256:/, ''), 'base64').toString('hex')
}

export function hexToFingerprint(hex: string): string {
  return `SHA256:${Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '')}`
}

export function removeScript(plan: RemovePlan): string {
  return renderScript('vendor-remove.sh', {
    VENDOR: plan.vendor,
    MODE: plan.mode === 'fingerprints' ? 'digests' : plan.mode,
    DIGESTS: plan.fingerprints.map(fingerprintToHex).join(' '),
    DELETE_USER: plan.deleteUser ? '1' : '0',
    LOGIN_USER: plan.loginUser,
  })
}

export interface RemoveResult {
  vendor: string
  user: 'present' | 'absent' | 'deleted'
  removed: {fingerprint: string; owned: boolean}[]
  kept: {fingerprint: string; owned: boolean}[]
  /** Requested fingerprints that no line carries. */
  notFound: string[]
  file: 'written' | 'unchanged' | 'absent' | 'untouched'
  /** `kept-not-ours`: a group of that name exists, but bastion did not create it, so it is never deleted. */
  group?: 'deleted' | 'kept' | 'kept-not-ours'
  sessionsKilled: boolean
  warnings: string[]
}

export function readRemoveFacts(plan: RemovePlan, facts: ScriptFact[]): RemoveResult {
  const keyList = (k: string) =>
    facts.filter((f) => f.key === k).map((f) => ({fingerprint: hexToFingerprint(f.args[0] ?? ''), owned: f.args[1] === 'owned'}))
  const removed = keyList('removed')
  const user = facts.some((f) => f.key === 'user' && f.rest === 'deleted')
    ? 'deleted'
    : facts.some((f) => f.key === 'user' && f.rest === 'absent')
      ? 'absent'
      : 'present'
  const fileFact = facts.find((f) => f.key === 'file')?.rest
  const group = facts.find((f) => f.key === 'group')?.rest
  return {
    vendor: plan.vendor,
    user,
    removed,
    kept: keyList('kept'),
    notFound: plan.mode === 'fingerprints' ? plan.fingerprints.filter((fp) => !removed.some((r) => r.fingerprint === fp)) : [],
    file: fileFact === 'written' || fileFact === 'unchanged' || fileFact === 'absent' ? fileFact : 'untouched',
    ...(group === 'deleted' || group === 'kept' ? {group} : group === 'kept_not_ours' ? {group: 'kept-not-ours' as const} : {}),
    sessionsKilled: facts.some((f) => f.key === 'sessions_killed'),
    warnings: facts.filter((f) => f.key === 'warning').map((f) => f.rest),
  }
}

export async function applyRemove(host: string, run: ScriptRunner, plan: RemovePlan): Promise<RemoveResult> {
  const result = await run(removeScript(plan))
  return readRemoveFacts(plan, checkScriptRun(host, 'vendor-remove.sh', result))
}

// --------------------------------------------------------------------------------------------------------------- list

export interface ListedKey {
  line: number
  type?: string
  bits?: number
  algorithm?: string
  fingerprint?: string
  comment?: string
  options: KeyOption[]
  /** expiry-time as written, and whether it is in the past. */
  expiry?: {value: string; expired: boolean}
  /** This line carries bastion's ownership tag (the comment above is shown without it). */
  owned: boolean
  added?: string
  kind: 'key' | 'invalid'
  problems: string[]
}

export interface ListedAccount {
  name: string
  uid: number
  gid: number
  group: string
  /** `yes`: `!` in shadow (sshd refuses key logins when UsePAM is no); `empty`: no password at all. */
  locked: 'yes' | 'no' | 'empty'
  shell: string
  home: string
  keyFile: {mode: string; uid: number; gid: number} | null
  /** Why the key file was not read: the home, ~/.ssh or authorized_keys is a link (read nothing through it). */
  keyFileUnsafe?: string
  keys: ListedKey[]
}

export interface ListResult {
  accounts: ListedAccount[]
  /** Vendors asked for that have no account on the host. */
  absent: string[]
}

export function listScript(vendor?: string): string {
  return renderScript('vendor-list.sh', {VENDOR: vendor ?? ''})
}

/** Parse `expiry-time` (YYYYMMDD[HHMM[SS]][Z]) as the server would (its time zone taken as UTC). */
export function expiryDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?Z?$/.exec(value)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)))
}

export function readListFacts(facts: ScriptFact[], now: Date = new Date()): ListResult {
  const accounts: ListedAccount[] = []
  for (const f of facts) {
    if (f.key === 'account') {
      const [name = '', uid = '', gid = '', group = '', locked = 'no', shell = '', ...home] = f.args
      accounts.push({
        name,
        uid: Number(uid),
        gid: Number(gid),
        group,
        locked: locked === 'yes' || locked === 'empty' ? locked : 'no',
        shell,
        home: home.join(' '),
        keyFile: null,
        keys: [],
      })
    } else if (f.key === 'keyfile_unsafe') {
      const [name, ...why] = f.args
      const acct = accounts.find((a) => a.name === name)
      if (acct) acct.keyFileUnsafe = why.join(' ')
    } else if (f.key === 'keyfile') {
      const [name, mode = '-', uid = '-', gid = '-', b64 = '-'] = f.args
      const acct = accounts.find((a) => a.name === name)
      if (!acct || mode === '-') continue
      acct.keyFile = {mode, uid: Number(uid), gid: Number(gid)}
      const text = Buffer.from(b64, 'base64').toString('utf8')
      acct.keys = parseAuthorizedKeys(text)
        .filter((l) => l.kind === 'key' || l.kind === 'invalid')
        .map((l) => {
          const exp = l.options.find((o) => o.name === 'expiry-time')?.value
          const at = exp ? expiryDate(exp) : undefined
          return {
            line: l.lineNo,
            ...(l.key
              ? {type: l.key.type, bits: l.key.bits, algorithm: l.key.algorithm, fingerprint: l.key.fingerprint, comment: stripOwnerTag(l.key.comment)}
              : {}),
            options: l.options,
            ...(exp ? {expiry: {value: exp, expired: at ? at.getTime() <= now.getTime() : false}} : {}),
            owned: l.owner !== undefined,
            ...(l.owner?.added ? {added: l.owner.added} : {}),
            kind: l.kind === 'key' ? 'key' : 'invalid',
            problems: l.problems,
          }
        })
    }
  }
  const absent = facts.filter((f) => f.key === 'absent').map((f) => f.rest)
  return {accounts, absent}
}

export async function applyList(host: string, run: ScriptRunner, vendor?: string): Promise<ListResult> {
  const result = await run(listScript(vendor))
  return readListFacts(checkScriptRun(host, 'vendor-list.sh', result))
}
