/**
 * keys checks: the vendor's key is in authorized_keys (by fingerprint, whatever its options or comment), every line
 * is one sshd can read, the key is strong enough, and the options of its line let the tunnel through (port
 * forwarding on, permitopen naming each database, from= admitting the vendor's addresses, expiry-time in the future).
 * Options are read the way sshd does (auth-options.c sshauthopt_parse: in order, so a later flag overrides restrict).
 */
import type {KeyOption} from '../../access/authorized-keys.js'
import type {PublicKey} from '../../access/keys.js'
import type {Check, CheckContext, Finding, Fix} from '../types.js'
import {matchHostAndIp, openAllows, parseOpenPermission, sampleAddresses} from './match.js'
import {
  addKeyCommand,
  describeKey,
  finding,
  keyFiles,
  list,
  plural,
  q,
  useDns,
  vendorLines,
  where,
  type Verdict,
  type VendorLine,
} from './util.js'

const AREA = 'keys'

// --------------------------------------------------------------------------------------------- key options

export interface LineOptions {
  /** Port forwarding after applying the flags in order (restrict, port-forwarding, no-port-forwarding). */
  portForwarding: boolean
  /** The flag that decided portForwarding last, e.g. `restrict` or `no-port-forwarding` ('' = default). */
  forwardingBy: string
  restrict: boolean
  permitOpen: string[]
  from?: string
  expiryTimes: string[]
  command?: string
  certAuthority: boolean
}

export function lineOptions(options: KeyOption[]): LineOptions {
  const out: LineOptions = {portForwarding: true, forwardingBy: '', restrict: false, permitOpen: [], expiryTimes: [], certAuthority: false}
  for (const o of options) {
    switch (o.name) {
      case 'restrict':
        out.restrict = true
        out.portForwarding = false
        out.forwardingBy = 'restrict'
        break
      case 'port-forwarding':
        out.portForwarding = true
        out.forwardingBy = 'port-forwarding'
        break
      case 'no-port-forwarding':
        out.portForwarding = false
        out.forwardingBy = 'no-port-forwarding'
        break
      case 'permitopen':
        if (o.value !== undefined) out.permitOpen.push(o.value)
        break
      case 'from':
        if (o.value !== undefined) out.from = o.value
        break
      case 'expiry-time':
        if (o.value !== undefined) out.expiryTimes.push(o.value)
        break
      case 'command':
        if (o.value !== undefined) out.command = o.value
        break
      case 'cert-authority':
        out.certAuthority = true
        break
    }
  }
  return out
}

/** OpenSSH's parse_absolute_time: YYYYMMDD[HHMM[SS]], optionally Z or UTC (else the bastion's local time zone). */
export function parseExpiryTime(text: string): {at: Date; utc: boolean} | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z|UTC)?$/i.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h = '00', mi = '00', s = '00', z] = m
  const at = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)))
  if (at.getUTCMonth() !== Number(mo) - 1 || at.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined
  return {at, utc: z !== undefined}
}

// -------------------------------------------------------------------------------------------------- helpers

function judgedLines(ctx: CheckContext): VendorLine[] {
  return vendorLines(ctx).filter((v) => !lineOptions(v.line.options).certAuthority)
}

function lineTitle(base: string, v: VendorLine, many: boolean): string {
  return many ? `${base} (${where(v)})` : base
}

/**
 * The add-vendor-key command that rewrites the vendor's line as a least-privilege line — offered only when that loses
 * nothing the line restricts (no expiry-time; from= only when --vendor-ip replaces it), since --fix applies it.
 */
function losesRestrictions(ctx: CheckContext, v: VendorLine): boolean {
  const o = lineOptions(v.line.options)
  return o.expiryTimes.length > 0 || (o.from !== undefined && ctx.input.vendorIps.length === 0)
}

function rewriteFix(ctx: CheckContext, v: VendorLine): Fix | undefined {
  if (ctx.input.dbs.length === 0 || losesRestrictions(ctx, v)) return undefined
  if (!ctx.input.key && v.line.key) return {command: addKeyCommand({...ctx, input: {...ctx.input, key: v.line.key}})}
  return {command: addKeyCommand(ctx)}
}

