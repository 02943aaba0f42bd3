/**
 * Turn a `--host` value into the address, port, user, keys and known_hosts name to use,
 * applying ~/.ssh/config (via the `ssh-config` package) the way `ssh` does for the directives we honour.
 *
 * Precedence, most specific first: values written in the --host string (`user@host:port`),
 * then flags (--user/--port/--identity/--jump), then ssh config, then defaults
 * (local user name, port 22, ~/.ssh/id_ed25519|id_ecdsa|id_rsa).
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {isIPv6} from 'node:net'
import {homedir, hostname as localHostname, userInfo} from 'node:os'
import {basename, dirname, isAbsolute, join, resolve} from 'node:path'
import SSHConfig from 'ssh-config'
import {expandTilde} from '../input/parse.js'
import {BastionError, inputError} from '../errors.js'
import {CONFIG_FILE_MAX_BYTES, checkRegularFile, readLimited} from '../input/file.js'
import {GLOBAL_KNOWN_HOSTS_FILES, defaultUserKnownHostsFile, knownHostsName, matchPattern} from './known-hosts.js'
import type {ConnectionOptions, HostTarget} from './types.js'

/** A HostTarget with the known_hosts files to consult (first one is written by --accept-new). */
export interface ResolvedTarget extends HostTarget {
  knownHostsFiles: string[]
  /** HostKeyAlias from ssh config, if any. */
  hostKeyAlias?: string
  /** Host, user, port as parsed out of the input string (before config). */
  parsed: ParsedHostInput
}

export interface ParsedHostInput {
  user?: string
  host: string
  port?: number
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa']

const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._%-]*$/
// Login names: no whitespace, quotes, shell metacharacters or a leading '-'.
const USER_RE = /^[A-Za-z0-9._][A-Za-z0-9._@+$-]*$/

/** `what`: where the value came from, `--host`, `--jump` or `ssh config ProxyJump for <host>`. */
function hostFixes(input: string, what: string): string[] {
  if (what === '--host')
    return [
      `Write --host as host, user@host, user@host:port, [ipv6]:port or an alias from ~/.ssh/config (got ${JSON.stringify(input)}).`,
      'Example: --host admin@10.0.1.4:22 or --host warehouse-jump',
    ]
  if (what === '--jump')
    return [
      `Write --jump as [user@]host[:port], [user@][ipv6]:port or an alias from ~/.ssh/config, or a comma-separated chain a,b (got ${JSON.stringify(input)}).`,
      'Example: --jump ops@jump.example.com:2200',
    ]
  return [`Fix the ProxyJump line in your ssh config: [user@]host[:port], or a comma-separated chain a,b (check with \`ssh -G <host> | grep -i proxyjump\`).`]
}

export function parsePort(value: string | number, what: string): number {
  const text = String(value).trim()
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw inputError('BAD_PORT', `${what}: port ${JSON.stringify(String(value))} is not a TCP port number.`, [
      'Use a whole number from 1 to 65535 (SSH normally listens on 22).',
    ])
  }
  return n
}

export function validateUser(user: string, what: string): string {
  if (!USER_RE.test(user) || user.length > 256) {
    throw inputError('BAD_USER', `${what}: ${JSON.stringify(user)} is not a valid login name.`, [
      'A login name is letters, digits, ".", "_", "-" (not starting with "-"), e.g. admin, ubuntu, ec2-user.',
    ])
  }
  return user
}

function validateHost(host: string, input: string, what: string): string {
  if (host === '' || host.length > 1025 || !(HOST_RE.test(host) || isIPv6(host.replace(/%[A-Za-z0-9_.-]+$/, '')))) {
    throw inputError('BAD_HOST', `${what} ${JSON.stringify(input)}: ${JSON.stringify(host)} is not a host name, address or ssh config alias.`, hostFixes(input, what))
  }
  return host
}

/**
 * Split `[ssh://][user@]host[:port]`, `[user@][v6addr]:port` or a bare IPv6 address into parts.
 * Does not consult ssh config. `what` names the value in messages: `--host` (default), `--jump`, or the ssh config
 * line it came from.
 */
