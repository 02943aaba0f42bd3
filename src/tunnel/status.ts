/**
 * What a tunnel's host reports (tunnel-lib.sh's `t_*` lines) read into TunnelReport, and the pure judgements on it:
 * is the remote forward up, and if not, why (from ssh's own words in the journal).
 */
import type {ScriptFact} from '../remote/script.js'
import {parseKnownHosts} from '../ssh/known-hosts.js'
import {classifyTcp} from '../doctor/probe/network.js'
import type {TcpProbe} from '../doctor/types.js'

export interface TunnelConfig {
  /** ssh_config keywords (lower case) → values, in file order. */
  settings: Record<string, string[]>
  server?: string
  serverPort?: number
  serverUser?: string
  /** RemoteForward as written: `[*:]port host:port`. */
  remoteForward?: string
  remotePort?: number
  bindAll?: boolean
  /** The database as bastion recorded it (`# bastion:db=`). */
  db?: string
  preset?: string
}

export type ForwardState = 'established' | 'connecting' | 'down'

export interface TunnelProblem {
  /** What ssh said went wrong, as a stable code. */
  code: 'host-key' | 'auth' | 'forward' | 'refused' | 'timeout' | 'dns' | 'noroute' | 'keepalive' | 'key' | 'closed' | 'config'
  /** The log line it was read from. */
  line: string
  message: string
}

export interface TunnelReport {
  name: string
  /** The tunnel's config file exists (a tunnel bastion set up); false for a unit instance left without one. */
  configured: boolean
  config?: TunnelConfig
  /** The keys pinned in the tunnel's known_hosts. */
  pinnedKeys: {type: string; fingerprint: string}[]
  /** A file bastion reads is a symbolic link (it was not read). */
  links: string[]
  publicKey?: string
  keyFile?: {mode: string; owner: string; links: number}
  unit: {load: string; active: string; sub: string; result: string; restarts: number; mainPid: number; enabled: string}
  /** When the service last became active (ISO), and for how long it has been up, while it is active. */
  since?: string
  upSeconds?: number
  /** When the service last changed state (ISO). */
  changedAt?: string
  forward: ForwardState
  /** The server's address and port the running ssh is connected to (from ss), when it is. */
  connections: {local: string; peer: string}[]
  /** Why the tunnel is not up (or was last down), from ssh's messages. */
  problem?: TunnelProblem
  /** The unit's last journal lines (short-iso). */
  log: string[]
  /** ssh's messages in its current (or last) run. */
  runLog: string[]
  /** doctor: TCP from the tunnel host to the database and to the server's SSH port. */
  net?: {db?: TcpProbe; server?: TcpProbe}
  ssAvailable: boolean
}

/** Parse an ssh_config file bastion wrote (keywords lower-cased; `# bastion:key=value` comments as metadata). */
export function parseTunnelConfig(text: string): TunnelConfig {
  const settings: Record<string, string[]> = {}
  const meta: Record<string, string> = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    const m = /^# bastion:(?:tunnel )?([a-z-]+)=(\S+)$/.exec(line)
    if (m?.[1] && m[2] !== undefined) meta[m[1]] = m[2]
    if (line === '' || line.startsWith('#')) continue
    const kv = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line)
    if (!kv?.[1]) continue
    const key = kv[1].toLowerCase()
    ;(settings[key] ??= []).push((kv[2] ?? '').trim())
  }
  const first = (k: string) => settings[k]?.[0]
  const rf = first('remoteforward')
  const listen = rf?.split(/\s+/)[0]
  const portText = listen?.replace(/^.*:/, '')
  const cfg: TunnelConfig = {settings}
  const server = first('hostname')
  if (server !== undefined) cfg.server = server
  const port = first('port')
  if (port !== undefined) cfg.serverPort = Number(port)
  const user = first('user')
  if (user !== undefined) cfg.serverUser = user
  if (rf !== undefined) {
    cfg.remoteForward = rf
    if (portText && /^\d+$/.test(portText)) cfg.remotePort = Number(portText)
    cfg.bindAll = listen?.includes(':') === true && /^(\*|0\.0\.0\.0|\[?::\]?):/.test(listen ?? '')
  }
  if (meta.db) cfg.db = meta.db
  if (meta.preset) cfg.preset = meta.preset
  return cfg
}