/** What to run by hand when the rewrite is not offered as a fix (it would drop the line's from= or expiry-time). */
function rewriteHint(v: VendorLine): string {
  const o = lineOptions(v.line.options)
  return ` Rewrite ${where(v)} as bastion does, keeping its restrictions (bastion add-vendor-key … --db <db>${o.from !== undefined ? ' --vendor-ip <vendor CIDRs>' : ''}${o.expiryTimes.length ? ' --expires <date>' : ''}), or edit it by hand.`
}

function noLines(ctx: CheckContext, id: string, title: string): Finding[] | undefined {
  if (judgedLines(ctx).length > 0) return undefined
  return [finding(AREA, id, title, {status: 'skip', seen: ctx.input.key ? 'no line sshd accepts carries the vendor\'s key (see keys.present)' : 'no key line sshd accepts (see keys.present)'})]
}

/** A check judged once per vendor key line: a skip when there is none; titles name the line when there are several. */
function perLine(id: string, title: string, judge: (v: VendorLine, o: ReturnType<typeof lineOptions>, t: string, ctx: CheckContext) => Finding): Check {
  return {
    ids: [id],
    area: AREA,
    run(ctx) {
      const skip = noLines(ctx, id, title)
      if (skip) return skip
      const lines = judgedLines(ctx)
      return lines.map((v) => judge(v, lineOptions(v.line.options), lineTitle(title, v, lines.length > 1), ctx))
    },
  }
}

// ---------------------------------------------------------------------------------------------------- checks

export const keysPresent: Check = {
  ids: ['keys.present'],
  area: AREA,
  run(ctx) {
    const {facts, input} = ctx
    const title = input.key ? `the vendor's key ${input.key.fingerprint} is in authorized_keys` : 'authorized_keys holds a key'
    const addFix: Fix = {command: addKeyCommand(ctx)}
    if (!facts.user.exists) {
      if (!input.key) return [finding(AREA, 'keys.present', title, {status: 'skip', seen: `user ${input.vendor} does not exist (see user.exists), and no --key-file was given`})]
      return [finding(AREA, 'keys.present', title, {
        status: 'fail',
        seen: `user ${input.vendor} does not exist, so no key is installed`,
        why: 'the vendor gets "Permission denied (publickey)"; add-vendor-key creates the user and adds the key as a least-privilege line',
        fix: addFix,
      })]
    }
    if (facts.authorizedKeys.length === 0) {
      return [finding(AREA, 'keys.present', title, {
        status: 'fail',
        seen: 'sshd reads no authorized_keys file for the user (AuthorizedKeysFile none)',
        why: 'no key can match: "Permission denied (publickey)"; see sshd.authorized_keys_file',
      })]
    }
    const files = keyFiles(facts)
    const existing = files.filter((f) => f.exists)
    const unread = existing.filter((f) => f.lines === undefined)
    const all = files.flatMap((f) => (f.lines ?? []).map((line) => ({file: f.path, line})))
    const valid = all.filter((v) => v.line.kind === 'key' && v.line.key)
    if (!input.key) {
      if (valid.length > 0) {
        return [finding(AREA, 'keys.present', title, {
          status: 'skip',
          seen: `no --key-file given, so which key is the vendor's is unknown; ${plural(valid.length, 'key line')} (${valid.map((v) => `${where(v)}: ${v.line.key!.fingerprint}`).join(', ')}) are judged below`,
        })]
      }
      if (unread.length > 0) return [finding(AREA, 'keys.present', title, {status: 'skip', seen: `${list(unread.map((f) => f.path))} could not be read`})]
      return [finding(AREA, 'keys.present', title, {
        status: 'fail',
        seen: existing.length === 0 ? `${list(files.map((f) => f.path), 'nor')} exists` : `no line sshd accepts in ${list(existing.map((f) => f.path))}`,
        why: 'sshd has no key for the user: "Permission denied (publickey)"',
        fix: addFix,
      })]
    }
    const fp = input.key.fingerprint
    const mine = all.filter((v) => v.line.key?.fingerprint === fp)
    const ok = mine.filter((v) => v.line.kind === 'key' && !lineOptions(v.line.options).certAuthority)
    if (ok.length > 0) {
      const first = ok[0]!
      return [finding(AREA, 'keys.present', title, {
        status: 'pass',
        seen: `${where(first)}${first.line.optionsText ? ` with ${first.line.optionsText}` : ' (no options)'}${first.line.owner ? ` [bastion:vendor=${first.line.owner.vendor}]` : ''}${ok.length > 1 ? `; also on ${ok.slice(1).map(where).join(', ')}` : ''}`,
      })]
    }
    if (unread.length > 0 && mine.length === 0) return [finding(AREA, 'keys.present', title, {status: 'skip', seen: `${list(unread.map((f) => f.path))} could not be read`})]
    const hints: string[] = []
    const ca = mine.filter((v) => v.line.kind === 'key' && lineOptions(v.line.options).certAuthority)
    if (ca.length > 0) hints.push(`${list(ca.map(where))} carries the key with cert-authority, which makes it a CA for certificates, not a key that logs in`)
    for (const v of mine.filter((m) => m.line.kind === 'invalid')) hints.push(`${where(v)} carries the key but sshd ignores that line: ${v.line.problems.join(' ')}`)
    const tagged = valid.filter((v) => v.line.owner?.vendor === input.vendor && v.line.key!.fingerprint !== fp)
    if (tagged.length > 0) hints.push(`${list(tagged.map((v) => `${where(v)} (${v.line.key!.fingerprint})`))} is tagged for ${input.vendor} but holds a different key: did the vendor rotate its key, or is --key-file the wrong one?`)
    const cut = facts.authorizedKeys.filter((a) => a.truncated)
    if (cut.length > 0) hints.push(`${list(cut.map((a) => a.path))} is larger than 1 MiB and only its start was read`)
    const wrapped = all.filter((v) => v.line.problems.some((p) => /wrapped/.test(p)))
    if (wrapped.length > 0) hints.push(`${list(wrapped.map(where))} look like a key wrapped over several lines`)
    const seen = existing.length === 0
      ? `${list(files.map((f) => f.path), 'nor')} exists`
      : `no line sshd accepts has ${fp} (${plural(valid.length, 'other key line')} in ${list(existing.map((f) => f.path))})`
    // add-vendor-key rewrites the first line carrying the key in place: not automatically when that drops restrictions.
    const lossy = mine.find((v) => losesRestrictions(ctx, v))
    return [finding(AREA, 'keys.present', title, {
      status: 'fail',
      seen: [seen, ...hints].join('; '),
      why: `sshd does not know the vendor's key: "Permission denied (publickey)" (Hevo: "Unable to verify SSH details"). add-vendor-key adds it as a least-privilege line, or rewrites the line that carries it in place.${lossy ? rewriteHint(lossy) : ''}`,
      ...(lossy ? {} : {fix: addFix}),
    })]
  },
}