export function parseHostInput(input: string, what = '--host'): ParsedHostInput {
  let s = input.trim()
  if (s === '') throw inputError('BAD_HOST', `${what} is empty.`, hostFixes(input, what))
  if (/[\s\0]/.test(s)) throw inputError('BAD_HOST', `${what} ${JSON.stringify(input)} contains whitespace or control characters.`, hostFixes(input, what))
  if (s.startsWith('ssh://')) s = s.slice('ssh://'.length).replace(/\/$/, '')
  let user: string | undefined
  const at = s.lastIndexOf('@')
  if (at !== -1) {
    user = validateUser(s.slice(0, at), `${what} ${JSON.stringify(input)}`)
    s = s.slice(at + 1)
  }
  let host: string
  let port: number | undefined
  if (s.startsWith('[')) {
    const close = s.indexOf(']')
    if (close === -1) throw inputError('BAD_HOST', `${what} ${JSON.stringify(input)}: "[" without a closing "]".`, hostFixes(input, what))
    host = s.slice(1, close)
    const after = s.slice(close + 1)
    if (after !== '') {
      if (!after.startsWith(':')) throw inputError('BAD_HOST', `${what} ${JSON.stringify(input)}: expected ":port" after "]".`, hostFixes(input, what))
      port = parsePort(after.slice(1), `${what} ${JSON.stringify(input)}`)
    }
  } else if ((s.match(/:/g) ?? []).length >= 2) {
    host = s // bare IPv6 address, no port
    if (!isIPv6(host.replace(/%[A-Za-z0-9_.-]+$/, ''))) {
      throw inputError('BAD_HOST', `${what} ${JSON.stringify(input)}: not a valid IPv6 address. To give a port with IPv6, write [addr]:port.`, hostFixes(input, what))
    }
  } else {
    const colon = s.indexOf(':')
    if (colon === -1) {
      host = s
    } else {
      host = s.slice(0, colon)
      port = parsePort(s.slice(colon + 1), `${what} ${JSON.stringify(input)}`)
    }
  }
  validateHost(host, input, what)
  return {host, ...(user === undefined ? {} : {user}), ...(port === undefined ? {} : {port})}
}

export function localUserName(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root'
  }
}

export interface TokenContext {
  /** Remote host name (after HostName). */
  host: string
  /** Host as typed (alias). */
  originalHost: string
  user: string
  port: number
  hostKeyAlias?: string
}

/** OpenSSH `%` tokens used in IdentityFile / UserKnownHostsFile / HostName: %% %d %h %i %k %l %L %n %p %r %u. */
export function expandTokens(value: string, ctx: TokenContext, directive: string): string {
  return value.replace(/%(.)/g, (all, ch: string) => {
    switch (ch) {
      case '%': return '%'
      case 'd': return homedir()
      case 'h': return ctx.host
      case 'i': return String(process.getuid?.() ?? 0)
      case 'k': return ctx.hostKeyAlias ?? ctx.originalHost
      case 'l': return localHostname()
      case 'L': return localHostname().split('.')[0] ?? ''
      case 'n': return ctx.originalHost
      case 'p': return String(ctx.port)
      case 'r': return ctx.user
      case 'u': return localUserName()
      default:
        throw inputError('SSH_CONFIG_TOKEN', `ssh config ${directive} ${JSON.stringify(value)} uses the token ${all}, which bastion does not expand.`, [
          'Use one of %% %d %h %i %k %l %L %n %p %r %u, or write the path out.',
        ])
    }
  })
}

function expandPath(value: string, ctx: TokenContext, directive: string): string {
  return resolve(expandTilde(expandTokens(value, ctx, directive)))
}

/** Read an ssh config file with `Include` lines expanded in place (globs in the last path component). */
export function readSshConfigText(file: string, depth = 0): string {
  if (depth > 16) throw inputError('SSH_CONFIG_INCLUDE', `ssh config: Include nested too deeply at ${file}.`, ['Check for an Include loop.'])
  const text = readLimited(file, {
    label: `ssh config ${file}`,
    holds: 'an ssh config file',
    maxBytes: CONFIG_FILE_MAX_BYTES,
    fix: ['Check the --ssh-config path (or the Include lines of the config): it names an ssh config text file, e.g. ~/.ssh/config.'],
  }).toString('utf8')
  return text.split(/\r?\n/).map((line) => {
    const m = /^\s*include\s*[ =]\s*(.+?)\s*$/i.exec(line)
    if (!m) return line
    const parts = (m[1] ?? '').split(/\s+/).map((p) => p.replace(/^"(.*)"$/, '$1'))
    const out: string[] = []
    for (const part of parts) {
      let path = expandTilde(part)
      if (!isAbsolute(path)) path = join(homedir(), '.ssh', path)
      for (const f of globFiles(path)) out.push(readSshConfigText(f, depth + 1))
    }
    return out.join('\n')
  }).join('\n')
}

