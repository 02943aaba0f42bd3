/**
 * `bastion tunnel` input: the tunnel's name, the vendor's tunnel server, and the pinned host key, parsed and checked
 * once, with a preset's values filling what the flags leave out. Each refusal says what, why and how to fix it.
 */
import ipaddr from 'ipaddr.js'
import {inputError} from '../errors.js'
import {parseHostPort, type HostPort} from '../input/parse.js'
import {blobKeyType, normalizeFingerprint, sha256Fingerprint} from '../ssh/fingerprint.js'
import {PRESET_NAMES, presetOf, type TunnelPreset} from './presets.js'

/** A tunnel name becomes a systemd instance name and file names: lower case, digits, `-`; 1-32 characters. */
export function parseTunnelName(raw: string): string {
  const name = raw.trim()
  const suggestion = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '').slice(0, 32)
  const fix = suggestion && suggestion !== name ? [`--name ${suggestion}`] : ['--name warehouse']
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(name) || name.endsWith('-'))
    throw inputError(
      'TUNNEL_NAME',
      `tunnel name "${name}" is not valid: use 1-32 lower-case letters, digits and "-", starting with a letter (it names the systemd unit bastion-tunnel@<name>.service and the tunnel's files)`,
      fix,
    )
  return name
}

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/

/** The vendor's tunnel server: a DNS name or an IP address (IPv6 without brackets). */
export function parseServer(raw: string): string {
  const text = raw.trim().replace(/^\[(.*)\]$/, '$1')
  if (ipaddr.isValid(text)) return ipaddr.parse(text).toString()
  if (HOSTNAME.test(text) && !/^[\d.]+$/.test(text)) return text.toLowerCase()
  throw inputError('TUNNEL_SERVER', `--server "${raw}" is not a host name or IP address`, ['--server tunnel.vendor.example'])
}

/** A login name on the vendor's server (what goes before the @). */
export function parseServerUser(raw: string): string {
  const text = raw.trim()
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(text)) return text
  throw inputError('TUNNEL_SERVER_USER', `--server-user "${raw}" is not a user name (letters, digits, ".", "_", "-")`, ['--server-user sshtunnel'])
}

export interface PinnedHostKey {
  type: string
  base64: string
  fingerprint: string
}

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/

/**
 * The server's host key from `--server-host-key`: a known_hosts line (`host keytype base64 [comment]`, as the vendor or
 * ssh-keyscan prints it) or just `keytype base64`. The host field is not kept: bastion writes its own for --server.
 */
export function parseServerHostKey(raw: string, what = '--server-host-key'): PinnedHostKey {
  const fields = raw.trim().split(/\s+/)
  if (fields[0]?.startsWith('@'))
    throw inputError('TUNNEL_HOST_KEY', `${what} is a ${fields[0]} line; give the server's own host key`, [`${what} "tunnel.vendor.example ssh-ed25519 AAAA…"`])
  const at = fields.findIndex((f) => KEY_TYPES.test(f))
  const type = at >= 0 ? fields[at] : undefined
  const base64 = at >= 0 ? fields[at + 1] : undefined
  const example = [
    `${what} "tunnel.vendor.example ssh-ed25519 AAAAC3Nz…" (the line the vendor publishes, or ssh-keyscan prints)`,
    '--server-host-key-fingerprint SHA256:… instead, to fetch the key on the host and accept it only when it has that fingerprint',
  ]
  if (!type || !base64 || at > 1) throw inputError('TUNNEL_HOST_KEY', `${what} is not a host key: expected "[host] <key type> <base64>"`, example)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw inputError('TUNNEL_HOST_KEY', `${what}: the key is not base64`, example)
  const blob = Buffer.from(base64, 'base64')
  if (blobKeyType(blob) !== type)
    throw inputError('TUNNEL_HOST_KEY', `${what}: the key data is not a ${type} key (truncated or mistyped?)`, example)
  return {type, base64, fingerprint: sha256Fingerprint(blob)}
}

export function parseHostKeyFingerprint(raw: string): string {
  const fp = normalizeFingerprint(raw)
  if (!fp)
    throw inputError('TUNNEL_HOST_KEY_FINGERPRINT', `--server-host-key-fingerprint "${raw}" is not a SHA256 fingerprint ("SHA256:" and 43 base64 characters)`, [
      'ask the vendor for it, or read it from a trusted copy of the key: ssh-keygen -lf <file with the known_hosts line>',
    ])
  return fp
}

export function parseRemotePort(raw: number | string, what = '--remote-port'): number {
  const port = Number(raw)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw inputError('PORT', `${what}: ${raw} is not a port (1-65535)`, [`${what} 12345`])
  return port
}

/** Everything that defines one tunnel. */
export interface TunnelSpec {
  name: string
  server: string
  serverPort: number
  serverUser: string
  /** The port the vendor's server listens on for this tunnel (-R <port>:…). */
  remotePort: number
  /** Listen on every address of the server (-R *:port), not only its loopback (needs GatewayPorts clientspecified there). */
  bindAll: boolean
  /** Where the forwarded connections go, as seen from the tunnel host. */
  db: HostPort
  /** The pinned key, when given (or the preset's); else `hostKeyFingerprint` is fetched and checked on the host. */
  hostKey?: PinnedHostKey
  hostKeyFingerprint?: string
  preset?: string
  /** Seconds between keep-alives, and how many may go unanswered before ssh exits (and systemd restarts it). */
  aliveInterval: number
  aliveCountMax: number
}

