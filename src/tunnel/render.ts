/**
 * Human-readable results of `bastion tunnel …` (stdout). JSON output is the result objects themselves. Everything read
 * from a host (log lines, keys, names) goes through inert() before it is shown.
 */
import type {MultiHostResult} from '../ssh/pool.js'
import {inert} from '../ui/inert.js'
import {failedHost, okHost, scriptLines, type ErrorRenderer} from '../ui/hosts.js'
import type {Style} from '../ui/style.js'
import type {TunnelSpec} from './input.js'
import type {TunnelAddResult, TunnelRemoveResult} from './service.js'
import type {TunnelReport} from './status.js'
import {confPath, execStartLine, instanceName, knownHostsPath, keyPath, renderSshConfig, RESTART_SEC, sshCommandLine} from './unit.js'
import {quoteShell} from '../ssh/quote.js'

/** What the tunnel is, as every tunnel command's result names it. */
export interface TunnelSummary {
  name: string
  unit: string
  server: string
  serverPort: number
  serverUser: string
  remotePort: number
  bindAll: boolean
  db: string
  preset?: string
  hostKey: {pinned: 'given'; type: string; fingerprint: string} | {pinned: 'fetch'; fingerprint: string}
  /** The ssh_config file the service runs with, and the same as one ssh command line. */
  config: string
  commandLine: string
}

export function specSummary(spec: TunnelSpec): TunnelSummary {
  return {
    name: spec.name,
    unit: instanceName(spec.name),
    server: spec.server,
    serverPort: spec.serverPort,
    serverUser: spec.serverUser,
    remotePort: spec.remotePort,
    bindAll: spec.bindAll,
    db: spec.db.text,
    ...(spec.preset ? {preset: spec.preset} : {}),
    hostKey: spec.hostKey
      ? {pinned: 'given', type: spec.hostKey.type, fingerprint: spec.hostKey.fingerprint}
      : {pinned: 'fetch', fingerprint: spec.hostKeyFingerprint ?? ''},
    config: renderSshConfig(spec),
    commandLine: sshCommandLine(spec).map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : quoteShell(a))).join(' '),
  }
}

export type TunnelAddCommandResult =
  | {dryRun: true; tunnel: TunnelSummary; hosts: string[]; script: string; warnings: string[]}
  | ({dryRun: false; tunnel: TunnelSummary; warnings: string[]} & MultiHostResult<TunnelAddResult>)

