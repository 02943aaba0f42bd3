/**
 * sshd checks: the daemon runs and listens, its configuration is valid, and the effective settings for the vendor
 * (sshd -T -C user=…,addr=…, so Match blocks count) let the vendor's key in and allow a local forward to each database.
 */
import type {Check, CheckContext, SshdEffective} from '../types.js'
import {matchPattern, matchUser, openAllows, parseAddr, parseOpenPermission} from './match.js'
import {
  MATCH_NOTE,
  RELOAD_SSHD,
  finding,
  grepSshdConfig,
  installSshCommand,
  upgradeSshCommand,
  list,
  matchBlockFix,
  perSpec,
  q,
  settingLine,
  settingList,
  specAddr,
  useDns,
  vendorKeys,
  type Verdict,
} from './util.js'

const AREA = 'sshd'

function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  return /^127\./.test(a) || a === '::1' || a === 'localhost'
}

function sshdOwns(process: string | undefined): boolean {
  return process === undefined || /sshd|systemd/.test(process)
}

// ------------------------------------------------------------------------------------------------- the daemon

/** A check judged on each sshd -T output (one per vendor address), with perSpec's merging of identical verdicts. */
function specCheck(id: string, title: string, judge: (eff: SshdEffective, ctx: CheckContext) => Verdict): Check {
  return {ids: [id], area: AREA, run: (ctx) => perSpec(ctx, AREA, id, title, (eff) => judge(eff, ctx))}
}

export const sshdRunning: Check = {
  ids: ['sshd.running'],
  area: AREA,
  run({facts}) {
    const title = 'sshd is installed and running'
    if (!facts.sshd.binary) {
      return [finding(AREA, 'sshd.running', title, {
        status: 'fail',
        seen: 'no sshd binary was found on the bastion',
        why: 'without an SSH server the vendor cannot connect at all ("Connection refused")',
        fix: {command: installSshCommand(facts)},
      })]
    }
    if (!facts.sshd.running) {
      return [finding(AREA, 'sshd.running', title, {
        status: 'fail',
        seen: `${facts.sshd.binary} is installed but no sshd process runs`,
        why: 'the vendor\'s connection is refused ("Connection refused") or times out',
        fix: {command: 'systemctl enable --now ssh 2>/dev/null || systemctl enable --now sshd'},
      })]
    }
    return [finding(AREA, 'sshd.running', title, {status: 'pass', seen: `${facts.sshd.binary} runs (pid ${facts.sshd.pids.join(', ') || '?'})`})]
  },
}

export const sshdListening: Check = {
  ids: ['sshd.listening'],
  area: AREA,
  run({facts, input}) {
    const port = input.sshPort
    const title = `sshd listens on port ${port}`
    if (!facts.sshd.running) return [finding(AREA, 'sshd.listening', title, {status: 'skip', seen: 'sshd is not running (see sshd.running)'})]
    const all = facts.sshd.listening
    if (all.length === 0 && !facts.tools.ss) {
      return [finding(AREA, 'sshd.listening', title, {status: 'skip', seen: 'the bastion has no ss (iproute2), so listening sockets could not be read'})]
    }
    const fmt = (l: {address: string; port: number}) => (l.address.includes(':') && !l.address.startsWith('[') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`)
    const onPort = all.filter((l) => l.port === port)
    const mine = onPort.filter((l) => sshdOwns(l.process))
    const others = onPort.filter((l) => !sshdOwns(l.process))
    if (mine.length === 0) {
      const sshdPorts = [...new Set(all.filter((l) => sshdOwns(l.process)).map((l) => l.port))]
      const seen = others.length > 0
        ? `port ${port} is held by ${list([...new Set(others.map((l) => l.process ?? '?'))])}, not sshd`
        : sshdPorts.length > 0
          ? `sshd listens on port ${list(sshdPorts.map(String))}, not on ${port}`
          : `nothing listens on port ${port}`
      return [finding(AREA, 'sshd.listening', title, {
        status: 'fail',
        seen,
        why: `the vendor connects to port ${port} and gets "Connection refused" (or a different server). Either give the vendor the port sshd listens on, or add "Port ${port}" to sshd_config before any Match line (on systemd socket activation, the port is in ssh.socket's ListenStream)`,
        fix: {command: grepSshdConfig('Port', 'ListenAddress')},
      })]
    }
    if (mine.every((l) => isLoopback(l.address))) {
      return [finding(AREA, 'sshd.listening', title, {
        status: 'fail',
        seen: `sshd listens only on ${list(mine.map(fmt))} (loopback)`,
        why: 'a loopback address cannot be reached from outside the bastion: the vendor\'s connection is refused or times out. Remove or widen the ListenAddress lines',
        fix: {command: grepSshdConfig('ListenAddress')},
      })]
    }
    return [finding(AREA, 'sshd.listening', title, {status: 'pass', seen: `sshd listens on ${list(mine.map(fmt))}`})]
  },
}

