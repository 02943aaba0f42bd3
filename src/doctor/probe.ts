/**
 * Host facts for doctor: one read-only probe script (templates/doctor-probe.sh) per host, one round trip, and the
 * reader that turns its `@bastion …` lines into HostFacts. The probe reports raw evidence (tool output, exit codes,
 * stat fields); the interpretation — open vs refused vs timed out, password class, effective settings — lives here,
 * where it is unit-tested on fixture outputs.
 */
import ipaddr from 'ipaddr.js'
import {BastionError, Exit, internalError} from '../errors.js'
import {checkScriptRun, parseFacts, renderScript, type ScriptFact} from '../remote/script.js'
import type {ScriptRunner} from '../remote/run.js'
import type {DoctorInput, HostFacts, LinkFact, SshdEffective, StatFact, TcpProbe} from './types.js'

/** The shape of the probe's output; readProbeFacts refuses others. */
export const PROBE_VERSION = 1
/** Seconds per TCP attempt (and per name lookup) when not told otherwise. */
export const DEFAULT_NET_TIMEOUT_S = 3
/** Documentation address (RFC 5737 TEST-NET-1) used for sshd -T -C when no vendor address was given. */
export const PLACEHOLDER_VENDOR_ADDRESS = '192.0.2.1'
/** Content of an authorized_keys file is read up to this many bytes. */
export const MAX_KEYS_FILE_BYTES = 1024 * 1024
/** sshd's default AuthorizedKeysFile. */
export const DEFAULT_AUTHORIZED_KEYS_FILE = '.ssh/authorized_keys .ssh/authorized_keys2'

export interface ProbeOptions {
  /** Seconds per TCP attempt and per name lookup (default 3). */
  netTimeoutSeconds?: number
  /** Test only: behave as if nc were not installed (proves the bash /dev/tcp fallback). */
  noNc?: boolean
}

/** The address sshd -T -C is asked about for one vendor CIDR. */
export interface MatchAddress {
  /** The vendor CIDR as given, or null for the placeholder. */
  cidr: string | null
  address: string
}

/**
 * An address inside a vendor CIDR to ask sshd about: the address itself for a single address (/32, /128, or no
 * prefix), the first address after the network address for a wider block (what a vendor's host would use), the
 * network address for /31 and /127. Returns the input unchanged when it is not an address or CIDR.
 */
export function vendorProbeAddress(cidr: string): string {
  const text = cidr.trim()
  try {
    if (!text.includes('/')) return ipaddr.parse(text).toString()
    const [addr, bits] = ipaddr.parseCIDR(text)
    const width = addr.kind() === 'ipv4' ? 32 : 128
    const network = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text)
    if (bits >= width - 1) return network.toString()
    const bytes = network.toByteArray()
    for (let i = bytes.length - 1; i >= 0; i--) {
      bytes[i] = ((bytes[i] ?? 0) + 1) & 0xff
      if (bytes[i] !== 0) break
    }
    return ipaddr.fromByteArray(bytes).toString()
  } catch {
    return text
  }
}

/** The addresses the probe runs sshd -T -C for: one per vendor CIDR, or the placeholder when none was given. */
export function matchAddresses(vendorIps: string[]): MatchAddress[] {
  if (vendorIps.length === 0) return [{cidr: null, address: PLACEHOLDER_VENDOR_ADDRESS}]
  const seen = new Set<string>()
  const out: MatchAddress[] = []
  for (const cidr of vendorIps) {
    const address = vendorProbeAddress(cidr)
    if (seen.has(address)) continue
    seen.add(address)
    out.push({cidr, address})
  }
  return out
}

const SAFE_WORD = /^[A-Za-z0-9._:/-]+$/