function ago(seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`
  return `${Math.round(seconds / 86400)} days`
}

/** One tunnel's state in a few lines (status, add). */
export function reportLines(r: TunnelReport, s: Style, opts: {log?: boolean} = {}): string[] {
  const out: string[] = []
  const state =
    r.forward === 'established'
      ? s.ok(`up, remote forward established${r.upSeconds !== undefined ? ` (for ${ago(r.upSeconds)}, since ${r.since})` : ''}`)
      : r.forward === 'connecting'
        ? s.warn('running, remote forward not confirmed yet')
        : s.bad(`down (${inert(r.unit.active)}/${inert(r.unit.sub)}${r.unit.result !== 'success' && r.unit.result !== '-' ? `, ${inert(r.unit.result)}` : ''})`)
  out.push(`    ${instanceName(r.name)}: ${state}`)
  out.push(`    restarts: ${r.unit.restarts}${r.unit.enabled !== '-' ? `, ${inert(r.unit.enabled)} at boot` : ''}`)
  const c = r.config
  if (c) out.push(`    ${inert(c.serverUser ?? '?')}@${inert(c.server ?? '?')}:${c.serverPort ?? 22}, RemoteForward ${inert(c.remoteForward ?? '?')}`)
  else if (r.unit.load !== 'not-found') out.push(s.warn(`    no config file ${confPath(r.name)}: a unit instance left without its tunnel (bastion tunnel remove --name ${r.name} cleans it up)`))
  for (const k of r.pinnedKeys) out.push(`    server host key pinned: ${inert(k.type)} ${inert(k.fingerprint)}`)
  for (const conn of r.connections) out.push(`    connected: ${inert(conn.local)} → ${inert(conn.peer)}`)
  if (r.problem) out.push(`    ${s.bad('why:')} ${inert(r.problem.message)}`, `      ssh said: ${inert(r.problem.line)}`)
  for (const l of r.links) out.push(s.bad(`    ${l} is a symbolic link: not read (remove it and re-run bastion tunnel add)`))
  if (opts.log && r.log.length > 0) {
    out.push('    last log lines:')
    for (const l of r.log) out.push(`      ${inert(l)}`)
  }
  return out
}

export function renderTunnelAddHuman(result: TunnelAddCommandResult, s: Style, renderError?: ErrorRenderer): string {
  const out: string[] = []
  const t = result.tunnel
  if (result.dryRun) {
    out.push(s.bold(`Plan (dry run: nothing was sent to ${result.hosts.join(', ')})`))
    out.push(`  service ${t.unit} (template /etc/systemd/system/bastion-tunnel@.service), running as bastion-tunnel`)
    out.push(`  key ${keyPath(t.name)} (ed25519, generated on the host if missing)`)
    out.push(`  pinned host key ${knownHostsPath(t.name)}: ${t.hostKey.pinned === 'given' ? `${t.hostKey.type} ${t.hostKey.fingerprint}` : `fetched with ssh-keyscan, accepted only if it is ${t.hostKey.fingerprint}`}`)
    out.push(`  runs: ${execStartLine(t.name)}, with ${confPath(t.name)}:`)
    for (const l of t.config.trimEnd().split('\n')) out.push(`    ${l}`)
    out.push(`  the same as: ${t.commandLine}`)
    out.push(...scriptLines(result.script, s))
    return out.join('\n')
  }
  for (const h of result.hosts) {
    if (!h.ok || !h.result) {
      out.push(...failedHost(h, renderError))
      continue
    }
    const r = h.result
    out.push(`${okHost(h.host, s, r.os)}: tunnel ${inert(t.name)} → ${inert(t.server)}:${t.remotePort}`)
    out.push(`    user bastion-tunnel ${r.user === 'created' ? 'created' : 'exists'}; key ${r.key === 'created' ? 'generated' : 'reused'} (${inert(r.keyFingerprint)})`)
    out.push(`    server host key pinned (${r.hostKey.source === 'fetched' ? 'fetched, fingerprint matched' : 'as given'}): ${inert(r.hostKey.fingerprint)}`)
    const changed = [r.files.conf === 'written' ? 'config' : '', r.files.knownHosts === 'written' ? 'known_hosts' : '', r.files.unit === 'written' ? 'unit' : ''].filter(Boolean)
    out.push(`    files: ${changed.length > 0 ? `${changed.join(', ')} written` : 'unchanged'}; service ${r.service === 'restarted' ? '(re)started' : 'left running'}${r.backoff === 'unsupported' ? ` (systemd ${r.systemd ?? '?'}: a flat ${RESTART_SEC} s restart delay)` : ''}`)
    for (const w of r.warnings) out.push(`    ${s.warn('warning:')} ${inert(w)}`)
    out.push(...reportLines(r.status, s, {log: r.status.forward !== 'established'}))
  }
  const ok = result.hosts.filter((h) => h.ok && h.result)
  const first = ok[0]?.result
  if (first) {
    out.push('', s.bold("The tunnel's public key (for the vendor's form or support):"))
    const keys = new Set(ok.map((h) => h.result?.publicKey))
    for (const h of ok) {
      if (keys.size > 1) out.push(`  ${inert(h.host)}:`)
      out.push(`  ${inert(h.result?.publicKey ?? '')}`)
      if (keys.size <= 1) break
    }
    out.push('', s.bold('In the vendor\'s data source form:'), `  Host: ${inert(t.server)}   Port: ${t.remotePort}   (the vendor reaches ${inert(t.db)} through it)`)
  }
  const failed = result.hosts.length - ok.length
  out.push('', failed === 0 ? `${ok.length} host(s) ready.` : s.bad(`${failed} of ${result.hosts.length} host(s) failed.`))
  return out.join('\n')
}

export type TunnelRemoveCommandResult = {name: string; purge: boolean; warnings: string[]} & MultiHostResult<TunnelRemoveResult>

export function renderTunnelRemoveHuman(result: TunnelRemoveCommandResult, s: Style, renderError?: ErrorRenderer): string {
  const out: string[] = []
  for (const h of result.hosts) {
    if (!h.ok || !h.result) {
      out.push(...failedHost(h, renderError))
      continue
    }
    const r = h.result
    out.push(okHost(h.host, s))
    if (r.absent) {
      out.push(`    no tunnel ${inert(r.name)} here: nothing to remove`)
      continue
    }
    out.push(`    ${instanceName(r.name)} ${r.was === 'running' ? 'stopped and ' : ''}disabled`)
    for (const p of r.removed) out.push(`    removed ${inert(p)}`)
    if (r.keptKey) out.push(`    kept the key ${inert(r.keptKey)} (re-adding the tunnel reuses it; --purge deletes it)`)
    for (const w of r.warnings) out.push(`    ${s.warn('warning:')} ${inert(w)}`)
  }
  return out.join('\n')
}

export type TunnelStatusCommandResult = {name?: string; warnings: string[]} & MultiHostResult<{tunnels: TunnelReport[]}>

export function renderTunnelStatusHuman(result: TunnelStatusCommandResult, s: Style, opts: {log: boolean}, renderError?: ErrorRenderer): string {
  const out: string[] = []
  for (const h of result.hosts) {
    if (!h.ok || !h.result) {
      out.push(...failedHost(h, renderError))
      continue
    }
    out.push(s.bold(inert(h.host)))
    if (h.result.tunnels.length === 0) out.push('    no tunnels')
    for (const r of h.result.tunnels) {
      if (!opts.log) {
        const state = r.forward === 'established' ? s.ok('up') : r.forward === 'connecting' ? s.warn('connecting') : s.bad('down')
        const c = r.config
        const where = c ? `${inert(c.serverUser ?? '?')}@${inert(c.server ?? '?')}:${c.serverPort ?? 22} ${inert(remoteForwardText(c.remoteForward))}` : s.warn('(no config file)')
        out.push(`  ${inert(r.name)}  ${state}  restarts ${r.unit.restarts}  ${where}${r.problem ? `  ${s.bad(inert(r.problem.code))}` : ''}`)
        continue
      }
      out.push(...reportLines(r, s, {log: true}))
    }
  }
  return out.join('\n')
}

function remoteForwardText(rf: string | undefined): string {
  if (!rf) return ''
  const [listen, dest] = rf.split(/\s+/)
  return `-R ${listen ?? ''}:${dest ?? ''}`
}