export const sshdConfig: Check = {
  ids: ['sshd.config'],
  area: AREA,
  run({facts}) {
    const title = 'sshd configuration is valid (sshd -t)'
    if (!facts.sshd.binary) return [finding(AREA, 'sshd.config', title, {status: 'skip', seen: 'no sshd binary (see sshd.running)'})]
    if (facts.sshd.configOk) return [finding(AREA, 'sshd.config', title, {status: 'pass', seen: 'sshd -t reports no error'})]
    return [finding(AREA, 'sshd.config', title, {
      status: 'fail',
      seen: `sshd -t: ${facts.sshd.configError?.trim() || 'failed'}`,
      why: 'the running sshd still uses its old configuration, but the next restart or reboot fails and the bastion becomes unreachable; the effective settings judged below may not be what runs',
      fix: {command: 'sshd -t'},
    })]
  },
}

export const sshdVersion: Check = {
  ids: ['sshd.version'],
  area: AREA,
  run({facts}) {
    const title = 'OpenSSH version'
    const v = facts.sshd.versionNumber
    if (v === null || facts.sshd.version === null) {
      return [finding(AREA, 'sshd.version', title, {status: 'skip', seen: facts.sshd.version ? `"${facts.sshd.version}" has no readable version number` : 'the sshd version could not be read'})]
    }
    if (v < 7.4) {
      return [finding(AREA, 'sshd.version', title, {
        status: 'warn',
        seen: `${facts.sshd.version} (older than OpenSSH 7.4, from 2016)`,
        why: 'very old OpenSSH lacks options bastion relies on (restrict before 7.2, DisableForwarding before 7.4) and has known vulnerabilities; vendors\' modern clients may also find no common algorithms',
        fix: {command: upgradeSshCommand(facts)},
      })]
    }
    const note = v >= 8.8 ? ' (since 8.8, ssh-rsa SHA-1 signatures are off by default: see sshd.pubkey_algorithms)' : ''
    return [finding(AREA, 'sshd.version', title, {status: 'pass', seen: `${facts.sshd.version}${note}`})]
  },
}

export const sshdEffective: Check = {
  ids: ['sshd.effective'],
  area: AREA,
  run({facts}) {
    const title = 'effective settings for the vendor (sshd -T -C …)'
    if (!facts.sshd.binary) return [finding(AREA, 'sshd.effective', title, {status: 'skip', seen: 'no sshd binary (see sshd.running)'})]
    if (facts.sshd.effective.length === 0) {
      return [finding(AREA, 'sshd.effective', title, {
        status: 'fail',
        seen: 'the probe got no sshd -T output',
        why: 'without the effective settings doctor cannot judge forwarding, PermitOpen, AllowUsers or accepted algorithms',
        fix: {command: 'sshd -T'},
      })]
    }
    const failed = facts.sshd.effective.filter((e) => e.error || Object.keys(e.settings).length === 0)
    if (failed.length > 0) {
      return failed.map((e) => finding(AREA, 'sshd.effective', title, {
        status: 'fail',
        seen: `sshd -T -C ${e.spec} failed: ${e.error?.trim() || 'no output'}`,
        why: 'without the effective settings doctor cannot judge forwarding, PermitOpen, AllowUsers or accepted algorithms; the same error usually stops sshd from starting',
        fix: {command: `sshd -T -C ${q(e.spec)}`},
      }))
    }
    return [finding(AREA, 'sshd.effective', title, {status: 'pass', seen: `read for ${list(facts.sshd.effective.map((e) => e.spec))}`})]
  },
}