/** The rendered probe script for one host: lib.sh plus templates/doctor-probe.sh with the input as quoted parameters. */
export function probeScript(input: DoctorInput, options: ProbeOptions = {}): string {
  const timeout = options.netTimeoutSeconds ?? DEFAULT_NET_TIMEOUT_S
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 120) {
    throw internalError('PROBE_TIMEOUT', `the network timeout must be a whole number of seconds from 1 to 120, not ${timeout}`)
  }
  const pairs = matchAddresses(input.vendorIps).map((m) => {
    const cidr = m.cidr ?? '-'
    // the probe splits on spaces and the first comma; validated input never holds either
    if (!SAFE_WORD.test(cidr) || !SAFE_WORD.test(m.address)) throw internalError('PROBE_INPUT', `not an address or CIDR: ${cidr}`)
    return `${cidr},${m.address}`
  })
  const dbs = input.dbs.map((d) => {
    if (!SAFE_WORD.test(d.host)) throw internalError('PROBE_INPUT', `not a host name or address: ${d.host}`)
    return `${d.host},${d.port}`
  })
  return renderScript('doctor-probe.sh', {
    VENDOR: input.vendor,
    MATCH_ADDRS: pairs.join(' '),
    DBS: dbs.join(' '),
    SSH_PORT: String(input.sshPort),
    NET_TIMEOUT: String(timeout),
    PROBE_NO_NC: options.noNc ? '1' : '',
  })
}

/**
 * Run the probe on one host through `run` (one `sudo -n sh -s` round trip) and read its facts.
 * A probe that reports an error or does not finish becomes a BastionError (REMOTE_*, exit 8).
 */
export async function gatherHostFacts(
  run: ScriptRunner,
  input: DoctorInput,
  options: ProbeOptions & {host?: string} = {},
): Promise<HostFacts> {
  const result = await run(probeScript(input, options))
  checkScriptRun(options.host ?? 'host', 'doctor-probe.sh', result)
  return readProbeFacts(result.stdout)
}

// ------------------------------------------------------------------------------------------------------- reading

/** Decode one base64 field of the probe ('-' = empty). */
export function unb64(field: string | undefined): string {
  if (field === undefined || field === '-' || field === '') return ''
  return Buffer.from(field, 'base64').toString('utf8')
}

/** `sshd -T` text → lower-case keyword → values, one entry per line it printed for the keyword. */
export function parseSshdT(text: string): Record<string, string[]> {
  const settings: Record<string, string[]> = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '') continue
    const m = /^(\S+)\s*(.*)$/.exec(line)
    if (!m) continue
    const key = (m[1] ?? '').toLowerCase()
    ;(settings[key] ??= []).push(m[2] ?? '')
  }
  return settings
}

/** /etc/os-release → key → value (quotes and backslash escapes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!m) continue
    let v = (m[2] ?? '').trim()
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
      const q = v[0]
      v = v.slice(1, -1)
      if (q === '"') v = v.replace(/\\([\\"$`])/g, '$1')
    }
    out[m[1] ?? ''] = v
  }
  return out
}

/** `OpenSSH_9.2p1 …` → 9.2 (major.minor; OpenSSH minors are single digits). */
export function opensshVersionNumber(text: string | null | undefined): number | null {
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(text ?? '')
  return m ? Number(`${m[1]}.${m[2]}`) : null
}

/**
 * The sshd version text: sshd -V's (up to the first comma), or — when ssh -V names the same release with more detail,
 * e.g. "OpenSSH_9.2p1 Debian-2+deb12u3" for sshd's "OpenSSH_9.2" — the client's (server and client packages are
 * built from one source, and the distributions require equal versions). ssh -V alone when sshd said nothing.
 */
export function pickSshdVersion(sshdLine: string | undefined, sshLine: string | undefined): string | null {
  const clean = (s: string | undefined) => {
    const m = /OpenSSH_[^,]*/.exec(s ?? '')
    return m ? m[0].trim() : null
  }
  const server = clean(sshdLine)
  const client = clean(sshLine)
  if (server && client && client.startsWith(server) && client.length > server.length && !/^\d/.test(client.slice(server.length))) {
    return client
  }
  return server ?? client
}

const TCP_PATTERNS: Array<[TcpProbe['result'], RegExp]> = [
  ['refused', /refused/i],
  ['noroute', /no route to host|network is unreachable|host is unreachable|unreachable/i],
  ['timeout', /timed? ?out|operation now in progress/i],
  ['dns', /name resolution|name or service not known|could not resolve|getaddrinfo|no address associated|unknown host|nodename nor servname|host not found/i],
]