function globFiles(path: string): string[] {
  const name = basename(path)
  if (!/[*?]/.test(name)) return existsSync(path) && statSync(path).isFile() ? [path] : []
  const dir = dirname(path)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.filter((n) => matchPattern(n, name)).sort().map((n) => join(dir, n)).filter((f) => statSync(f).isFile())
}

const configCache = new Map<string, SSHConfig>()

/** Parsed ssh config: opts.sshConfigFile (must exist) or ~/.ssh/config (may be missing). */
export function loadSshConfig(file?: string): SSHConfig {
  const path = file === undefined ? join(homedir(), '.ssh', 'config') : resolve(expandTilde(file))
  const cached = configCache.get(path)
  if (cached) return cached
  let text = ''
  if (existsSync(path)) {
    try {
      text = readSshConfigText(path)
    } catch (error) {
      if (error instanceof BastionError) throw error
      throw inputError('SSH_CONFIG_UNREADABLE', `Cannot read ssh config ${path}: ${(error as Error).message}`, ['Fix the file permissions, or pass --ssh-config with another file.'])
    }
  } else if (file !== undefined) {
    throw inputError('SSH_CONFIG_MISSING', `ssh config file ${path} does not exist.`, ['Check the --ssh-config path, or leave it out to use ~/.ssh/config.'])
  }
  let parsed: SSHConfig
  try {
    parsed = SSHConfig.parse(text)
  } catch (error) {
    throw inputError('SSH_CONFIG_SYNTAX', `Cannot parse ssh config ${path}: ${(error as Error).message}`, ['Check the file with `ssh -G <host>`.'])
  }
  configCache.set(path, parsed)
  return parsed
}

/** Forget parsed ssh config files (tests that rewrite a config file). */
export function clearSshConfigCache(): void {
  configCache.clear()
}

type Computed = Record<string, string | string[]>

function first(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value[0] : value
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  return (Array.isArray(value) ? value : value.split(/\s+/)).filter((v) => v !== '')
}

/** Default identity files that exist: ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
export function defaultIdentityFiles(): string[] {
  return DEFAULT_IDENTITIES.map((n) => join(homedir(), '.ssh', n)).filter((f) => existsSync(f))
}

/**
 * Resolve a --host value (or a jump hop: `what` names where it came from) against flags and ssh config. Throws
 * inputError (exit 2) on malformed input.
 */