// -------------------------------------------------------------------------------------- effective settings

export const sshdPubkeyAuthentication: Check = specCheck('sshd.pubkey_authentication', 'PubkeyAuthentication allows key logins', (eff, ctx) => {
  const v = settingLine(eff, 'pubkeyauthentication')
  if (v === undefined) return {status: 'skip', seen: 'sshd -T printed no pubkeyauthentication'}
  if (v.toLowerCase() === 'no') {
    return {
      status: 'fail',
      seen: 'PubkeyAuthentication no',
      why: `sshd refuses every key, so the vendor gets "Permission denied (publickey)". ${MATCH_NOTE}`,
      fix: matchBlockFix(ctx.input.vendor, ['PubkeyAuthentication yes']),
    }
  }
  return {status: 'pass', seen: `PubkeyAuthentication ${v}`}
})

export const sshdAuthenticationMethods: Check = specCheck('sshd.authentication_methods', 'AuthenticationMethods lets a key alone log in', (eff, ctx) => {
  const lists = settingList(eff, 'authenticationmethods')
  if (!lists || lists.length === 0 || lists.includes('any')) return {status: 'pass', seen: `AuthenticationMethods ${lists?.join(' ') ?? 'any'}`}
  if (lists.some((l) => l.split(',').every((m) => m === 'publickey'))) return {status: 'pass', seen: `AuthenticationMethods ${lists.join(' ')} (publickey alone suffices)`}
  return {
    status: 'fail',
    seen: `AuthenticationMethods ${lists.join(' ')}`,
    why: `no list is satisfied by a key alone: after the key, sshd asks for another method the vendor's tunnel client cannot answer ("Permission denied" or "Authenticated using "publickey" with partial success"). ${MATCH_NOTE}`,
    fix: matchBlockFix(ctx.input.vendor, ['AuthenticationMethods publickey']),
  }
})

export const sshdAllowTcpForwarding: Check = specCheck('sshd.allow_tcp_forwarding', 'AllowTcpForwarding permits local forwarding', (eff, ctx) => {
  const v = settingLine(eff, 'allowtcpforwarding')?.toLowerCase()
  if (v === undefined) return {status: 'skip', seen: 'sshd -T printed no allowtcpforwarding'}
  if (v === 'yes' || v === 'all' || v === 'local') return {status: 'pass', seen: `AllowTcpForwarding ${v}`}
  return {
    status: 'fail',
    seen: `AllowTcpForwarding ${v}`,
    why: `the vendor's tunnel is a local forward (ssh -L / direct-tcpip); sshd refuses it: "channel 2: open failed: administratively prohibited: open failed". ${MATCH_NOTE}`,
    fix: matchBlockFix(ctx.input.vendor, ['AllowTcpForwarding local']),
  }
})

export const sshdDisableForwarding: Check = specCheck('sshd.disable_forwarding', 'DisableForwarding is off', (eff, ctx) => {
  const v = settingLine(eff, 'disableforwarding')?.toLowerCase()
  if (v === undefined) return {status: 'pass', seen: 'DisableForwarding not printed (sshd older than 7.4)'}
  if (v === 'yes') {
    return {
      status: 'fail',
      seen: 'DisableForwarding yes',
      why: `DisableForwarding overrides AllowTcpForwarding and forbids every forward: "administratively prohibited: open failed". ${MATCH_NOTE}`,
      fix: matchBlockFix(ctx.input.vendor, ['DisableForwarding no', 'AllowTcpForwarding local']),
    }
  }
  return {status: 'pass', seen: `DisableForwarding ${v}`}
})

/** Addresses each database name resolved to on the bastion (from the network probe). */
function resolvedAddresses(ctx: CheckContext, host: string, port: number): string[] {
  const p = ctx.facts.network.find((n) => n.host === host && n.port === port) ?? ctx.facts.network.find((n) => n.host === host)
  return p?.addresses ?? []
}