const STRENGTH = /DSA keys|RSA key has \d+ bits/

export const keysLines: Check = {
  ids: ['keys.line'],
  area: AREA,
  run(ctx) {
    const {input} = ctx
    const files = keyFiles(ctx.facts).filter((f) => f.lines !== undefined)
    const title = 'authorized_keys lines are well-formed'
    if (files.length === 0) return [finding(AREA, 'keys.line', title, {status: 'skip', seen: 'no authorized_keys content to read (see files.authorized_keys.exists)'})]
    const out: Finding[] = []
    for (const f of files) {
      for (const line of f.lines!) {
        const problems = line.problems.filter((p) => !STRENGTH.test(p))
        if (problems.length === 0) continue
        const at = `${f.path} line ${line.lineNo}`
        const isVendorKey = line.key !== undefined && (input.key ? line.key.fingerprint === input.key.fingerprint : true)
        const crlf = problems.some((p) => /carriage return/.test(p))
        const dup = problems.some((p) => /same key is also on line/.test(p))
        const wrapped = problems.some((p) => /wrapped/.test(p))
        let v: Verdict
        if (line.kind === 'invalid' && isVendorKey) {
          const fix = rewriteFix(ctx, {file: f.path, line})
          v = {
            status: 'fail',
            seen: `${at}: ${problems.join(' ')}`,
            why: `this line carries the vendor's key, but sshd ignores the whole line: "Permission denied (publickey)".${fix ? ' bastion add-vendor-key replaces the line in place' : rewriteHint({file: f.path, line})}`,
            ...(fix ? {fix} : {}),
          }
        } else if (line.kind === 'invalid') {
          v = {
            status: 'warn',
            seen: `${at}: ${problems.join(' ')}`,
            why: wrapped
              ? 'authorized_keys needs each key on one line: this piece of a wrapped key is ignored, and so is its other half. Delete the pieces and add the key again with bastion add-vendor-key'
              : 'sshd ignores this line; if it was meant to let someone in, it does not',
            fix: {command: `sed -i ${q(`${line.lineNo}d`)} ${q(f.path)}`},
          }
        } else if (dup) {
          v = {
            status: 'warn',
            seen: `${at}: ${problems.join(' ')}`,
            why: 'sshd uses the first line with this key whose from=/expiry-time let the login in, so this line\'s options may never apply (or may widen access): keep one line per key',
            fix: {command: `sed -i ${q(`${line.lineNo}d`)} ${q(f.path)}`},
          }
        } else if (crlf) {
          v = {
            status: 'warn',
            seen: `${at}: ${problems.join(' ')}`,
            why: 'sshd reads the key, but Windows line endings show the file was edited on Windows; an editor may also have added invisible characters elsewhere',
            fix: {command: `sed -i ${q('s/\\r$//')} ${q(f.path)}`},
          }
        } else {
          v = {status: 'warn', seen: `${at}: ${problems.join(' ')}`, why: 'sshd reads the line, but it is not written the usual way'}
        }
        out.push(finding(AREA, 'keys.line', `${title} (${at})`, v))
      }
    }
    if (out.length > 0) return out
    const n = files.reduce((acc, f) => acc + f.lines!.filter((l) => l.kind === 'key').length, 0)
    return [finding(AREA, 'keys.line', title, {status: 'pass', seen: `${plural(n, 'key line')} in ${list(files.map((f) => f.path))}, all well-formed`})]
  },
}