const PROBLEMS: Array<[TunnelProblem['code'], RegExp, string]> = [
  ['host-key', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed|No \S+ host key is known for/i,
    "the server's host key is not the pinned one: ssh refuses to connect (StrictHostKeyChecking=yes)"],
  ['auth', /Permission denied \(|Too many authentication failures/i,
    "the vendor's server does not accept the tunnel's key: give the vendor the tunnel's public key (bastion tunnel status shows it), and check --server-user"],
  ['forward', /remote port forwarding failed|Error: remote port forwarding/i,
    'the server refused the remote port: it is in use (another tunnel) or not one this login may listen on'],
  ['key', /Load key .*(Permission denied|No such file|invalid format)|bad permissions|UNPROTECTED PRIVATE KEY/i,
    "ssh cannot read the tunnel's private key"],
  ['dns', /Could not resolve hostname|Name or service not known|Temporary failure in name resolution/i, "the server's name does not resolve on the tunnel host"],
  ['refused', /Connection refused/i, "the server's SSH port refused the connection"],
  ['timeout', /Connection timed out|Operation timed out|connect to host .* timed out/i, "the server's SSH port did not answer: a firewall drops the connection"],
  ['noroute', /No route to host|Network is unreachable/i, 'the tunnel host has no route to the server'],
  ['keepalive', /Timeout, server .* not responding/i, 'the server stopped answering keep-alives: ssh gave up on the connection (systemd starts a new one)'],
  ['config', /Bad configuration option|Unsupported option|terminating, \d+ bad configuration options/i, "ssh rejects the tunnel's config file"],
  ['closed', /Connection closed by|Connection reset by|kex_exchange_identification/i, 'the server closed the connection'],
]

/** The last thing ssh said went wrong, in the lines given (newest last). */
export function diagnose(lines: string[]): TunnelProblem | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? ''
    for (const [code, re, message] of PROBLEMS) if (re.test(line)) return {code, line: line.trim(), message}
  }
  return undefined
}

/** systemd's timestamps: `@<unix seconds>` (systemctl show --timestamp=unix) or `Mon 2026-11-30 02:10:00 UTC`. */
export function parseSystemdTime(text: string): Date | undefined {
  const t = text.trim()
  if (t === '' || t === '-' || t === 'n/a') return undefined
  const unix = /^@(\d+)$/.exec(t)
  if (unix?.[1]) return unix[1] === '0' ? undefined : new Date(Number(unix[1]) * 1000)
  const m = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) (UTC|GMT)$/.exec(t)
  if (m) return new Date(`${m[1]}T${m[2]}Z`)
  return undefined
}

function lines(b64: string): string[] {
  if (b64 === '-' || b64 === '') return []
  return Buffer.from(b64, 'base64').toString('utf8').split('\n').filter((l) => l.trim() !== '')
}

function decode(b64: string | undefined): string | undefined {
  return b64 === undefined || b64 === '-' || b64 === 'link' ? undefined : Buffer.from(b64, 'base64').toString('utf8')
}

/** Read every tunnel's `t_*` lines (in the order the host reported them). */
export function readTunnelReports(facts: ScriptFact[]): TunnelReport[] {
  const byName = new Map<string, ScriptFact[]>()
  const order: string[] = []
  for (const f of facts) {
    if (!f.key.startsWith('t_')) continue
    const name = f.key === 't_net' ? order.at(-1) : f.args[0]
    if (name === undefined) continue
    if (!byName.has(name)) {
      byName.set(name, [])
      order.push(name)
    }
    byName.get(name)?.push(f)
  }
  return order.map((name) => readOne(name, byName.get(name) ?? []))
}