export const sshdPermitOpen: Check = {
  ids: ['sshd.permit_open'],
  area: AREA,
  run(ctx) {
    const {input} = ctx
    if (input.dbs.length === 0) {
      return [finding(AREA, 'sshd.permit_open', 'PermitOpen allows the database', {status: 'skip', seen: 'no --db given: no database to judge PermitOpen against'})]
    }
    return input.dbs.flatMap((db) =>
      perSpec(ctx, AREA, 'sshd.permit_open', `PermitOpen allows ${db.text}`, (eff): Verdict => {
        const entries = settingList(eff, 'permitopen') ?? ['any']
        if (entries.includes('any')) return {status: 'pass', seen: 'PermitOpen any'}
        const written = `PermitOpen ${entries.join(' ')}`
        const kept = entries.filter((e) => e !== 'none')
        const fix = matchBlockFix(input.vendor, [`PermitOpen ${[...kept, db.text].join(' ')}`])
        if (entries.includes('none')) {
          return {
            status: 'fail',
            seen: written,
            why: `PermitOpen none forbids every forward: "administratively prohibited: open failed". ${MATCH_NOTE}`,
            fix,
          }
        }
        const perms = entries.map(parseOpenPermission)
        const hit = perms.find((p) => p && openAllows(p, db.host, db.port))
        if (hit) return {status: 'pass', seen: `${written} (${hit.text} matches)`}
        const addrs = resolvedAddresses(ctx, db.host, db.port)
        const alias = perms.find((p) => p && addrs.some((a) => openAllows(p, a, db.port)))
        if (alias) {
          return {
            status: 'warn',
            seen: `${written}: ${alias.text} is what ${db.host} resolves to, but not ${db.text} itself`,
            why: `sshd compares the host the vendor asks for with PermitOpen literally (no DNS lookup): a vendor that enters ${db.host} in its form is refused ("administratively prohibited: open failed"); one that enters ${alias.host} gets through. ${MATCH_NOTE}`,
            fix,
          }
        }
        return {
          status: 'fail',
          seen: `${written} does not include ${db.text}`,
          why: `sshd refuses the vendor's forward to ${db.text}: "channel 2: open failed: administratively prohibited: open failed". The host is compared literally (no DNS lookup, "*" is the only wildcard). ${MATCH_NOTE}`,
          fix,
        }
      }),
    )
  },
}

/** The host part of user@host patterns can be a name; sshd knows the vendor's name only with UseDNS yes. */
function hostForMatch(eff: SshdEffective): {host: string; ip: string} | undefined {
  const ip = specAddr(eff)
  if (!ip || !parseAddr(ip)) return undefined
  return {host: ip, ip}
}

function addrNote(ctx: CheckContext, eff: SshdEffective, patterns: string[]): string {
  if (!patterns.some((p) => p.includes('@'))) return ''
  if (eff.placeholder || ctx.input.vendorIps.length === 0) return ' (judged for a placeholder address: give --vendor-ip to judge user@host patterns for the vendor\'s real address)'
  if (useDns(ctx.facts) && patterns.some((p) => /@.*[A-Za-z]/.test(p.replace(/@([0-9a-fA-F:.,!/]+)$/, '')))) {
    return ' (UseDNS yes: host-name patterns were judged against the address only)'
  }
  return ''
}

export const sshdAllowUsers: Check = {
  ids: ['sshd.allow_users'],
  area: AREA,
  run(ctx) {
    const user = ctx.input.vendor
    return perSpec(ctx, AREA, 'sshd.allow_users', `AllowUsers admits ${user}`, (eff) => {
      const pats = settingList(eff, 'allowusers') ?? []
      if (pats.length === 0) return {status: 'pass', seen: 'AllowUsers not set: every user may log in'}
      const hm = hostForMatch(eff)
      const hit = pats.find((p) => matchUser(user, hm?.host ?? '', hm?.ip ?? '', p) === 1)
      const note = addrNote(ctx, eff, pats)
      if (hit) return {status: 'pass', seen: `AllowUsers ${pats.join(' ')}: ${hit} matches${note}`}
      return {
        status: 'fail',
        seen: `AllowUsers ${pats.join(' ')} does not match ${user}${hm ? ` from ${hm.ip}` : ''}${note}`,
        why: `sshd refuses users AllowUsers does not list, after the key is offered: the vendor sees "Permission denied (publickey)" and sshd logs "User ${user} from … not allowed because not listed in AllowUsers". A Match block's AllowUsers replaces the global list for this user. ${MATCH_NOTE}`,
        fix: matchBlockFix(user, [`AllowUsers ${user}`]),
      }
    })
  },
}