export const keysStrength: Check = {
  ids: ['keys.strength'],
  area: AREA,
  run(ctx) {
    const {input, facts} = ctx
    const title = 'key type and size'
    let keys: {key: PublicKey; at: string}[]
    if (input.key) keys = [{key: input.key, at: '--key-file'}]
    else {
      const seen = new Map<string, {key: PublicKey; at: string}>()
      for (const f of keyFiles(facts)) for (const l of f.lines ?? []) if (l.key && !seen.has(l.key.fingerprint)) seen.set(l.key.fingerprint, {key: l.key, at: `${f.path} line ${l.lineNo}`})
      keys = [...seen.values()]
    }
    if (keys.length === 0) return [finding(AREA, 'keys.strength', title, {status: 'skip', seen: 'no key to judge (give --key-file, or see keys.present)'})]
    return keys.map(({key, at}) => {
      const t = keys.length > 1 ? `${title} (${at})` : title
      const removeFix: Fix = {command: `bastion remove-vendor-key --host ${q(input.host || facts.hostname || '<bastion-host>')} --vendor ${q(input.vendor)} --fingerprint ${q(key.fingerprint)}`}
      if (key.algorithm === 'DSA') {
        return finding(AREA, 'keys.strength', t, {
          status: 'fail',
          seen: `${describeKey(key)}: a DSA key`,
          why: 'DSA is disabled since OpenSSH 7.0 and removed in OpenSSH 10: sshd refuses it ("Permission denied (publickey)", or the client says "no mutual signature algorithm"). Ask the vendor for an ed25519 (or ECDSA) key, add it, then remove this one',
          fix: removeFix,
        })
      }
      if (key.algorithm === 'RSA' && key.bits < 2048) {
        return finding(AREA, 'keys.strength', t, {
          status: 'fail',
          seen: `${describeKey(key)}: RSA with ${key.bits} bits`,
          why: `${key.bits < 1024 ? 'OpenSSH refuses RSA keys under 1024 bits outright' : 'RSA under 2048 bits is breakable and refused by current policy (OpenSSH 9.x warns, hardened configurations reject it)'}: ask the vendor for an ed25519 key (or RSA of 3072 bits), add it, then remove this one`,
          fix: removeFix,
        })
      }
      const note = key.algorithm === 'RSA' ? ' (RSA: see sshd.pubkey_algorithms for the SHA-1 signature question)' : ''
      return finding(AREA, 'keys.strength', t, {status: 'pass', seen: `${describeKey(key)}${note}`})
    })
  },
}