/**
 * Tell a TCP attempt's outcome from the tool's exit status and messages. Understands OpenBSD netcat
 * ("… succeeded!", "… failed: Connection refused", "… timed out: Operation now in progress"), nmap's ncat
 * ("Ncat: Connected to …", "Ncat: Connection refused.", "Ncat: TIMEOUT."), traditional netcat and bash's /dev/tcp
 * ("bash: connect: No route to host"); exit 124 is timeout(1) killing the attempt.
 */
export function classifyTcp(rc: number | null, output: string): TcpProbe['result'] {
  if (rc === 0) return 'open'
  if (rc === 124) return 'timeout'
  for (const [result, re] of TCP_PATTERNS) if (re.test(output)) return result
  return 'error'
}

/** `host:port`, or `[v6]:port` as OpenSSH writes it. */
function targetText(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function normalizeAddress(a: string): string {
  if (a.includes(':') && ipaddr.IPv6.isValid(a.replace(/%.*$/, ''))) {
    const zone = /%.*$/.exec(a)?.[0] ?? ''
    return ipaddr.IPv6.parse(a.replace(/%.*$/, '')).toString() + zone
  }
  return a
}

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

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === '-' || s === '' || !/^-?\d+$/.test(s)) return undefined
  return Number(s)
}

function statFact(path: string, st: StatLine | undefined): StatFact {
  if (!st) return {path, exists: false}
  return {path, exists: true, type: st.type, uid: st.uid, gid: st.gid, mode: st.mode, size: st.size}
}

function outputError(message: string, stdout: string): BastionError {
  return new BastionError('PROBE_OUTPUT', message, {
    exit: Exit.REMOTE,
    suggestions: ['run the command again with --dry-run to see the probe script, and run it by hand on the host with `sudo sh -x`'],
    detail: {stdout: stdout.slice(-2000)},
  })
}