export const sshdDenyUsers: Check = {
  ids: ['sshd.deny_users'],
  area: AREA,
  run(ctx) {
    const user = ctx.input.vendor
    return perSpec(ctx, AREA, 'sshd.deny_users', `DenyUsers does not match ${user}`, (eff) => {
      const pats = settingList(eff, 'denyusers') ?? []
      if (pats.length === 0) return {status: 'pass', seen: 'DenyUsers not set'}
      const hm = hostForMatch(eff)
      const hit = pats.find((p) => matchUser(user, hm?.host ?? '', hm?.ip ?? '', p) === 1)
      const note = addrNote(ctx, eff, pats)
      if (!hit) return {status: 'pass', seen: `DenyUsers ${pats.join(' ')}: none matches ${user}${note}`}
      return {
        status: 'fail',
        seen: `DenyUsers ${pats.join(' ')}: ${hit} matches ${user}${note}`,
        why: `sshd refuses the vendor ("Permission denied (publickey)"; the log says "not allowed because listed in DenyUsers"). Remove the vendor from the DenyUsers line this command finds, then run ${RELOAD_SSHD}`,
        fix: {command: grepSshdConfig('DenyUsers')},
      }
    })
  },
}

function groupsOf(ctx: CheckContext): string[] {
  const u = ctx.facts.user
  return [...new Set([...(u.group ? [u.group] : []), ...u.groups])]
}

export const sshdAllowGroups: Check = {
  ids: ['sshd.allow_groups'],
  area: AREA,
  run(ctx) {
    const title = `AllowGroups admits ${ctx.input.vendor}`
    if (!ctx.facts.user.exists) return [finding(AREA, 'sshd.allow_groups', title, {status: 'skip', seen: `user ${ctx.input.vendor} does not exist (see user.exists)`})]
    const groups = groupsOf(ctx)
    return perSpec(ctx, AREA, 'sshd.allow_groups', title, (eff) => {
      const pats = settingList(eff, 'allowgroups') ?? []
      if (pats.length === 0) return {status: 'pass', seen: 'AllowGroups not set'}
      const hit = groups.find((g) => pats.some((p) => matchPattern(g, p)))
      if (hit) return {status: 'pass', seen: `AllowGroups ${pats.join(' ')}: group ${hit} matches`}
      const g = ctx.facts.user.group ?? ctx.input.vendor
      return {
        status: 'fail',
        seen: `AllowGroups ${pats.join(' ')} matches none of ${ctx.input.vendor}'s groups (${groups.join(', ') || 'none'})`,
        why: `sshd refuses the vendor ("Permission denied (publickey)"; the log says "not allowed because none of user's groups are listed in AllowGroups"). ${MATCH_NOTE}`,
        fix: matchBlockFix(ctx.input.vendor, [`AllowGroups ${g}`]),
      }
    })
  },
}

export const sshdDenyGroups: Check = {
  ids: ['sshd.deny_groups'],
  area: AREA,
  run(ctx) {
    const title = `DenyGroups does not match ${ctx.input.vendor}`
    if (!ctx.facts.user.exists) return [finding(AREA, 'sshd.deny_groups', title, {status: 'skip', seen: `user ${ctx.input.vendor} does not exist (see user.exists)`})]
    const groups = groupsOf(ctx)
    return perSpec(ctx, AREA, 'sshd.deny_groups', title, (eff) => {
      const pats = settingList(eff, 'denygroups') ?? []
      if (pats.length === 0) return {status: 'pass', seen: 'DenyGroups not set'}
      const hit = groups.find((g) => pats.some((p) => matchPattern(g, p)))
      if (!hit) return {status: 'pass', seen: `DenyGroups ${pats.join(' ')}: none of ${groups.join(', ')} matches`}
      return {
        status: 'fail',
        seen: `DenyGroups ${pats.join(' ')} matches group ${hit}`,
        why: `sshd refuses the vendor ("Permission denied (publickey)"; the log says "not allowed because a group is listed in DenyGroups"). Take the group out of DenyGroups or the vendor out of that group, then run ${RELOAD_SSHD}`,
        fix: {command: grepSshdConfig('DenyGroups')},
      }
    })
  },
}