export const keysForwarding: Check = perLine('keys.options.forwarding', 'the key line allows port forwarding', (v, o, t, ctx) => {
  if (o.portForwarding) {
    const how = o.restrict ? 'restrict, then port-forwarding: local forwarding allowed' : o.forwardingBy === 'port-forwarding' ? 'port-forwarding' : 'the line does not restrict forwarding'
    const broad = o.restrict ? '' : ' (no restrict: the key also allows a pty, agent and X11 forwarding; bastion writes restrict,port-forwarding)'
    return finding(AREA, 'keys.options.forwarding', t, {status: 'pass', seen: `${where(v)}: ${how}${broad}`})
  }
  const fix = rewriteFix(ctx, v)
  return finding(AREA, 'keys.options.forwarding', t, {
    status: 'fail',
    seen: `${where(v)}: ${o.forwardingBy === 'restrict' ? '"restrict" without a later "port-forwarding"' : '"no-port-forwarding"'} (${v.line.optionsText})`,
    why: `the key logs in, but every forward is refused: "channel 2: open failed: administratively prohibited: open failed".${fix ? ' add-vendor-key rewrites the line as restrict,port-forwarding,permitopen="<db>"' : rewriteHint(v)}`,
    ...(fix ? {fix} : {}),
  })
})

export const keysPermitOpen: Check = {
  ids: ['keys.options.permitopen'],
  area: AREA,
  run(ctx) {
    const {input} = ctx
    const title = 'the key line\'s permitopen allows the database'
    if (input.dbs.length === 0) return [finding(AREA, 'keys.options.permitopen', title, {status: 'skip', seen: 'no --db given: no database to judge permitopen against'})]
    const skip = noLines(ctx, 'keys.options.permitopen', title)
    if (skip) return skip
    const lines = judgedLines(ctx)
    const out: Finding[] = []
    for (const v of lines) {
      const o = lineOptions(v.line.options)
      for (const db of input.dbs) {
        const t = `${lineTitle(title, v, lines.length > 1)}: ${db.text}`
        if (!o.portForwarding) {
          out.push(finding(AREA, 'keys.options.permitopen', t, {status: 'skip', seen: `${where(v)} allows no forwarding at all (see keys.options.forwarding)`}))
          continue
        }
        if (o.permitOpen.length === 0) {
          out.push(finding(AREA, 'keys.options.permitopen', t, {status: 'pass', seen: `${where(v)} has no permitopen: any destination sshd's PermitOpen allows`}))
          continue
        }
        const perms = o.permitOpen.map((p) => ({text: p, p: parseOpenPermission(p)}))
        const bad = perms.filter((x) => !x.p)
        const fix = rewriteFix(ctx, v)
        if (bad.length > 0) {
          out.push(finding(AREA, 'keys.options.permitopen', t, {
            status: 'fail',
            seen: `${where(v)}: permitopen="${bad[0]!.text}" is not host:port`,
            why: `sshd rejects the whole line ("bad key options: invalid permission"), so the key does not log in: "Permission denied (publickey)".${fix ? '' : rewriteHint(v)}`,
            ...(fix ? {fix} : {}),
          }))
          continue
        }
        const shown = o.permitOpen.map((p) => `permitopen="${p}"`).join(',')
        const hit = perms.find((x) => openAllows(x.p!, db.host, db.port))
        if (hit) {
          out.push(finding(AREA, 'keys.options.permitopen', t, {status: 'pass', seen: `${where(v)}: ${shown} (${hit.text} matches)`}))
          continue
        }
        const addrs = ctx.facts.network.find((n) => n.host === db.host)?.addresses ?? []
        const alias = perms.find((x) => addrs.some((a) => openAllows(x.p!, a, db.port)))
        if (alias) {
          out.push(finding(AREA, 'keys.options.permitopen', t, {
            status: 'warn',
            seen: `${where(v)}: ${shown} names ${alias.text}, the address ${db.host} resolves to, not ${db.text}`,
            why: `sshd compares the host the vendor asks for literally: a vendor that enters ${db.host} in its form is refused ("administratively prohibited: open failed"), one that enters ${alias.p!.host} gets through. Tell the vendor which to enter, or list both.${fix ? '' : rewriteHint(v)}`,
            ...(fix ? {fix} : {}),
          }))
          continue
        }
        out.push(finding(AREA, 'keys.options.permitopen', t, {
          status: 'fail',
          seen: `${where(v)}: ${shown} does not include ${db.text}`,
          why: `sshd refuses the vendor's forward to ${db.text}: "channel 2: open failed: administratively prohibited: open failed". sshd compares host and port literally (no DNS lookup; only a port of "*" is a wildcard): a vendor that asks for a name when the line names an address (or the other way round) is refused too.${fix ? ' add-vendor-key rewrites the line with a permitopen for every --db' : rewriteHint(v)}`,
          ...(fix ? {fix} : {}),
        }))
      }
    }
    return out
  },
}

