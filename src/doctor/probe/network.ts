/** The network facts from the probe: one TCP attempt per database, its outcome told from the tool's exit status and words. */
import ipaddr from 'ipaddr.js'
import type {TcpProbe} from '../types.js'
import type {AreaRecords} from './records.js'

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

/** An IPv6 address in its short form (zone kept); anything else as it is. */
export function normalizeAddress(a: string): string {
  if (a.includes(':') && ipaddr.IPv6.isValid(a.replace(/%.*$/, ''))) {
    const zone = /%.*$/.exec(a)?.[0] ?? ''
    return ipaddr.IPv6.parse(a.replace(/%.*$/, '')).toString() + zone
  }
  return a
}

/** The TCP attempts in the order the databases were asked for (the probe prints them as they finish). */
export function readNetwork(records: AreaRecords<'network'>): TcpProbe[] {
  return records.all('net')
    .map((f) => {
      const detail = f.output.trim()
      let addresses = f.addresses === '-' ? [] : f.addresses.split(',').filter(Boolean).map(normalizeAddress)
      if (addresses.length === 0 && f.how !== 'dns' && ipaddr.isValid(f.host)) addresses = [normalizeAddress(f.host)]
      const result: TcpProbe['result'] = f.how === 'dns' ? 'dns' : f.how === 'tcp' ? classifyTcp(f.rc ?? null, detail) : 'error'
      const probe: TcpProbe & {index: number} = {index: f.index, target: targetText(f.host, f.port), host: f.host, port: f.port, addresses, result}
      if (f.ms !== undefined) probe.ms = f.ms
      if (detail) probe.detail = detail
      if (f.tool !== '-') probe.tool = f.tool
      return probe
    })
    .sort((a, b) => a.index - b.index)
    .map(({index: _index, ...p}) => p)
}