/** AuthorizedKeysFile entries expanded the way sshd does (%% %h %u %U; relative to home). */
export function expandAuthorizedKeysFile(entry: string, user: string, home: string, uid?: number): string {
  const e = entry.replace(/%([%hUu])/g, (_m, t: string) => (t === '%' ? '%' : t === 'h' ? home : t === 'u' ? user : String(uid ?? '%U')))
  return e.startsWith('/') ? e : `${home.replace(/\/$/, '')}/${e}`
}

export const sshdAuthorizedKeysFile: Check = {
  ids: ['sshd.authorized_keys_file'],
  area: AREA,
  run(ctx) {
    const {facts, input} = ctx
    const home = facts.user.home
    return perSpec(ctx, AREA, 'sshd.authorized_keys_file', 'AuthorizedKeysFile includes the file bastion writes', (eff) => {
      const files = settingList(eff, 'authorizedkeysfile') ?? ['.ssh/authorized_keys', '.ssh/authorized_keys2']
      const cmd = settingLine(eff, 'authorizedkeyscommand')
      const hasCmd = cmd !== undefined && cmd !== 'none'
      const fix = matchBlockFix(input.vendor, [`AuthorizedKeysFile .ssh/authorized_keys`])
      if (files.length === 1 && files[0]!.toLowerCase() === 'none') {
        return {
          status: hasCmd ? 'warn' : 'fail',
          seen: `AuthorizedKeysFile none${hasCmd ? ` (keys come only from AuthorizedKeysCommand ${cmd})` : ''}`,
          why: `sshd reads no authorized_keys file, so the key bastion adds to ~/.ssh/authorized_keys is never seen: "Permission denied (publickey)"${hasCmd ? '; doctor cannot see what the AuthorizedKeysCommand returns' : ''}. ${MATCH_NOTE}`,
          fix,
        }
      }
      const shown = `AuthorizedKeysFile ${files.join(' ')}`
      if (!home) return {status: 'pass', seen: shown}
      const expected = `${home.replace(/\/$/, '')}/.ssh/authorized_keys`
      const expanded = files.map((f) => expandAuthorizedKeysFile(f, input.vendor, home, facts.user.uid))
      if (expanded.includes(expected)) return {status: 'pass', seen: shown}
      return {
        status: 'warn',
        seen: `${shown} (for ${input.vendor}: ${expanded.join(' ')}), not ${expected}`,
        why: `bastion add-vendor-key writes ${expected}, which this sshd does not read: a key added there is ignored ("Permission denied (publickey)"); keys must be in ${list(expanded, 'or')}. ${MATCH_NOTE}`,
        fix,
      }
    })
  },
}

export const sshdStrictModes: Check = specCheck('sshd.strict_modes', 'StrictModes', (eff) => {
  const v = settingLine(eff, 'strictmodes')?.toLowerCase() ?? 'yes'
  if (v === 'no') return {status: 'pass', seen: 'StrictModes no: sshd does not check owners and modes (files findings are warnings only)'}
  return {status: 'pass', seen: 'StrictModes yes: sshd ignores authorized_keys when the file or a directory above it is writable by others (see files.*)'}
})

/** Signature algorithms that let a key of this type log in. */
function algorithmsFor(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
  return [type]
}

