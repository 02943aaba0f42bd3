/**
 * Flags shared by every command that logs in to hosts over SSH. Spread `connectionFlags` into a command's flags, and
 * read them through `withConnectionEnv` (BASTION_* environment defaults) and `requireHosts`.
 */
import {Flags} from '@oclif/core'
import {inputError} from '../errors.js'
import {normalizeFingerprint} from './fingerprint.js'
import type {ConnectionOptions} from './types.js'

export const connectionFlags = {
  host: Flags.string({
    description: 'Host to log in to over SSH: host, user@host, user@host:port, [ipv6]:port or an alias from ~/.ssh/config. Repeat for several hosts. Default: BASTION_HOST (comma-separated).',
    helpValue: '[user@]host[:port]',
    multiple: true,
  }),
  port: Flags.integer({
    description: 'SSH port, when not given in --host (default: BASTION_PORT, else ssh config Port, else 22).',
    min: 1,
    max: 65535,
  }),
  user: Flags.string({
    description: 'Login user with passwordless sudo, when not given in --host (default: BASTION_USER, else ssh config User, else your local user name).',
  }),
  identity: Flags.string({
    char: 'i',
    description: 'Private key file to log in with (repeatable; tried after ssh-agent keys). Default: BASTION_IDENTITY (comma-separated), else ssh config IdentityFile, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa.',
    helpValue: '<key file>',
    multiple: true,
  }),
  jump: Flags.string({
    description: 'Reach the host through a jump host (like ssh -J): [user@]host[:port], or a chain a,b. Default: BASTION_JUMP, else ssh config ProxyJump.',
    helpValue: '[user@]jumphost[:port]',
  }),
  'host-key': Flags.string({
    description: 'Trust only this host key fingerprint (as `ssh-keygen -lf` prints it), checked out of band, e.g. from the cloud console. known_hosts is then not consulted. Repeatable.',
    helpValue: 'SHA256:…',
    multiple: true,
    async parse(input: string): Promise<string> {
      const fp = normalizeFingerprint(input)
      if (!fp) {
        throw new Error(`--host-key ${JSON.stringify(input)} is not a SHA256 fingerprint. Expected "SHA256:" and 43 base64 characters, as printed by \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the host.`)
      }
      return fp
    },
  }),
  'accept-new': Flags.boolean({
    description: 'Trust an unknown host key on first use and record it in known_hosts (like StrictHostKeyChecking=accept-new). A changed key is still refused.',
    default: false,
  }),
  'known-hosts': Flags.string({
    description: 'known_hosts file to check host keys against (repeatable; the first is where --accept-new records keys). Default: BASTION_KNOWN_HOSTS (comma-separated), else ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.',
    helpValue: '<file>',
    multiple: true,
  }),
  'ssh-config': Flags.string({
    description: 'ssh config file to read Host aliases from (default: BASTION_SSH_CONFIG, else ~/.ssh/config).',
    helpValue: '<file>',
  }),
  'connect-timeout': Flags.integer({
    description: 'Seconds to wait for the TCP connection and SSH handshake.',
    default: 15,
    min: 1,
  }),
  'command-timeout': Flags.integer({
    description: 'Seconds to wait for the remote work on each host.',
    default: 120,
    min: 1,
  }),
  concurrency: Flags.integer({
    description: 'How many hosts to work on at once.',
    default: 10,
    min: 1,
  }),
}

/** The parsed values of `connectionFlags` (all optional, so commands can pass their whole flags object). */
export interface ConnectionFlagValues {
  host?: string[]
  port?: number
  user?: string
  identity?: string[]
  jump?: string
  'host-key'?: string[]
  'accept-new'?: boolean
  'known-hosts'?: string[]
  'ssh-config'?: string
  'connect-timeout'?: number
  'command-timeout'?: number
  concurrency?: number
}

/** The environment variables that stand in for connection flags left off the command line (lists comma-separated). */
export const CONNECTION_ENV = {
  host: 'BASTION_HOST',
  user: 'BASTION_USER',
  port: 'BASTION_PORT',
  identity: 'BASTION_IDENTITY',
  jump: 'BASTION_JUMP',
  'known-hosts': 'BASTION_KNOWN_HOSTS',
  'ssh-config': 'BASTION_SSH_CONFIG',
} as const

/** The flags, with every connection flag that was not given taken from its BASTION_* variable when that is set. */
export function withConnectionEnv<F extends ConnectionFlagValues>(flags: F, env: NodeJS.ProcessEnv = process.env): F {
  const out: F = {...flags}
  const list = (name: string) => (env[name] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '')
  const one = (name: string) => (env[name] ?? '').trim() || undefined
  if (!out.host?.length && list(CONNECTION_ENV.host).length > 0) out.host = list(CONNECTION_ENV.host)
  if (!out.identity?.length && list(CONNECTION_ENV.identity).length > 0) out.identity = list(CONNECTION_ENV.identity)
  if (!out['known-hosts']?.length && list(CONNECTION_ENV['known-hosts']).length > 0) out['known-hosts'] = list(CONNECTION_ENV['known-hosts'])
  if (out.user === undefined && one(CONNECTION_ENV.user)) out.user = one(CONNECTION_ENV.user)
  if (out.jump === undefined && one(CONNECTION_ENV.jump)) out.jump = one(CONNECTION_ENV.jump)
  if (out['ssh-config'] === undefined && one(CONNECTION_ENV['ssh-config'])) out['ssh-config'] = one(CONNECTION_ENV['ssh-config'])
  const port = one(CONNECTION_ENV.port)
  if (out.port === undefined && port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      throw inputError('PORT', `BASTION_PORT="${port}" is not a port`, ['ports are 1-65535, e.g. export BASTION_PORT=22', 'or unset BASTION_PORT'])
    out.port = Number(port)
  }
  return out
}

/** The hosts to work on: --host, else BASTION_HOST (after withConnectionEnv); refused when there is none. */
export function requireHosts(flags: ConnectionFlagValues): string[] {
  if (flags.host && flags.host.length > 0) return flags.host
  throw inputError('HOST_MISSING', 'no host to work on: give --host (repeatable) or set BASTION_HOST', [
    '--host admin@10.0.0.5',
    'export BASTION_HOST=admin@10.0.0.5   (several: comma-separated)',
  ])
}

export function toConnectionOptions(flags: ConnectionFlagValues): ConnectionOptions {
  const opts: ConnectionOptions = {}
  if (flags.port !== undefined) opts.port = flags.port
  if (flags.user !== undefined && flags.user !== '') opts.user = flags.user
  if (flags.identity && flags.identity.length > 0) opts.identityFiles = [...flags.identity]
  if (flags.jump !== undefined && flags.jump !== '') opts.jump = flags.jump
  if (flags['host-key'] && flags['host-key'].length > 0) {
    opts.hostKeyPins = flags['host-key'].map((v) => normalizeFingerprint(v) ?? v)
  }
  if (flags['accept-new']) opts.acceptNew = true
  if (flags['known-hosts'] && flags['known-hosts'].length > 0) opts.knownHostsFiles = [...flags['known-hosts']]
  if (flags['ssh-config'] !== undefined && flags['ssh-config'] !== '') opts.sshConfigFile = flags['ssh-config']
  if (flags['connect-timeout'] !== undefined) opts.connectTimeoutMs = flags['connect-timeout'] * 1000
  if (flags['command-timeout'] !== undefined) opts.commandTimeoutMs = flags['command-timeout'] * 1000
  return opts
}