export const keysFrom: Check = perLine('keys.options.from', 'the key line\'s from= admits the vendor\'s addresses', (v, o, t, ctx) => {
  const {input, facts} = ctx
  if (o.from === undefined) return finding(AREA, 'keys.options.from', t, {status: 'pass', seen: `${where(v)} has no from=: any source address`})
  if (input.vendorIps.length === 0) return finding(AREA, 'keys.options.from', t, {status: 'skip', seen: `${where(v)} has from="${o.from}"; give --vendor-ip to judge it against the vendor's addresses`})
  const fix = rewriteFix(ctx, v)
  const judged = input.vendorIps.map((cidr) => {
    const samples = sampleAddresses(cidr, o.from)
    const res = samples.map((ip) => ({ip, r: matchHostAndIp(ip, ip, o.from!)}))
    return {cidr, samples, res}
  })
  if (judged.some((j) => j.res.some((x) => x.r === -1))) {
    return finding(AREA, 'keys.options.from', t, {
      status: 'fail',
      seen: `${where(v)}: from="${o.from}" has an invalid address entry (a CIDR with host bits set, or a mask too long)`,
      why: `sshd treats the whole from= as not matching ("invalid from criteria"), so the key never logs in: "Permission denied (publickey)".${fix ? '' : rewriteHint(v)}`,
      ...(fix ? {fix} : {}),
    })
  }
  const none = judged.filter((j) => j.samples.length > 0 && j.res.every((x) => x.r !== 1))
  const some = judged.filter((j) => j.res.some((x) => x.r === 1) && j.res.some((x) => x.r !== 1))
  const unparsed = judged.filter((j) => j.samples.length === 0).map((j) => j.cidr)
  const names = o.from.split(',').map((e) => e.replace(/^!/, '')).filter((e) => /[a-z]/i.test(e.replace(/^[0-9a-f:.]+(\/\d+)?$/i, '')))
  const dnsNote = names.length > 0 ? ` (host-name patterns ${names.join(', ')} match only with UseDNS yes and a reverse DNS name${useDns(facts) ? '' : '; this sshd has UseDNS no, so they compare against the address text'})` : ''
  if (none.length > 0) {
    return finding(AREA, 'keys.options.from', t, {
      status: 'fail',
      seen: `${where(v)}: from="${o.from}" admits none of ${list(none.map((j) => j.cidr))}${dnsNote}`,
      why: `sshd refuses the key from the vendor's address: "Permission denied (publickey)"; sshd logs "Authentication tried for ${input.vendor} with correct key but not from a permitted host".${fix ? ' add-vendor-key rewrites from= with the --vendor-ip addresses' : rewriteHint(v)}`,
      ...(fix ? {fix} : {}),
    })
  }
  if (some.length > 0) {
    const missed = some.map((j) => `${j.cidr} (e.g. ${j.res.find((x) => x.r !== 1)!.ip} is refused)`)
    return finding(AREA, 'keys.options.from', t, {
      status: 'warn',
      seen: `${where(v)}: from="${o.from}" admits only part of ${list(missed)}${dnsNote}`,
      why: 'connections from the other addresses of the vendor\'s range are refused ("Permission denied (publickey)"): vendors rotate among their published addresses, so the tunnel fails now and then',
      ...(fix ? {fix} : {}),
    })
  }
  const un = unparsed.length > 0 ? ` (not judged: ${unparsed.join(', ')} is not an address or CIDR)` : ''
  return finding(AREA, 'keys.options.from', t, {status: 'pass', seen: `${where(v)}: from="${o.from}" admits ${list(input.vendorIps.filter((c) => !unparsed.includes(c)))}${un}${dnsNote}`})
})