export const sshdPubkeyAlgorithms: Check = {
  ids: ['sshd.pubkey_algorithms'],
  area: AREA,
  run(ctx) {
    const keys = vendorKeys(ctx)
    const title = 'PubkeyAcceptedAlgorithms accepts the vendor\'s key type'
    if (keys.length === 0) return [finding(AREA, 'sshd.pubkey_algorithms', title, {status: 'skip', seen: 'no vendor key known (give --key-file, or see keys.present)'})]
    const types = [...new Set(keys.map((k) => k.type))]
    return types.flatMap((type) =>
      perSpec(ctx, AREA, 'sshd.pubkey_algorithms', `${title} (${type})`, (eff): Verdict => {
        const raw = settingLine(eff, 'pubkeyacceptedalgorithms', 'pubkeyacceptedkeytypes')
        if (raw === undefined) return {status: 'skip', seen: 'sshd -T printed no pubkeyacceptedalgorithms'}
        const algs = raw.split(',').filter((a) => a !== '')
        const accepts = (name: string) => algs.some((a) => matchPattern(name, a))
        const ok = algorithmsFor(type).filter(accepts)
        if (type === 'ssh-rsa') {
          const sha2 = ok.filter((a) => a !== 'ssh-rsa')
          if (ok.length === 0) {
            return {
              status: 'fail',
              seen: 'no RSA signature algorithm (rsa-sha2-512, rsa-sha2-256, ssh-rsa) is accepted',
              why: `sshd refuses the vendor's RSA key: "Permission denied (publickey)" (Hevo: "Unable to verify SSH details"). Prefer asking the vendor for an ed25519 or ECDSA key. ${MATCH_NOTE}`,
              fix: matchBlockFix(ctx.input.vendor, ['PubkeyAcceptedAlgorithms +rsa-sha2-512,rsa-sha2-256']),
            }
          }
          if (!ok.includes('ssh-rsa')) {
            return {
              status: 'warn',
              seen: `RSA key: ${sha2.join(' and ')} accepted, ssh-rsa (SHA-1) not`,
              why: `clients that sign RSA keys only with ssh-rsa (SHA-1) are refused (OpenSSH 8.8 and later, e.g. Ubuntu 22.04, Amazon Linux 2023): "Permission denied (publickey)" — this is Hevo's "Unable to verify SSH details" note. Modern clients use rsa-sha2-256/512 and work. Best: ask the vendor for its ECDSA or ed25519 key; if that is not possible, accept ssh-rsa for this user only. ${MATCH_NOTE}`,
              fix: matchBlockFix(ctx.input.vendor, ['PubkeyAcceptedAlgorithms +ssh-rsa']),
            }
          }
          return {status: 'pass', seen: `RSA key: ${ok.join(', ')} accepted`}
        }
        if (ok.length === 0) {
          return {
            status: 'fail',
            seen: `${type} is not in PubkeyAcceptedAlgorithms`,
            why: `sshd refuses the vendor's ${type} key: "Permission denied (publickey)". ${MATCH_NOTE}`,
            fix: matchBlockFix(ctx.input.vendor, [`PubkeyAcceptedAlgorithms +${type}`]),
          }
        }
        return {status: 'pass', seen: `${type} accepted`}
      }),
    )
  },
}

export const sshdHostKeyAlgorithms: Check = specCheck('sshd.hostkey_algorithms', 'HostKeyAlgorithms offers common host key types', (eff) => {
  const raw = settingLine(eff, 'hostkeyalgorithms')
  if (raw === undefined) return {status: 'skip', seen: 'sshd -T printed no hostkeyalgorithms'}
  const algs = raw.split(',')
  const common = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256'].filter((a) => algs.includes(a))
  if (common.length === 0) {
    return {
      status: 'warn',
      seen: `HostKeyAlgorithms ${raw}`,
      why: 'none of ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-512/256 is offered: vendors\' clients may fail with "no matching host key type found"',
      fix: {command: grepSshdConfig('HostKeyAlgorithms', 'HostKey')},
    }
  }
  const legacy = algs.includes('ssh-rsa') ? '' : '; ssh-rsa (SHA-1) host key signatures are off, so very old clients report "no matching host key type found"'
  return {status: 'pass', seen: `offers ${common.join(', ')}${legacy}`}
})

