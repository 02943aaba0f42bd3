/**
 * `config import`: the config file that describes what a bastion has today, so an existing set-up can be adopted.
 * Pure: from the list script's facts (every account bastion manages and its authorized_keys) and, for a cloud bastion,
 * its whitelist view, to a YAML document (the `yaml` package's Document API, with comments). Only what bastion owns
 * goes in: its key lines (permitopen → databases, from= → cidrs, expiry-time → expires) and the vendor rules of the
 * allowlist. What it cannot express faithfully is said in a comment and a warning.
 */
import {Document, YAMLMap, YAMLSeq, type Node, type Pair, type Scalar} from 'yaml'
import {parseAuthorizedKeys, stripOwnerTag, type AuthorizedKeyLine} from '../access/authorized-keys.js'
import type {WhitelistRule} from '../cloud/provider.js'
import {parseHostPort} from '../input/parse.js'
import type {ScriptFact} from '../remote/script.js'
import {expiresOf} from './resolve.js'
import {CONFIG_VERSION} from './schema.js'

/** Each account's authorized_keys lines, parsed, from the list script's facts (`account` and `keyfile` lines). */
export function accountLines(facts: ScriptFact[]): Map<string, AuthorizedKeyLine[]> {
  const out = new Map<string, AuthorizedKeyLine[]>()
  for (const f of facts) {
    if (f.key === 'account' && f.args[0]) out.set(f.args[0], [])
    if (f.key !== 'keyfile') continue
    const [name, mode = '-', , , b64 = '-'] = f.args
    if (!name || mode === '-' || b64 === '-') continue
    out.set(name, parseAuthorizedKeys(Buffer.from(b64, 'base64').toString('utf8')))
  }
  return out
}

export interface ImportInput {
  /** The name under `bastions:`. */
  bastion: string
  ssh: {host?: string; user?: string; port?: number; identity?: string; jump?: string; knownHosts?: string; hostKey?: string}
  cloud?: {provider: string; region?: string; name?: string}
  /** Every account bastion manages, with its key lines. */
  accounts: Map<string, AuthorizedKeyLine[]>
  /** The rules in front of the SSH port (cloud bastions). */
  rules?: WhitelistRule[]
  /** For the heading comment: where and when this was read. */
  from: string
  today: string
}

export interface ImportResult {
  yaml: string
  vendors: string[]
  keys: number
  rules: number
  databases: number
  warnings: string[]
}

/** A name for a database under `databases:`, from its host and port (letters, digits, `.`, `_`, `-`). */
export function databaseName(host: string, port: number): string {
  const h = host.replace(/^\[|\]$/g, '').replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '')
  return `${h || 'db'}-${port}`.slice(0, 63)
}

function flowSeq(doc: Document, items: string[]): YAMLSeq {
  const seq = doc.createNode(items) as YAMLSeq
  seq.flow = true
  return seq
}