export const keysExpiry: Check = perLine('keys.options.expiry', 'the key line has not expired (expiry-time)', (v, o, t, ctx) => {
  if (o.expiryTimes.length === 0) return finding(AREA, 'keys.options.expiry', t, {status: 'pass', seen: `${where(v)} has no expiry-time`})
  const parsed = o.expiryTimes.map((e) => ({text: e, p: parseExpiryTime(e)}))
  const bad = parsed.find((x) => !x.p)
  if (bad) {
    return finding(AREA, 'keys.options.expiry', t, {
      status: 'fail',
      seen: `${where(v)}: expiry-time="${bad.text}" is not YYYYMMDD[HHMM[SS]][Z]`,
      why: 'sshd rejects the whole line ("invalid expires time"), so the key does not log in: "Permission denied (publickey)"',
    })
  }
  // sshd keeps the earliest expiry-time of a line.
  const earliest = parsed.reduce((a, b) => (b.p!.at < a.p!.at ? b : a))
  const at = earliest.p!.at
  const tz = earliest.p!.utc ? 'UTC' : 'the bastion\'s local time (taken as UTC here; cloud images run in UTC)'
  const shown = `expiry-time="${earliest.text}" (${at.toISOString().replace('.000Z', 'Z')}, ${tz})`
  const days = (at.getTime() - ctx.now.getTime()) / 86_400_000
  if (days <= 0) {
    return finding(AREA, 'keys.options.expiry', t, {
      status: 'fail',
      seen: `${where(v)}: ${shown} is past`,
      why: `sshd refuses an expired key: "Permission denied (publickey)"; sshd logs "key expired". If the vendor should keep access, re-add the key with a new date: bastion add-vendor-key … --expires <YYYY-MM-DD> (it updates the line in place)`,
    })
  }
  if (days <= 7) {
    return finding(AREA, 'keys.options.expiry', t, {
      status: 'warn',
      seen: `${where(v)}: ${shown}, in ${days.toFixed(1)} day(s)`,
      why: 'the vendor\'s tunnel stops then; if access should continue, re-add the key with bastion add-vendor-key … --expires <later date>',
    })
  }
  return finding(AREA, 'keys.options.expiry', t, {status: 'pass', seen: `${where(v)}: ${shown}`})
})

export const keysCommand: Check = perLine('keys.options.command', 'forced command (command=)', (v, o, t, ctx) => {
  if (o.command === undefined) {
    const shell = ctx.facts.user.shell
    if (shell !== undefined && !/\/(nologin|false)$/.test(shell)) {
      const fix = rewriteFix(ctx, v)
      return finding(AREA, 'keys.options.command', t, {
        status: 'warn',
        seen: `${where(v)} forces no command and ${ctx.facts.user.name}'s shell is ${shell}: \`ssh ${ctx.facts.user.name}@<bastion> <command>\` runs that command on the bastion`,
        why: `restrict stops ptys and forwarding, not commands: with a login shell the vendor's key can run anything ${ctx.facts.user.name} can. bastion's lines carry command="/bin/false", which a tunnel (ssh -N, direct-tcpip) never runs.${fix ? '' : rewriteHint(v)}`,
        ...(fix ? {fix} : {}),
      })
    }
    return finding(AREA, 'keys.options.command', t, {status: 'pass', seen: `${where(v)} forces no command; the shell ${shell ?? '(unknown)'} runs none either`})
  }
  return finding(AREA, 'keys.options.command', t, {
    status: 'pass',
    seen: `${where(v)}: command="${o.command}" runs only when the client opens a session; a tunnel (ssh -N, direct-tcpip) opens none and still works`,
  })
})

/** keys checks in report order. */
export const keysChecks: Check[] = [keysPresent, keysLines, keysStrength, keysForwarding, keysPermitOpen, keysFrom, keysExpiry, keysCommand]