export function resolveTarget(input: string, opts: ConnectionOptions = {}, what = '--host'): ResolvedTarget {
  const parsed = parseHostInput(input, what)
  const config = loadSshConfig(opts.sshConfigFile)
  const explicitUser = parsed.user ?? (opts.user === undefined ? undefined : validateUser(opts.user, '--user'))
  const computed: Computed = config.compute(
    explicitUser === undefined ? {Host: parsed.host} : {Host: parsed.host, User: explicitUser},
    {ignoreCase: true, matchExec: true},
  )
  const cfg = (key: string): string | undefined => first(computed[key.toLowerCase()])

  let port: number
  if (parsed.port !== undefined) port = parsed.port
  else if (opts.port !== undefined) port = parsePort(opts.port, '--port')
  else if (cfg('Port') !== undefined) port = parsePort(cfg('Port') as string, `ssh config Port for ${parsed.host}`)
  else port = 22

  const user = explicitUser ?? (cfg('User') === undefined ? localUserName() : validateUser(cfg('User') as string, `ssh config User for ${parsed.host}`))

  const configHostName = cfg('HostName')
  let hostName = parsed.host
  if (configHostName !== undefined) {
    hostName = expandTokens(configHostName, {host: parsed.host, originalHost: parsed.host, user, port}, 'HostName')
    validateHost(hostName, `${input} (HostName ${configHostName} from ssh config)`, what)
  }
  const hostKeyAlias = cfg('HostKeyAlias')
  const ctx: TokenContext = {host: hostName, originalHost: parsed.host, user, port, ...(hostKeyAlias ? {hostKeyAlias} : {})}

  // Identities: --identity first (must exist), then ssh config IdentityFile (skipped when missing), else defaults.
  const identityFiles: string[] = []
  for (const f of opts.identityFiles ?? []) {
    const path = resolve(expandTilde(f))
    if (!existsSync(path)) {
      throw inputError('IDENTITY_NOT_FOUND', `--identity ${f}: no such file (${path}).`, [
        'Give the path of your private key file (not the .pub), e.g. --identity ~/.ssh/id_ed25519.',
      ])
    }
    checkRegularFile(path, {label: `--identity ${f}`, holds: 'a private key', fix: ['Give the path of your private key file (not the .pub), e.g. --identity ~/.ssh/id_ed25519.']})
    if (!identityFiles.includes(path)) identityFiles.push(path)
  }
  for (const f of list(computed.identityfile)) {
    if (f.toLowerCase() === 'none') continue
    const path = expandPath(f, ctx, 'IdentityFile')
    if (existsSync(path) && !identityFiles.includes(path)) identityFiles.push(path)
  }
  if (identityFiles.length === 0) identityFiles.push(...defaultIdentityFiles())

  let proxyJump: string | undefined
  if (opts.jump !== undefined && opts.jump.trim() !== '') proxyJump = opts.jump.trim()
  else {
    const pj = cfg('ProxyJump')
    if (pj !== undefined && pj.toLowerCase() !== 'none') proxyJump = pj
  }
  if (proxyJump !== undefined && proxyJump.toLowerCase() === 'none') proxyJump = undefined
  const proxyCommand = cfg('ProxyCommand')
  if (proxyJump === undefined && proxyCommand !== undefined && proxyCommand.toLowerCase() !== 'none') {
    throw inputError('SSH_CONFIG_PROXYCOMMAND', `ssh config for ${parsed.host} uses ProxyCommand (${proxyCommand}), which bastion does not run.`, [
      'Use ProxyJump instead (e.g. "ProxyJump user@jumphost") or pass --jump user@jumphost.',
    ])
  }

  let knownHostsFiles: string[]
  if (opts.knownHostsFiles !== undefined && opts.knownHostsFiles.length > 0) {
    knownHostsFiles = opts.knownHostsFiles.map((f) => resolve(expandTilde(f)))
  } else {
    const userFiles = list(computed.userknownhostsfile).filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, ctx, 'UserKnownHostsFile'))
    const globalFiles = computed.globalknownhostsfile === undefined
      ? GLOBAL_KNOWN_HOSTS_FILES
      : list(computed.globalknownhostsfile).filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, ctx, 'GlobalKnownHostsFile'))
    knownHostsFiles = [...(userFiles.length > 0 ? userFiles : [defaultUserKnownHostsFile()]), ...globalFiles]
  }

  return {
    input,
    hostName,
    port,
    user,
    identityFiles,
    ...(proxyJump === undefined ? {} : {proxyJump}),
    knownHostsName: hostKeyAlias ?? knownHostsName(hostName, port),
    knownHostsFiles,
    ...(hostKeyAlias ? {hostKeyAlias} : {}),
    parsed,
  }
}

/**
 * The hops to go through to reach `target`, nearest first (empty without ProxyJump).
 * Each hop is resolved against ssh config like a --host value, without the target's --user/--port/--jump;
 * --identity files are offered to every hop. As with `ssh -J a,b`, only the first hop's own ProxyJump applies.
 */
export function resolveJumpChain(target: HostTarget, opts: ConnectionOptions = {}): ResolvedTarget[] {
  const chain: ResolvedTarget[] = []
  const hopOpts: ConnectionOptions = {
    ...(opts.sshConfigFile === undefined ? {} : {sshConfigFile: opts.sshConfigFile}),
    ...(opts.knownHostsFiles === undefined ? {} : {knownHostsFiles: opts.knownHostsFiles}),
    ...(opts.identityFiles === undefined ? {} : {identityFiles: opts.identityFiles}),
  }
  const expand = (spec: string, depth: number, what: string): void => {
    if (depth > 8) {
      throw inputError('JUMP_LOOP', `ProxyJump chain for ${target.input} is longer than 8 hops; is there a loop in ssh config?`, [
        'Check the ProxyJump lines in your ssh config (`ssh -G <host> | grep -i proxyjump`).',
      ])
    }
    const hops = spec.split(',').map((h) => h.trim()).filter((h) => h !== '')
    if (hops.length === 0) throw inputError('BAD_JUMP', `${what} ${JSON.stringify(spec)} names no host.`, hostFixes(spec, what))
    hops.forEach((hop, i) => {
      const t = resolveTarget(hop, hopOpts, what)
      if (i === 0 && t.proxyJump !== undefined) expand(t.proxyJump, depth + 1, `ssh config ProxyJump for ${hop}`)
      chain.push(t)
    })
  }
  const fromFlag = opts.jump !== undefined && opts.jump.trim() !== ''
  if (target.proxyJump !== undefined) expand(target.proxyJump, 0, fromFlag ? '--jump' : `ssh config ProxyJump for ${target.input}`)
  return chain
}