/** The YAML of what the bastion has. */
export function importConfig(input: ImportInput): ImportResult {
  const warnings: string[] = []
  const databases = new Map<string, {host: string; port: number}>()
  const vendors: {name: string; cidrs: string[]; anywhere: boolean; keys: {line: string; expires?: string}[]; databases: string[]; notes: string[]}[] = []
  let keyCount = 0

  for (const [name, lines] of [...input.accounts.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const owned = lines.filter((l) => l.kind === 'key' && l.owner && l.key)
    const notes: string[] = []
    const others = lines.filter((l) => l.kind === 'key' && !l.owner).length
    if (others > 0) notes.push(`${others} key line(s) bastion did not write are on the host and not listed here (doctor reports them as unmanaged)`)
    const ruleCidrs = (input.rules ?? []).filter((r) => r.role === 'vendor' && r.vendor === name).map((r) => r.cidr)
    if (owned.length === 0) {
      warnings.push(`${name}: no key line bastion owns; left out (a vendor in the file needs at least one key)`)
      continue
    }
    const froms = owned.map((l) => l.options.filter((o) => o.name === 'from' && o.value).flatMap((o) => (o.value as string).split(',')))
    const dests = owned.map((l) => l.options.filter((o) => o.name === 'permitopen' && o.value).map((o) => o.value as string))
    const sameFrom = froms.every((f) => [...f].sort().join() === [...(froms[0] ?? [])].sort().join())
    const sameDest = dests.every((d) => [...d].sort().join() === [...(dests[0] ?? [])].sort().join())
    if (!sameFrom) {
      notes.push('its keys allow different source addresses (from=); the file has one list per vendor: the union is written, doctor reports the difference')
      warnings.push(`${name}: keys with different from= lists; the union is written`)
    }
    if (!sameDest) {
      notes.push('its keys reach different databases (permitopen); the file has one list per vendor: the union is written, doctor reports the difference')
      warnings.push(`${name}: keys with different permitopen lists; the union is written`)
    }
    const fromAll = [...new Set(froms.flat())]
    const anywhere = froms.some((f) => f.length === 0)
    if (anywhere) {
      notes.push('a key has no from= restriction: it works from any address (cidrs 0.0.0.0/0 and ::/0, allowAnywhere)')
      warnings.push(`${name}: a key without from= works from any address; written as 0.0.0.0/0 and ::/0 with allowAnywhere`)
    }
    const cidrs = anywhere ? ['0.0.0.0/0', '::/0'] : [...new Set([...fromAll.map((c) => (c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`)), ...ruleCidrs])]
    const dbNames: string[] = []
    for (const d of [...new Set(dests.flat())]) {
      let hp
      try {
        hp = parseHostPort(d, `${name}'s permitopen`)
      } catch {
        notes.push(`permitopen "${d}" is not a host:port the file can hold; left out`)
        continue
      }
      const n = databaseName(hp.host, hp.port)
      databases.set(n, {host: hp.host, port: hp.port})
      if (!dbNames.includes(n)) dbNames.push(n)
    }
    const keys = owned.map((l) => {
      const k = l.key as NonNullable<AuthorizedKeyLine['key']>
      const comment = stripOwnerTag(k.comment)
      const expiry = l.options.find((o) => o.name === 'expiry-time')?.value
      keyCount++
      return {line: `${k.type} ${k.base64}${comment ? ` ${comment}` : ''}`, ...(expiry ? {expires: expiresOf(expiry)} : {})}
    })
    vendors.push({name, cidrs, anywhere, keys, databases: dbNames, notes})
  }
  for (const r of input.rules ?? [])
    if (r.role === 'vendor' && r.vendor && !vendors.some((v) => v.name === r.vendor))
      warnings.push(`the allowlist admits ${r.vendor} from ${r.cidr}, but the host has no account of it with a bastion key; left out`)

  const doc = new Document({})
  doc.commentBefore = [
    ` Written by bastion config import from ${input.from} on ${input.today}.`,
    ' What bastion owns there: vendor accounts with bastion key lines, and the allowlist rules it wrote.',
    ' Review it, keep it in git, then: bastion doctor --config <this file>   (reports drift) and bastion apply --config <this file>',
  ].join('\n')
  const root = doc.contents as YAMLMap
  root.set('version', CONFIG_VERSION)
  const dbMap = new YAMLMap()
  for (const [n, d] of [...databases.entries()].sort(([a], [b]) => a.localeCompare(b))) dbMap.set(n, doc.createNode({host: d.host, port: d.port}))
  root.set('databases', dbMap)
  const vMap = new YAMLMap()
  for (const v of vendors) {
    const node = new YAMLMap()
    node.set('cidrs', flowSeq(doc, v.cidrs))
    if (v.anywhere) node.set('allowAnywhere', true)
    const keys = new YAMLSeq()
    for (const k of v.keys) keys.add(k.expires ? doc.createNode({key: k.line, expires: k.expires}) : doc.createNode(k.line))
    node.set('keys', keys)
    node.set('databases', flowSeq(doc, v.databases))
    vMap.set(v.name, node)
    if (v.notes.length > 0) {
      const pair = vMap.items.at(-1) as Pair<Scalar, Node>
      pair.key = doc.createNode(v.name) as Scalar
      pair.key.commentBefore = v.notes.map((n) => ` ${n}`).join('\n')
    }
  }
  root.set('vendors', vMap)
  const bastion = new YAMLMap()
  if (input.cloud) {
    const cloud: Record<string, string> = {provider: input.cloud.provider}
    if (input.cloud.region) cloud.region = input.cloud.region
    if (input.cloud.name && input.cloud.name !== input.bastion) cloud.name = input.cloud.name
    const c = doc.createNode(cloud) as YAMLMap
    c.flow = true
    bastion.set('cloud', c)
  }
  const ssh = Object.fromEntries(Object.entries(input.ssh).filter(([, v]) => v !== undefined && v !== ''))
  if (Object.keys(ssh).length > 0) bastion.set('ssh', doc.createNode(ssh))
  bastion.set('vendors', flowSeq(doc, vendors.map((v) => v.name)))
  const bMap = new YAMLMap()
  bMap.set(input.bastion, bastion)
  root.set('bastions', bMap)
  return {
    yaml: doc.toString({lineWidth: 0}),
    vendors: vendors.map((v) => v.name),
    keys: keyCount,
    rules: (input.rules ?? []).filter((r) => r.role === 'vendor' && vendors.some((v) => v.name === r.vendor)).length,
    databases: databases.size,
    warnings,
  }
}