/** The facts in one probe run's stdout (throws BastionError PROBE_OUTPUT when it is not a probe's output). */
export function readProbeFacts(stdout: string): HostFacts {
  const facts = parseFacts(stdout)
  const header = facts.find((f) => f.key === 'probe')
  if (!header) throw outputError('the host did not answer like the doctor probe (no "@bastion probe" line)', stdout)
  const probeVersion = Number(header.args[0])
  if (probeVersion !== PROBE_VERSION) {
    throw outputError(`the doctor probe on the host speaks version ${header.args[0] ?? '?'}, this bastion reads ${PROBE_VERSION}`, stdout)
  }

  const stats = new Map<string, StatLine>()
  for (const f of facts) {
    if (f.key !== 'st') continue
    const m = /^(\d+) (\d+) ([0-7]+) ([0-9a-fA-F]+) (\d+) (.*)$/.exec(f.rest)
    if (!m) continue
    stats.set(m[6] ?? '', {
      uid: Number(m[1]), gid: Number(m[2]), mode: m[3] ?? '', type: typeFromRawMode(m[4] ?? '0'), size: Number(m[5]),
    })
  }

  const homePaths: LinkFact[] = []
  for (const f of facts) {
    if (f.key !== 'lk') continue
    const m = /^([0-9a-fA-F]+) (\d+) (\d+) (\d+) (\S+) (\S+) (.*)$/.exec(f.rest)
    if (!m) continue
    const lk: LinkFact = {path: m[7] ?? '', type: typeFromRawMode(m[1] ?? '0') ?? 'other', uid: Number(m[2]), gid: Number(m[3]), links: Number(m[4])}
    if (lk.type === 'symlink') {
      lk.linkText = unb64(m[5])
      const target = unb64(m[6])
      if (target) lk.target = target
    }
    homePaths.push(lk)
  }

  const first = (key: string): ScriptFact | undefined => facts.find((f) => f.key === key)
  const all = (key: string): ScriptFact[] => facts.filter((f) => f.key === key)

  // ---- host
  const nowSec = num(first('now')?.args[0])
  const os = parseOsRelease(unb64(first('osrelease')?.args[0]))
  const toolArgs = first('tools')?.args ?? []
  const tool: Record<string, string> = {}
  for (let i = 0; i + 1 < toolArgs.length; i += 2) tool[toolArgs[i] ?? ''] = toolArgs[i + 1] ?? ''
  const ncFlavor = tool.nc && tool.nc !== '-' ? tool.nc : undefined

  // ---- sshd
  const binaryFact = first('sshd_binary')?.rest
  const sshdLine = first('sshd_version')?.rest
  const sshLine = first('ssh_version')?.rest
  const version = pickSshdVersion(sshdLine, sshLine)
  const pids = all('sshd_pid').map((f) => Number(f.args[0])).filter((n) => Number.isInteger(n) && n > 0)
  const listening = all('listen').map((f) => {
    const [address = '', port = '0', process = '-'] = f.args
    return {address: normalizeAddress(address), port: Number(port), ...(process !== '-' ? {process} : {})}
  })
  const sshdT = first('sshd_t')
  const effective: SshdEffective[] = all('effective').map((f) => {
    const [cidr = '-', spec = '', rc = '', out, err] = f.args
    const e: SshdEffective = {spec, settings: rc === '0' ? parseSshdT(unb64(out)) : {}}
    if (cidr !== '-') e.cidr = cidr
    else e.placeholder = true
    e.address = /(?:^|,)addr=([^,]*)/.exec(spec)?.[1] ?? ''
    if (rc !== '0') e.error = unb64(err).trim() || `sshd -T exited with status ${rc}`
    return e
  })
  const global = first('global')

  // ---- user
  const userFact = first('user')
  const absent = first('user_absent')
  const name = userFact?.args[0] ?? absent?.args[0] ?? ''
  const user: HostFacts['user'] = {name, exists: userFact !== undefined, groups: []}
  if (userFact) {
    const [, uid, gid, group] = userFact.args
    const u = num(uid)
    const g = num(gid)
    if (u !== undefined) user.uid = u
    if (g !== undefined) user.gid = g
    if (group && group !== '-') user.group = group
    const home = first('user_home')?.rest
    if (home !== undefined) user.home = home
    const shell = first('user_shell')?.rest
    if (shell !== undefined) user.shell = shell
    user.groups = (first('user_groups')?.args ?? []).filter(Boolean)
    const shellInfo = first('user_shellinfo')?.args
    if (shellInfo) {
      user.shellListed = shellInfo[0] === '1'
      user.shellExecutable = shellInfo[1] === '1'
    }
    const shadow = first('shadow')?.args
    if (shadow && shadow[0] && shadow[0] !== '-') {
      const [cls, lastchg, min, max, warn, inactive, expire] = shadow
      if (cls === 'locked' || cls === 'star' || cls === 'empty' || cls === 'hash') user.password = cls
      const set = (k: 'lastChange' | 'minDays' | 'maxDays' | 'warnDays' | 'inactiveDays' | 'expireDay', v: string | undefined) => {
        const n = num(v)
        if (n !== undefined) user[k] = n
      }
      set('lastChange', lastchg)
      set('minDays', min)
      set('maxDays', max)
      set('warnDays', warn)
      set('inactiveDays', inactive)
      set('expireDay', expire)
    } else if (shadow) {
      user.shadowReadable = false
    }
    if (user.home !== undefined) user.homeStat = statFact(user.home, stats.get(user.home))
    const homeReal = first('user_home_real')?.rest
    if (homeReal) user.homeReal = homeReal
    const shared = first('home_shared')
    if (shared) {
      user.homeShared = unb64(shared.args[0]).split('\n').filter((l) => l.includes(':')).map((l) => {
        const i = l.indexOf(':')
        return {name: l.slice(0, i), home: l.slice(i + 1)}
      })
    }
  }

  // ---- authorized_keys files
  interface Working {
    path: string
    realPath: string
    isLink: boolean
    chain: StatFact[]
    content?: string
    readableByUser?: boolean
  }
  const working: Working[] = []
  const byIndex = new Map<string, Working>()
  for (const f of facts) {
    if (f.key === 'ak') {
      const m = /^(\d+) ([01]) (.*)$/.exec(f.rest)
      if (!m) continue
      const w: Working = {path: m[3] ?? '', realPath: m[3] ?? '', isLink: m[2] === '1', chain: []}
      byIndex.set(m[1] ?? '', w)
      working.push(w)
      continue
    }
    const m = /^(\d+) (.*)$/.exec(f.rest)
    const w = m ? byIndex.get(m[1] ?? '') : undefined
    if (!m || !w) continue
    const value = m[2] ?? ''
    if (f.key === 'akreal') w.realPath = value
    else if (f.key === 'akdir') w.chain.push(statFact(value, stats.get(value)))
    else if (f.key === 'akcontent') w.content = unb64(value)
    else if (f.key === 'akreadable') w.readableByUser = value === '1'
  }
  const authorizedKeys: HostFacts['authorizedKeys'] = working.map((w) => {
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

  // ---- network
  const network: TcpProbe[] = all('net')
    .map((f) => {
      const [i = '0', host = '', port = '0', how = 'error', rc = '-', ms = '-', toolUsed = '-', addrs = '-', out] = f.args
      const detail = unb64(out).trim()
      const p = Number(port)
      let addresses = addrs === '-' ? [] : addrs.split(',').filter(Boolean).map(normalizeAddress)
      if (addresses.length === 0 && how !== 'dns' && ipaddr.isValid(host)) addresses = [normalizeAddress(host)]
      const rcNum = num(rc) ?? null
      const result: TcpProbe['result'] = how === 'dns' ? 'dns' : how === 'tcp' ? classifyTcp(rcNum, detail) : 'error'
      const probe: TcpProbe & {index: number} = {index: Number(i), target: targetText(host, p), host, port: p, addresses, result}
      const msNum = num(ms)
      if (msNum !== undefined) probe.ms = msNum
      if (detail) probe.detail = detail
      if (toolUsed !== '-') probe.tool = toolUsed
      return probe
    })
    .sort((a, b) => a.index - b.index)
    .map(({index: _index, ...p}) => p)

  const facts_: HostFacts = {
    probeVersion,
    now: nowSec !== undefined ? new Date(nowSec * 1000) : new Date(),
    os: {id: os.ID ?? '', versionId: os.VERSION_ID ?? '', prettyName: os.PRETTY_NAME ?? os.NAME ?? ''},
    hostname: first('hostname')?.rest ?? '',
    sshd: {
      binary: binaryFact && binaryFact !== '-' ? binaryFact : null,
      version,
      versionNumber: opensshVersionNumber(version),
      running: pids.length > 0,
      pids,
      listening,
      configOk: sshdT?.args[0] === '0',
      effective,
    },
    user,
    authorizedKeys,
    ...(user.exists ? {homePaths} : {}),
    network,
    tools: {
      nc: ncFlavor !== undefined,
      ...(ncFlavor ? {ncFlavor} : {}),
      bash: tool.bash === '1',
      timeout: tool.timeout === '1',
      getent: tool.getent === '1',
      ss: tool.ss === '1',
      setpriv: tool.setpriv === '1',
    },
    notes: all('note').map((f) => f.rest),
  }
  if (sshLine) facts_.sshd.clientVersion = /OpenSSH_[^,]*/.exec(sshLine)?.[0].trim() ?? sshLine
  if (sshdT && sshdT.args[0] !== '0') {
    facts_.sshd.configError = unb64(sshdT.args[1]).trim() || `sshd -t exited with status ${sshdT.args[0] ?? '?'}`
  }
  if (!binaryFact || binaryFact === '-') facts_.sshd.configOk = false
  if (global) facts_.sshd.globalSettings = parseSshdT(unb64(global.args[0]))
  if (first('akf_default')) facts_.authorizedKeysFileDefaulted = true
  return facts_
}