function readOne(name: string, facts: ScriptFact[]): TunnelReport {
  const one = (k: string) => facts.find((f) => f.key === k)?.args.slice(1) ?? []
  const files = new Map(facts.filter((f) => f.key === 't_file').map((f) => [f.args[1] ?? '', f.args[2] ?? '-']))
  const links = [...files.entries()].filter(([, v]) => v === 'link').map(([k]) => k)
  const confText = decode(files.get('conf'))
  const khText = decode(files.get('known_hosts'))
  const pub = decode(files.get('pubkey'))?.trim()
  const [mode = '-', owner = '-', nlinks = '-'] = one('t_key')
  if (mode === 'link') links.push('key')
  const [load = '-', active = '-', sub = '-', result = '-', restarts = '0', pid = '0', enabled = '-'] = one('t_unit')
  const now = Number(one('t_now')[0] ?? NaN)
  const sinceDate = parseSystemdTime(one('t_since').join(' '))
  const changed = parseSystemdTime(one('t_changed').join(' '))
  const runLog = lines(one('t_runlog')[0] ?? '-')
  const log = lines(one('t_journal')[0] ?? '-')
  const connections = facts.filter((f) => f.key === 't_conn').map((f) => ({local: f.args[1] ?? '', peer: f.args[2] ?? ''}))
  const ssAvailable = one('t_tool')[1] === '1'
  const isActive = active === 'active'
  const authenticated = runLog.some((l) => /^Authenticated to /.test(l))
  const runProblem = diagnose(runLog)
  let forward: ForwardState = 'down'
  if (isActive && authenticated && runProblem?.code !== 'forward' && (!ssAvailable || connections.length > 0)) forward = 'established'
  else if (isActive) forward = 'connecting'
  const problem = forward === 'established' ? undefined : (runProblem ?? diagnose(log))
  const net: NonNullable<TunnelReport['net']> = {}
  for (const f of facts.filter((x) => x.key === 't_net')) {
    const [what, host = '', port = '0', how = 'error', rc = '-', tool = '-', addrs = '-', out = '-'] = f.args
    const detail = decode(out)?.trim() ?? ''
    const probe: TcpProbe = {
      target: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
      host,
      port: Number(port),
      addresses: addrs === '-' ? [] : addrs.split(','),
      result: how === 'dns' ? 'dns' : how === 'tcp' ? classifyTcp(rc === '-' ? null : Number(rc), detail) : 'error',
      ...(detail ? {detail} : {}),
      ...(tool !== '-' ? {tool} : {}),
    }
    if (what === 'db') net.db = probe
    else if (what === 'server') net.server = probe
  }
  const report: TunnelReport = {
    name,
    configured: confText !== undefined,
    ...(confText !== undefined ? {config: parseTunnelConfig(confText)} : {}),
    pinnedKeys: khText === undefined ? [] : parseKnownHosts(khText).map((e) => ({type: e.keyType, fingerprint: e.fingerprint})),
    links,
    ...(pub ? {publicKey: pub} : {}),
    ...(mode !== '-' && mode !== 'link' ? {keyFile: {mode, owner, links: Number(nlinks)}} : {}),
    unit: {load, active, sub, result, restarts: Number(restarts) || 0, mainPid: Number(pid) || 0, enabled},
    ...(isActive && sinceDate ? {since: sinceDate.toISOString()} : {}),
    ...(isActive && sinceDate && Number.isFinite(now) ? {upSeconds: Math.max(0, Math.round(now - sinceDate.getTime() / 1000))} : {}),
    ...(changed ? {changedAt: changed.toISOString()} : {}),
    forward,
    connections,
    ...(problem ? {problem} : {}),
    log,
    runLog,
    ...(net.db || net.server ? {net} : {}),
    ssAvailable,
  }
  return report
}
