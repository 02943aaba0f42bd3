/**
 * Host facts for doctor: one read-only probe script (templates/doctor-probe.sh) per host, one round trip, read into
 * HostFacts. The probe reports raw evidence (tool output, exit codes, stat fields); the interpretation — open vs refused
 * vs timed out, password class, effective settings — lives in the readers under probe/, where it is unit-tested on
 * fixture outputs. Every line the probe prints is declared in probe/vocabulary.ts.
 */
import ipaddr from 'ipaddr.js'
import {internalError} from '../errors.js'
import {checkScriptRun, renderScript} from '../remote/script.js'
import type {ScriptRunner} from '../remote/run.js'
import {readProbeFacts} from './probe/read.js'
import type {DoctorInput, HostFacts} from './types.js'

export {MAX_KEYS_FILE_BYTES} from './probe/files.js'
export {parseOsRelease} from './probe/host.js'
export {classifyTcp} from './probe/network.js'
export {readProbeFacts} from './probe/read.js'
export {opensshVersionNumber, parseSshdT, pickSshdVersion} from './probe/sshd.js'
export {PROBE_VERSION} from './probe/vocabulary.js'

/** Seconds per TCP attempt (and per name lookup) when not told otherwise. */
export const DEFAULT_NET_TIMEOUT_S = 3
/** Documentation address (RFC 5737 TEST-NET-1) used for sshd -T -C when no vendor address was given. */
export const PLACEHOLDER_VENDOR_ADDRESS = '192.0.2.1'
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