export const sshdMaxStartups: Check = specCheck('sshd.max_startups', 'MaxStartups leaves room for the vendor\'s connections', (eff) => {
  const raw = settingLine(eff, 'maxstartups')
  if (raw === undefined) return {status: 'skip', seen: 'sshd -T printed no maxstartups'}
  const begin = Number(raw.split(':')[0])
  const perSource = settingLine(eff, 'persourcemaxstartups')
  const ps = perSource && perSource !== 'none' ? Number(perSource) : undefined
  const problems: string[] = []
  if (Number.isFinite(begin) && begin < 10) problems.push(`MaxStartups ${raw}: sshd starts dropping new unauthenticated connections after ${begin}`)
  if (ps !== undefined && Number.isFinite(ps) && ps < 10) problems.push(`PerSourceMaxStartups ${ps}: at most ${ps} unauthenticated connections per vendor address`)
  const seen = `MaxStartups ${raw}${perSource ? `, PerSourceMaxStartups ${perSource}` : ''}`
  if (problems.length === 0) return {status: 'pass', seen}
  const conf = '/etc/ssh/sshd_config.d/60-bastion-maxstartups.conf'
  const lines = ['MaxStartups 100:30:200', ...(ps !== undefined && ps < 10 ? ['PerSourceMaxStartups none'] : [])]
  return {
    status: 'warn',
    seen: problems.join('; '),
    why: 'vendors that open many connections at once (one per table or sync job) are dropped before authenticating: the vendor sees "kex_exchange_identification: Connection closed by remote host" or "Connection timed out during banner exchange", and sshd logs "Exceeded MaxStartups". The fix writes a drop-in, which counts only where sshd_config includes sshd_config.d before its own MaxStartups (Debian/Ubuntu, RHEL 9, Amazon Linux 2023)',
    fix: {
      command: `grep -qiE '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\\.d' /etc/ssh/sshd_config && printf '%s\\n' ${lines.map((l) => q(l)).join(' ')} > ${q(conf)} && ${RELOAD_SSHD}`,
    },
  }
})

export const sshdMaxSessions: Check = specCheck('sshd.max_sessions', 'MaxSessions', (eff, ctx) => {
  const raw = settingLine(eff, 'maxsessions')
  if (raw === undefined) return {status: 'skip', seen: 'sshd -T printed no maxsessions'}
  const n = Number(raw)
  if (Number.isFinite(n) && n < 10) {
    return {
      status: 'warn',
      seen: `MaxSessions ${n}`,
      why: `MaxSessions limits the sessions (shell, exec, subsystem) multiplexed over one connection; plain forwards (direct-tcpip) do not count, but vendor clients that open a session per query over one connection are refused after ${n} ("open failed: administratively prohibited" or "channel N: open failed"). ${MATCH_NOTE}`,
      fix: matchBlockFix(ctx.input.vendor, ['MaxSessions 10']),
    }
  }
  return {status: 'pass', seen: `MaxSessions ${raw}`}
})

export const sshdUsePam: Check = specCheck('sshd.use_pam', 'UsePAM', (eff) => {
  const v = settingLine(eff, 'usepam')?.toLowerCase()
  if (v === 'yes') return {status: 'pass', seen: 'UsePAM yes: PAM\'s account checks apply to key logins (expiry, forced password change); a locked password ("!") does not block them'}
  if (v === 'no') return {status: 'pass', seen: 'UsePAM no: sshd itself refuses locked ("!") and expired accounts'}
  return {status: 'pass', seen: 'sshd is built without PAM: sshd itself refuses locked ("!") and expired accounts'}
})

export const sshdSession: Check = specCheck('sshd.session', 'PermitTTY / ForceCommand / ChrootDirectory (tunnels need none of them)', (eff) => {
  const tty = settingLine(eff, 'permittty') ?? 'yes'
  const force = settingLine(eff, 'forcecommand')
  const chroot = settingLine(eff, 'chrootdirectory')
  const notes = [`PermitTTY ${tty}`]
  if (force && force !== 'none') notes.push(`ForceCommand ${force} (runs only when the client opens a session; ssh -N tunnels open none)`)
  if (chroot && chroot !== 'none') notes.push(`ChrootDirectory ${chroot} (forwarding still works)`)
  return {status: 'pass', seen: notes.join('; ')}
})

/** sshd checks in report order. */
export const sshdChecks: Check[] = [
  sshdRunning,
  sshdListening,
  sshdConfig,
  sshdVersion,
  sshdEffective,
  sshdPubkeyAuthentication,
  sshdAuthenticationMethods,
  sshdAllowUsers,
  sshdDenyUsers,
  sshdAllowGroups,
  sshdDenyGroups,
  sshdAuthorizedKeysFile,
  sshdStrictModes,
  sshdPubkeyAlgorithms,
  sshdHostKeyAlgorithms,
  sshdAllowTcpForwarding,
  sshdDisableForwarding,
  sshdPermitOpen,
  sshdMaxStartups,
  sshdMaxSessions,
  sshdUsePam,
  sshdSession,
]