export interface TunnelFlagValues {
  name: string
  preset?: string
  server?: string
  'server-port'?: number
  'server-user'?: string
  'remote-port'?: number
  db: string
  'server-host-key'?: string
  'server-host-key-fingerprint'?: string
  'bind-all'?: boolean
  'alive-interval'?: number
  'alive-count-max'?: number
}

export const DEFAULT_ALIVE_INTERVAL = 15
export const DEFAULT_ALIVE_COUNT_MAX = 3

/** The tunnel as the flags give it, a preset filling what they leave out. Warnings for choices worth a second look. */
export function tunnelSpecFromFlags(flags: TunnelFlagValues): {spec: TunnelSpec; warnings: string[]} {
  const warnings: string[] = []
  const name = parseTunnelName(flags.name)
  let preset: TunnelPreset | undefined
  if (flags.preset !== undefined) {
    preset = presetOf(flags.preset)
    if (!preset)
      throw inputError('TUNNEL_PRESET', `unknown --preset "${flags.preset}"`, [`presets: ${PRESET_NAMES.join(', ')}; or give --server, --server-port and --server-user yourself`])
  }
  const serverRaw = flags.server ?? preset?.server
  if (serverRaw === undefined)
    throw inputError('TUNNEL_SERVER', `no tunnel server: give --server${preset ? ` (${preset.title} assigns one per connection: ${preset.remotePortNote})` : ''}`, [
      '--server tunnel.vendor.example',
    ])
  const server = parseServer(serverRaw)
  const remoteRaw = flags['remote-port']
  if (remoteRaw === undefined)
    throw inputError('TUNNEL_REMOTE_PORT', `no --remote-port: the port the vendor's server listens on for this tunnel${preset ? ` (${preset.remotePortNote})` : ''}`, [
      preset?.remotePortRange ? `--remote-port ${preset.remotePortRange[0]}` : '--remote-port 12345',
    ])
  const remotePort = parseRemotePort(remoteRaw)
  const range = preset?.remotePortRange
  if (range && (remotePort < range[0] || remotePort > range[1]))
    warnings.push(`--remote-port ${remotePort} is outside the ${preset?.title} tunnel range ${range[0]}-${range[1]}: its server will probably refuse the forward`)
  const serverPort = flags['server-port'] ?? preset?.serverPort ?? 22
  const userRaw = flags['server-user'] ?? preset?.serverUser?.replaceAll('{remote-port}', String(remotePort))
  if (userRaw === undefined) throw inputError('TUNNEL_SERVER_USER', 'no --server-user: the login the vendor gave you on its tunnel server', ['--server-user sshtunnel'])
  const serverUser = parseServerUser(userRaw)
  const db = parseHostPort(flags.db, '--db')
  if (flags['server-host-key'] !== undefined && flags['server-host-key-fingerprint'] !== undefined)
    throw inputError('TUNNEL_HOST_KEY', 'give --server-host-key or --server-host-key-fingerprint, not both', [
      'the key itself (--server-host-key) needs no fetching; the fingerprint makes the host fetch the key and check it',
    ])
  let hostKey: PinnedHostKey | undefined
  let hostKeyFingerprint: string | undefined
  if (flags['server-host-key'] !== undefined) hostKey = parseServerHostKey(flags['server-host-key'])
  else if (flags['server-host-key-fingerprint'] !== undefined) hostKeyFingerprint = parseHostKeyFingerprint(flags['server-host-key-fingerprint'])
  else if (preset?.hostKey && flags.server === undefined) hostKey = parseServerHostKey(preset.hostKey, `the ${preset.title} preset's host key`)
  else
    throw inputError(
      'TUNNEL_HOST_KEY_MISSING',
      `the tunnel server's host key must be pinned: give --server-host-key or --server-host-key-fingerprint (bastion never trusts a server's key on first use, and never turns StrictHostKeyChecking off)`,
      [
        '--server-host-key "<the known_hosts line the vendor publishes>"',
        '--server-host-key-fingerprint SHA256:… (ask the vendor): the host fetches the key with ssh-keyscan and pins it only when it matches',
      ],
    )
  const aliveInterval = flags['alive-interval'] ?? DEFAULT_ALIVE_INTERVAL
  const aliveCountMax = flags['alive-count-max'] ?? DEFAULT_ALIVE_COUNT_MAX
  return {
    spec: {
      name,
      server,
      serverPort,
      serverUser,
      remotePort,
      bindAll: flags['bind-all'] ?? preset?.bindAll ?? false,
      db,
      ...(hostKey ? {hostKey} : {}),
      ...(hostKeyFingerprint ? {hostKeyFingerprint} : {}),
      ...(flags.preset ? {preset: flags.preset} : {}),
      aliveInterval,
      aliveCountMax,
    },
    warnings,
  }
}
