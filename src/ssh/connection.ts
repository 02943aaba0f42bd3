/**
 * One verified, authenticated SSH connection per host (optionally through ProxyJump hops), on top of ssh2's Client.
 *
 * Host keys are checked in ssh2's `hostVerifier` like OpenSSH with StrictHostKeyChecking=yes (or accept-new):
 * a pinned fingerprint (--host-key) must match, otherwise known_hosts decides; a changed key is always refused.
 * Authentication: ssh-agent, then each identity file. Every failure becomes a BastionError with a code,
 * an exit status from src/errors.ts and suggestions.
 */
import {existsSync} from 'node:fs'
import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, NextAuthHandler, ParsedKey, ServerHostKeyAlgorithm, Client as SshClient} from 'ssh2'
import {BastionError, Exit} from '../errors.js'
import {KEY_FILE_MAX_BYTES, readLimited} from '../input/file.js'
import {blobKeyType, sha256Fingerprint} from './fingerprint.js'
import {appendKnownHost, checkHostKey, defaultUserKnownHostsFile, GLOBAL_KNOWN_HOSTS_FILES, knownKeyTypes} from './known-hosts.js'
import type {KnownHostEntry} from './known-hosts.js'
import {resolveJumpChain, resolveTarget} from './target.js'
import type {ConnectionOptions, ExecResult, HostTarget, SshSession} from './types.js'

/** A timeout for a message: `300 ms`, `1.5 s`, `30 s`, `2 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 10_000) return `${Math.round(ms / 100) / 10} s`
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`
  return `${Math.round(ms / 6000) / 10} min`
}

const {Client, OpenSSHAgent, utils} = ssh2

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000
export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000
/** Connection-phase resets (sshd MaxStartups, a restarting sshd) are retried this many times. */
export const CONNECT_RETRIES = 3

const DEFAULT_HOST_KEY_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
]

/** Host key algorithms that produce a key of the given known_hosts key type. */
export function algorithmsForKeyType(keyType: string): ServerHostKeyAlgorithm[] {
  switch (keyType) {
    case 'ssh-rsa': return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
    case 'ssh-ed25519':
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      return [keyType]
    default: return []
  }
}

/**
 * ssh2's `algorithms.serverHostKey`: algorithms for the key types already known for this host first
 * (so the server presents the key we know, as OpenSSH does), then the usual defaults; `exclude` drops key types.
 */
export function hostKeyAlgorithmOrder(knownTypes: string[], exclude: string[] = []): ServerHostKeyAlgorithm[] {
  const excluded = new Set(exclude.flatMap(algorithmsForKeyType))
  const preferred = knownTypes.flatMap(algorithmsForKeyType)
  const order: ServerHostKeyAlgorithm[] = []
  for (const a of [...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS]) {
    if (!order.includes(a) && !excluded.has(a)) order.push(a)
  }
  return order
}

/** Where a host is, for messages: `user@host:port`, with the jump chain if any. */
function describe(t: HostTarget): string {
  const host = t.hostName.includes(':') ? `[${t.hostName}]` : t.hostName
  return `${t.user}@${host}:${t.port}`
}

function hostPort(t: HostTarget): string {
  return `${t.hostName.includes(':') ? `[${t.hostName}]` : t.hostName}:${t.port}`
}

function knownFilesFor(t: HostTarget, opts: ConnectionOptions): string[] {
  if (t.knownHostsFiles && t.knownHostsFiles.length > 0) return t.knownHostsFiles
  if (opts.knownHostsFiles && opts.knownHostsFiles.length > 0) return opts.knownHostsFiles
  return [defaultUserKnownHostsFile(), ...GLOBAL_KNOWN_HOSTS_FILES]
}

function where(e: KnownHostEntry): string {
  return `${e.file}:${e.line}`
}

// ---------------------------------------------------------------------------------------------------------------
// Host key policy

export interface HostKeyPolicy {
  /** Pinned fingerprints; known_hosts is not consulted when present. */
  pins?: string[]
  acceptNew: boolean
  knownHostsFiles: string[]
}

export interface HostKeyDecision {
  ok: boolean
  fingerprint: string
  keyType: string
  error?: BastionError
  /** Set when an unknown key is to be recorded once the handshake has proved the server holds it. */
  record?: {file: string; name: string; keyType: string; base64: string}
}

/** Decide about a presented host key blob (pure apart from reading known_hosts). */
export function decideHostKey(target: HostTarget, blob: Buffer, policy: HostKeyPolicy): HostKeyDecision {
  const fingerprint = sha256Fingerprint(blob)
  const keyType = blobKeyType(blob) ?? 'unknown'
  const name = target.knownHostsName
  const detail = {host: target.input, knownHostsName: name, fingerprint, keyType}
  if (policy.pins && policy.pins.length > 0) {
    if (policy.pins.includes(fingerprint)) return {ok: true, fingerprint, keyType}
    return {
      ok: false, fingerprint, keyType,
      error: new BastionError('HOST_KEY_MISMATCH',
        `The ${keyType} host key of ${hostPort(target)} is ${fingerprint}, which matches none of the pinned --host-key values (${policy.pins.join(', ')}). ` +
        'Someone could be intercepting the connection, the host may have been rebuilt, or the pin is for another host.',
        {exit: Exit.HOST_KEY, detail: {...detail, pins: policy.pins}, suggestions: [
          'Check the host key out of band (cloud console / serial console output, or `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the host) and pin the right one.',
          `If the host was rebuilt on purpose and ${fingerprint} is its new key: --host-key ${fingerprint}`,
        ]}),
    }
  }
  const files = policy.knownHostsFiles
  const check = checkHostKey(name, blob, files)
  switch (check.status) {
    case 'match':
      return {ok: true, fingerprint, keyType}
    case 'revoked':
      return {
        ok: false, fingerprint, keyType,
        error: new BastionError('HOST_KEY_REVOKED',
          `The ${keyType} host key ${fingerprint} presented by ${hostPort(target)} is marked @revoked in ${check.entry ? where(check.entry) : 'known_hosts'}; refusing to connect.`,
          {exit: Exit.HOST_KEY, detail, suggestions: [
            'A revoked key must never be accepted. Give the host a new host key, then trust the new key with --host-key SHA256:… after checking it out of band.',
          ]}),
      }
    case 'changed': {
      const old = check.previous.map((e) => `${e.keyType} ${e.fingerprint} at ${where(e)}`).join('; ')
      return {
        ok: false, fingerprint, keyType,
        error: new BastionError('HOST_KEY_CHANGED',
          `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${name}! ` +
          `The host now presents the ${keyType} key ${fingerprint}, but known_hosts records ${old}. ` +
          'Someone could be eavesdropping on you right now (man-in-the-middle attack), or the host key has just been changed. Refusing to connect.',
          {exit: Exit.HOST_KEY, detail: {...detail, previous: check.previous.map((e) => ({file: e.file, line: e.line, keyType: e.keyType, fingerprint: e.fingerprint}))}, suggestions: [
            'Find out whether the host was rebuilt or its host key was rotated. If not, do not connect: the connection may be intercepted.',
            `If the change is expected: ssh-keygen -R ${JSON.stringify(name)}${files[0] ? ` -f ${files[0]}` : ''}, then connect again with --host-key ${fingerprint} (after checking it out of band) or --accept-new.`,
          ]}),
      }
    }
    case 'unknown': {
      if (policy.acceptNew) {
        const file = files[0]
        if (file === undefined) break
        return {ok: true, fingerprint, keyType, record: {file, name, keyType, base64: blob.toString('base64')}}
      }
      return {
        ok: false, fingerprint, keyType,
        error: new BastionError('HOST_KEY_UNKNOWN',
          `The authenticity of host ${name} can't be established: its ${keyType} key ${fingerprint} is not in ${files.join(' or ')}.`,
          {exit: Exit.HOST_KEY, detail, suggestions: [
            `Check ${fingerprint} out of band (the cloud console's system log prints the host key fingerprints at first boot, or run \`ssh-keygen -lf /etc/ssh/ssh_host_${keyType.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub\` on the host), then pin it: --host-key ${fingerprint}`,
            `Or trust it on first use and record it in ${files[0] ?? '~/.ssh/known_hosts'}: --accept-new`,
          ]}),
      }
    }
  }
  return {ok: false, fingerprint, keyType, error: new BastionError('HOST_KEY_UNKNOWN', `No known_hosts file to check ${name} against.`, {exit: Exit.HOST_KEY, detail, suggestions: ['Pass --known-hosts <file> or --host-key SHA256:…']})}
}

// ---------------------------------------------------------------------------------------------------------------
// Authentication

export interface AuthPlan {
  user: string
  methods: AnyAuthMethod[]
  /** What will be tried, for messages: `agent key SHA256:… (comment)`, `key file ~/.ssh/id_ed25519 (SHA256:…)`. */
  offered: string[]
  /** Things skipped, for messages (encrypted key, unreadable file, agent not reachable …). */
  notes: string[]
}

function listAgentKeys(agent: InstanceType<typeof OpenSSHAgent>, timeoutMs: number): Promise<ParsedKey[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ssh-agent did not answer')), timeoutMs)
    agent.getIdentities((err, keys) => {
      clearTimeout(timer)
      if (err) reject(err)
      else resolve((keys ?? []).filter((k): k is ParsedKey => typeof (k as ParsedKey).getPublicSSH === 'function'))
    })
  })
}

/** Work out the credentials to offer: ssh-agent keys (opts.agentSocket ?? $SSH_AUTH_SOCK; '' disables), then identity files. */
export async function planAuth(target: HostTarget, opts: ConnectionOptions): Promise<AuthPlan> {
  const plan: AuthPlan = {user: target.user, methods: [], offered: [], notes: []}
  const socket = opts.agentSocket ?? process.env.SSH_AUTH_SOCK ?? ''
  if (socket !== '') {
    if (!existsSync(socket)) {
      plan.notes.push(`ssh-agent socket ${socket} does not exist`)
    } else {
      const agent = new OpenSSHAgent(socket)
      try {
        const keys = await listAgentKeys(agent, 5000)
        if (keys.length === 0) plan.notes.push('ssh-agent holds no keys')
        else {
          plan.methods.push({type: 'agent', username: target.user, agent})
          for (const k of keys) plan.offered.push(`agent key ${sha256Fingerprint(k.getPublicSSH())}${k.comment ? ` (${k.comment})` : ''}`)
        }
      } catch (error) {
        plan.notes.push(`ssh-agent at ${socket} could not be used: ${(error as Error).message}`)
      }
    }
  }
  const encrypted: string[] = []
  for (const file of target.identityFiles) {
    let data: Buffer
    try {
      data = readLimited(file, {label: `identity ${file}`, holds: 'a private key', maxBytes: KEY_FILE_MAX_BYTES, regularOnly: true})
    } catch (error) {
      if (error instanceof BastionError) plan.notes.push(`${error.message}: skipped`)
      else plan.notes.push(`identity ${file} is not readable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
      continue
    }
    const parsed = utils.parseKey(data)
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed
    if (key === undefined || key instanceof Error) {
      const msg = key instanceof Error ? key.message : 'no key found'
      if (/encrypted|passphrase/i.test(msg)) {
        encrypted.push(file)
        plan.notes.push(`identity ${file} is encrypted with a passphrase; bastion does not prompt for passphrases, so it was skipped (load it into ssh-agent with \`ssh-add ${file}\`)`)
      } else {
        plan.notes.push(`identity ${file} could not be parsed as a private key (${msg})`)
      }
      continue
    }
    if (!key.isPrivateKey()) {
      plan.notes.push(`identity ${file} is a public key; give the private key file (without .pub)`)
      continue
    }
    plan.methods.push({type: 'publickey', username: target.user, key})
    plan.offered.push(`key file ${file} (${sha256Fingerprint(key.getPublicSSH())})`)
  }
  if (plan.methods.length === 0) {
    if (encrypted.length > 0) {
      throw new BastionError('KEY_ENCRYPTED',
        `Cannot log in to ${describe(target)}: the only key available (${encrypted.join(', ')}) is protected by a passphrase, and bastion never prompts for one.`,
        {exit: Exit.AUTH, detail: {host: target.input, notes: plan.notes}, suggestions: [
          `Load it into your ssh-agent: eval "$(ssh-agent)" && ssh-add ${encrypted[0]}  (bastion uses $SSH_AUTH_SOCK)`,
          'Or pass --identity with a key that has no passphrase (e.g. a dedicated automation key).',
        ]})
    }
    throw new BastionError('NO_CREDENTIALS',
      `Cannot log in to ${describe(target)}: no ssh-agent keys and no usable private key file${plan.notes.length ? ` (${plan.notes.join('; ')})` : ''}.`,
      {exit: Exit.AUTH, detail: {host: target.input, notes: plan.notes}, suggestions: [
        'Pass --identity <private key file>, or set IdentityFile for this host in ~/.ssh/config.',
        'Or start ssh-agent and add your key: eval "$(ssh-agent)" && ssh-add ~/.ssh/id_ed25519',
      ]})
  }
  return plan
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

interface AttemptState {
  target: HostTarget
  timeoutMs: number
  tcpConnected: boolean
  handshakeDone: boolean
  hostKeyError?: BastionError
  serverMethods?: string[]
  plan?: AuthPlan
  via?: string
}

type SshError = Error & {level?: string; code?: string | number; errno?: number; syscall?: string}

/** Is this a connection-phase drop worth retrying (sshd MaxStartups, a restarting sshd)? */
export function isTransient(err: SshError, state: Pick<AttemptState, 'handshakeDone' | 'hostKeyError'>): boolean {
  if (state.hostKeyError || state.handshakeDone) return false
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED') return true
  return /Connection lost before handshake|kex_exchange_identification|read ECONNRESET/i.test(err.message)
}

/** Turn an ssh2 / socket error into a BastionError that says what is wrong and what to check. */
export function classifyConnectError(err: SshError, state: AttemptState): BastionError {
  const t = state.target
  const hp = hostPort(t)
  const via = state.via ? ` (through jump host ${state.via})` : ''
  const detail: Record<string, unknown> = {host: t.input, address: hp, cause: err.message, ...(state.via ? {via: state.via} : {})}
  if (state.hostKeyError) return state.hostKeyError
  if (err instanceof BastionError) return err
  const code = typeof err.code === 'string' ? err.code : undefined
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return new BastionError('UNREACHABLE', `Cannot resolve host name ${JSON.stringify(t.hostName)}${code === 'EAI_AGAIN' ? ' (DNS server did not answer; try again)' : ''}.`, {
      exit: Exit.UNREACHABLE, cause: err, detail: {...detail, reason: 'dns'}, suggestions: [
        'Check the spelling of the host name, or use the IP address.',
        'If it is an ssh config alias, check the Host / HostName lines in ~/.ssh/config (`ssh -G <alias>` shows what ssh would use).',
      ]})
  }
  if (code === 'ECONNREFUSED') {
    return new BastionError('UNREACHABLE', `Nothing listening on ${hp}${via}: connection refused (is sshd running? is the port right?).`, {
      exit: Exit.UNREACHABLE, cause: err, detail: {...detail, reason: 'refused'}, suggestions: [
        'Check that sshd is running on the host (`systemctl status ssh`) and which port it listens on (`ss -tlnp | grep sshd`).',
        'Pass the right port with --port or --host user@host:port.',
      ]})
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') {
    return new BastionError('UNREACHABLE', `No route to ${hp}${via} (${code}).`, {
      exit: Exit.UNREACHABLE, cause: err, detail: {...detail, reason: 'no-route'}, suggestions: [
        'Check the address: is it a private address you can only reach through a VPN or a jump host (--jump)?',
        'Check your network connection and routes (`ip route get <address>`).',
      ]})
  }
  if (code === 'ETIMEDOUT' || err.level === 'client-timeout') {
    const secs = formatDuration(state.timeoutMs)
    if (!state.tcpConnected) {
      return new BastionError('TIMEOUT', `No answer from ${hp}${via} within ${secs}: the TCP connection never opened, so packets are probably dropped.`, {
        exit: Exit.TIMEOUT, cause: err, detail: {...detail, reason: 'connect-timeout', timeoutMs: state.timeoutMs}, suggestions: [
          'Check that the security group / network ACL / firewall allows SSH (TCP port ' + t.port + ') from your public IP address.',
          'Check that the address is right and the instance is running; a private address needs a VPN or --jump.',
          'On a slow link, raise --connect-timeout.',
        ]})
    }
    return new BastionError('TIMEOUT', `Connected to ${hp}${via}, but the SSH handshake did not finish within ${secs}.`, {
      exit: Exit.TIMEOUT, cause: err, detail: {...detail, reason: 'handshake-timeout', timeoutMs: state.timeoutMs}, suggestions: [
        'Check that the port really is sshd (something else may be listening there).',
        'sshd may be overloaded or throttling new connections (MaxStartups), or slow DNS lookups on the server (UseDNS); try again or raise --connect-timeout.',
      ]})
  }
  if (err.level === 'client-authentication' || /authentication/i.test(err.message)) {
    const plan = state.plan
    const methods = state.serverMethods
    const tried = plan?.offered ?? []
    return new BastionError('AUTH_REFUSED',
      `${hp}${via} refused our login as ${JSON.stringify(t.user)}. Tried: ${tried.length ? tried.join(', ') : 'nothing'}.` +
      (methods ? ` The server accepts: ${methods.join(', ') || 'nothing'}.` : '') +
      (plan?.notes.length ? ` Skipped: ${plan.notes.join('; ')}.` : '') +
      (/All configured authentication methods failed/.test(err.message) ? '' : ` (${err.message})`),
      {exit: Exit.AUTH, cause: err, detail: {...detail, user: t.user, tried, serverMethods: methods ?? null, notes: plan?.notes ?? []}, suggestions: [
        `Check the login name: cloud images use a default user (ubuntu, admin, ec2-user, azureuser …); pass --user or --host user@host.`,
        `Check that the public key of one of the keys tried is in ~${t.user}/.ssh/authorized_keys on the host (compare with \`ssh-keygen -lf <key>.pub\`), and that file is 0600 in a 0700 ~/.ssh owned by ${t.user}.`,
        'Pass the right private key with --identity <file>.',
        ...(methods && !methods.includes('publickey') ? ['The server does not offer public key authentication: set "PubkeyAuthentication yes" in its sshd_config.'] : []),
        ...(/too many/i.test(err.message) ? ['sshd stops after MaxAuthTries keys: run with SSH_AUTH_SOCK= (no agent) and --identity <the right key>, or remove keys from the agent.'] : []),
      ]})
  }
  if (/Connection lost before handshake|kex_exchange_identification/i.test(err.message) || code === 'ECONNRESET' || code === 'EPIPE') {
    return new BastionError('UNREACHABLE', `${hp}${via} closed the connection before the SSH handshake (after ${CONNECT_RETRIES + 1} attempts).`, {
      exit: Exit.UNREACHABLE, cause: err, detail: {...detail, reason: 'closed-before-handshake'}, suggestions: [
        'sshd may be throttling connections (MaxStartups) or refusing your address (fail2ban, TCP wrappers, `sshd: ALL` in hosts.deny); check the host\'s auth log.',
        'Check that the port is sshd and not another service.',
      ]})
  }
  if (/Handshake failed|no matching/i.test(err.message)) {
    return new BastionError('HANDSHAKE_FAILED', `SSH handshake with ${hp}${via} failed: ${err.message}.`, {
      exit: Exit.FAILED, cause: err, detail: {...detail, reason: 'handshake'}, suggestions: [
        'The server and bastion share no key exchange / cipher / host key algorithm; compare with `ssh -vv` and update the server\'s OpenSSH or its algorithm settings.',
      ]})
  }
  return new BastionError('CONNECTION_FAILED', `SSH connection to ${hp}${via} failed: ${err.message}.`, {
    exit: Exit.UNREACHABLE, cause: err, detail, suggestions: ['Run `ssh -v` with the same user, host and port to see where it stops.'],
  })
}

// ---------------------------------------------------------------------------------------------------------------
// One connection attempt

interface Attempt {
  client: SshClient
  fingerprint: string
  notes: string[]
}

interface AttemptOptions {
  target: HostTarget
  policy: HostKeyPolicy
  plan: AuthPlan
  timeoutMs: number
  sock?: Duplex
  excludeKeyTypes?: string[]
  via?: string
  /** Receives the presented key type on a pin mismatch (to retry with another algorithm). */
  onPinMismatch?: (keyType: string) => void
}

function attemptOnce(o: AttemptOptions): Promise<Attempt> {
  const t = o.target
  const client = new Client()
  const state: AttemptState = {target: t, timeoutMs: o.timeoutMs, tcpConnected: o.sock !== undefined, handshakeDone: false, plan: o.plan, ...(o.via ? {via: o.via} : {})}
  const knownTypes = o.policy.pins && o.policy.pins.length > 0 ? [] : knownKeyTypes(t.knownHostsName, o.policy.knownHostsFiles)
  let decision: HostKeyDecision | undefined
  const notes: string[] = []

  // Auth: 'none' first (learns which methods the server allows, as OpenSSH does), then agent, then key files.
  const queue = [...o.plan.methods]
  const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler): void => {
    if (methodsLeft === null) {
      next({type: 'none', username: t.user})
      return
    }
    state.serverMethods = [...methodsLeft]
    if (!methodsLeft.includes('publickey')) {
      next(false as unknown as AnyAuthMethod)
      return
    }
    const m = queue.shift()
    next(m ?? (false as unknown as AnyAuthMethod))
  }

  const config: ConnectConfig = {
    username: t.user,
    readyTimeout: o.timeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    algorithms: {serverHostKey: hostKeyAlgorithmOrder(knownTypes, o.excludeKeyTypes)},
    hostVerifier: (key: Buffer): boolean => {
      decision = decideHostKey(t, key, o.policy)
      if (!decision.ok) {
        state.hostKeyError = decision.error
        if (decision.error?.code === 'HOST_KEY_MISMATCH') o.onPinMismatch?.(decision.keyType)
      }
      return decision.ok
    },
    authHandler: authHandler as unknown as ConnectConfig['authHandler'],
    ...(o.sock ? {sock: o.sock} : {host: t.hostName, port: t.port}),
  }

  return new Promise<Attempt>((resolve, reject) => {
    let settled = false
    const fail = (err: SshError): void => {
      if (settled) return
      settled = true
      ;(err as SshError & {state?: AttemptState}).state = state
      shutdown(client, 0)
      reject(err)
    }
    client.on('connect', () => {
      state.tcpConnected = true
      // TCP_NODELAY: SSH sends small packets back to back (NEWKEYS then SERVICE_REQUEST; the script then EOF).
      // With Nagle's algorithm the second waits for the ACK of the first, which the server delays (~40 ms on
      // Linux): twice per host, that was most of a connection's time. OpenSSH sets it for interactive sessions.
      client.setNoDelay(true)
    })
    client.on('handshake', () => {
      state.handshakeDone = true
      // The server has now proved it holds the key (signature checked): record it if --accept-new asked for it.
      const rec = decision?.record
      if (rec && decision) {
        delete decision.record // a re-key fires 'handshake' again
        try {
          appendKnownHost(rec.file, rec.name, rec.keyType, rec.base64)
          notes.push(`recorded ${rec.keyType} key ${decision?.fingerprint} for ${rec.name} in ${rec.file}`)
        } catch (error) {
          fail(error as SshError)
        }
      }
    })
    client.on('error', (err: SshError) => {
      if (!settled) {
        if (err.level === 'agent' || (err.level === 'client-authentication' && !/All configured authentication methods failed/.test(err.message))) {
          notes.push(err.message)
          return
        }
        fail(err)
      }
    })
    client.on('close', () => {
      if (settled) return
      fail(state.handshakeDone
        ? Object.assign(new Error('the server closed the connection during authentication'), {level: 'client-authentication'})
        : Object.assign(new Error('Connection lost before handshake'), {level: 'protocol'}))
    })
    client.once('ready', () => {
      if (settled) return
      settled = true
      resolve({client, fingerprint: decision?.fingerprint ?? '', notes})
    })
    try {
      client.connect(config)
    } catch (error) {
      fail(error as SshError)
    }
  })
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Say goodbye, and make sure the socket really goes away: a server busy with a pending channel (e.g. a jump host
 * still connecting to a host that drops packets) may not close its side, which would keep the process alive.
 */
function shutdown(client: SshClient, graceMs = 1000): void {
  const sock = (client as unknown as {_sock?: {destroy(): void; unref?(): void}})._sock
  try {
    client.end()
  } catch {}
  // The goodbye (DISCONNECT) is written; the process need not wait a round trip for the server to close its side
  // (sshd first closes the channel and the PAM session): once nothing else is pending it may exit, and the kernel
  // closes the socket.
  try {
    sock?.unref?.()
  } catch {}
  // ssh2's destroy() does nothing once end() made the socket unwritable, so destroy the socket itself.
  const destroy = (): void => {
    try {
      sock?.destroy()
    } catch {}
  }
  if (graceMs <= 0) destroy()
  else setTimeout(destroy, graceMs).unref()
}

/** Connect to one host (directly or over `makeSock`), retrying connection-phase resets and trying other key types for pins. */
async function connectHost(o: Omit<AttemptOptions, 'sock'> & {makeSock?: () => Promise<Duplex>}): Promise<Attempt> {
  const excluded: string[] = []
  // Keys the server presented that did not match a pin, `type fingerprint`.
  const presented: string[] = []
  let mismatch: BastionError | undefined
  let retries = 0
  for (;;) {
    let pinMismatchType: string | undefined
    try {
      const sock = o.makeSock ? await o.makeSock() : undefined
      return await attemptOnce({...o, ...(sock ? {sock} : {}), excludeKeyTypes: excluded, onPinMismatch: (k) => {
        pinMismatchType = k
      }})
    } catch (error) {
      const err = error as SshError & {state?: AttemptState}
      if (err instanceof BastionError) throw err
      const state = err.state ?? {target: o.target, timeoutMs: o.timeoutMs, tcpConnected: false, handshakeDone: false}
      // A pin may be for another key type than the one the server preferred: ask for the next type.
      if (pinMismatchType !== undefined && state.hostKeyError) {
        mismatch = state.hostKeyError
        presented.push(`${pinMismatchType} ${String(mismatch.detail?.fingerprint ?? '')}`)
        if (algorithmsForKeyType(pinMismatchType).length > 0 && !excluded.includes(pinMismatchType)) {
          excluded.push(pinMismatchType)
          if (hostKeyAlgorithmOrder([], excluded).length > 0) continue
        }
      }
      if (isTransient(err, state) && retries < CONNECT_RETRIES) {
        retries++
        await sleep(250 * 2 ** (retries - 1) + Math.floor(Math.random() * 100))
        continue
      }
      if (mismatch) {
        // The server has no further key types (or they did not match either): report every key it presented.
        if (presented.length <= 1) throw mismatch
        throw new BastionError('HOST_KEY_MISMATCH',
          `${hostPort(o.target)} presents the host keys ${presented.join(', ')}; none matches the pinned --host-key values (${(o.policy.pins ?? []).join(', ')}). ` +
          'Someone could be intercepting the connection, the host may have been rebuilt, or the pin is for another host.',
          {exit: Exit.HOST_KEY, detail: {...mismatch.detail, presented}, suggestions: mismatch.suggestions})
      }
      throw classifyConnectError(err, state)
    }
  }
}

function forwardOutOn(client: SshClient, host: string, port: number, from: string, timeoutMs?: number): Promise<ClientChannel> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  return new Promise((resolve, reject) => {
    let done = false
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      done = true
      reject(new BastionError('TIMEOUT', `${from} could not connect to ${where} within ${formatDuration(timeoutMs)}: packets are probably dropped on the way.`, {
        exit: Exit.TIMEOUT, detail: {via: from, destination: where, reason: 'forward-timeout', timeoutMs}, suggestions: [
          `Check that the security group / firewall of ${where} allows TCP port ${port} from ${from}.`,
          'Check the address and that the host is running.',
        ]}))
    }, timeoutMs)
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (timer) clearTimeout(timer)
      if (done) {
        if (stream) stream.close()
        return
      }
      done = true
      if (err) {
        const prohibited = /prohibit/i.test(err.message)
        reject(new BastionError(prohibited ? 'FORWARD_PROHIBITED' : 'UNREACHABLE',
          prohibited
            ? `${from} does not allow TCP forwarding to ${where} (${err.message}).`
            : `${from} could not open a connection to ${where}: ${err.message}.`,
          {exit: prohibited ? Exit.FAILED : Exit.UNREACHABLE, cause: err, detail: {via: from, destination: where, reason: err.message}, suggestions: prohibited
            ? [`Allow forwarding for your user on ${from}: "AllowTcpForwarding yes" (and PermitOpen, if set, must include ${where}) in its sshd_config.`]
            : [`Check from ${from} that ${where} is reachable (e.g. \`nc -vz ${host} ${port}\` on it): routes, security groups, and that sshd listens there.`]}))
        return
      }
      resolve(stream)
    })
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Sessions

class Session implements SshSession {
  readonly target: HostTarget
  readonly client: SshClient
  readonly hostKeyFingerprint: string
  /** Jump connections, nearest first. */
  readonly hops: SshClient[]
  /** Notes gathered while connecting (keys skipped, host key recorded …). */
  readonly notes: string[]
  private closed = false
  private readonly commandTimeoutMs: number

  constructor(target: HostTarget, client: SshClient, fingerprint: string, hops: SshClient[], notes: string[], commandTimeoutMs: number) {
    this.target = target
    this.client = client
    this.hostKeyFingerprint = fingerprint
    this.hops = hops
    this.notes = notes
    this.commandTimeoutMs = commandTimeoutMs
    client.on('error', () => {}) // late errors surface through 'close' on pending commands
    client.on('close', () => {
      this.closed = true
    })
  }

  exec(command: string, stdin?: string, opts: {timeoutMs?: number} = {}): Promise<ExecResult> {
    const t = this.target
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs
    if (this.closed) return Promise.reject(lost(t, command))
    return new Promise<ExecResult>((resolve, reject) => {
      let done = false
      // eslint-disable-next-line prefer-const -- assigned below, after finish() that clears it is defined
      let timer: NodeJS.Timeout | undefined
      const onClientClose = (): void => finish(lost(t, command))
      const finish = (err: BastionError | undefined, result?: ExecResult): void => {
        if (done) return
        done = true
        if (timer) clearTimeout(timer)
        this.client.removeListener('close', onClientClose)
        if (err) reject(err)
        else resolve(result as ExecResult)
      }
      let channel: ClientChannel | undefined
      timer = setTimeout(() => {
        finish(new BastionError('TIMEOUT', `The command on ${describe(t)} did not finish within ${formatDuration(timeoutMs)}.`, {
          exit: Exit.TIMEOUT, detail: {host: t.input, timeoutMs}, suggestions: [
            'The host may be busy (e.g. apt/dpkg locks at first boot) or a command waits for input; check it and try again.',
          ]}))
        if (channel) {
          try {
            channel.signal('KILL')
          } catch {}
          channel.close()
        }
      }, timeoutMs)
      this.client.once('close', onClientClose)
      this.client.exec(command, (err, stream) => {
        if (done) {
          if (stream) stream.close()
          return
        }
        if (err) {
          finish(new BastionError('EXEC_FAILED', `${describe(t)} refused to run a command: ${err.message}.`, {exit: Exit.FAILED, cause: err, detail: {host: t.input}, suggestions: [
            'sshd may limit sessions (MaxSessions) or the account may be restricted (ForceCommand, a nologin shell); check the host\'s sshd_config and the user\'s shell.',
          ]}))
          return
        }
        const out: Buffer[] = []
        const errOut: Buffer[] = []
        let code: number | null = null
        let signal: string | undefined
        channel = stream
        stream.on('data', (c: Buffer) => out.push(c))
        stream.stderr.on('data', (c: Buffer) => errOut.push(c))
        stream.on('exit', (c: number | null, sig?: string) => {
          code = c
          if (sig) signal = sig
        })
        stream.on('close', () => {
          // No exit status and no signal: the channel was torn down with the connection.
          if (code === null && signal === undefined) {
            finish(lost(t, command))
            return
          }
          finish(undefined, {
            code,
            ...(signal ? {signal} : {}),
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
          })
        })
        stream.on('error', () => {})
        if (stdin !== undefined) stream.end(stdin)
        else stream.end()
      })
    })
  }

  /** Open a direct-tcpip channel from the host to `host:port`; BastionError UNREACHABLE / FORWARD_PROHIBITED / TIMEOUT. */
  forwardOut(host: string, port: number, timeoutMs?: number): Promise<ClientChannel> {
    return forwardOutOn(this.client, host, port, describe(this.target), timeoutMs)
  }

  close(): void {
    this.closed = true
    shutdown(this.client)
    for (const hop of [...this.hops].reverse()) shutdown(hop)
  }
}

function lost(t: HostTarget, command: string): BastionError {
  return new BastionError('CONNECTION_LOST', `The SSH connection to ${describe(t)} closed before the command finished.`, {
    exit: Exit.UNREACHABLE, detail: {host: t.input, command: command.slice(0, 200)}, suggestions: [
      'The host may have rebooted, sshd restarted, or the network dropped; run the command again.',
    ]})
}

/**
 * Connect to a host (a resolved HostTarget, or a --host string resolved against `opts`), through its ProxyJump
 * chain if any. Host keys: `opts.hostKeyPins` apply to the final host; jump hosts are checked against known_hosts
 * (with --accept-new honoured) under their own known_hosts names.
 */
export async function connect(target: HostTarget | string, opts: ConnectionOptions = {}): Promise<SshSession & {notes: string[]; hops: SshClient[]}> {
  const t = typeof target === 'string' ? resolveTarget(target, opts) : target
  const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const chain = resolveJumpChain(t, opts)
  const hops: SshClient[] = []
  const notes: string[] = []
  try {
    let previous: {client: SshClient; label: string} | undefined
    for (const hop of chain) {
      const plan = await planAuth(hop, opts)
      const via = previous
      const a = await connectHost({
        target: hop,
        policy: {acceptNew: opts.acceptNew === true, knownHostsFiles: knownFilesFor(hop, opts)},
        plan,
        timeoutMs,
        ...(via ? {via: via.label, makeSock: () => forwardOutOn(via.client, hop.hostName, hop.port, via.label, timeoutMs)} : {}),
      })
      hops.push(a.client)
      notes.push(...a.notes, ...plan.notes)
      a.client.on('error', () => {})
      previous = {client: a.client, label: `jump host ${describe(hop)}`}
    }
    const plan = await planAuth(t, opts)
    const via = previous
    const a = await connectHost({
      target: t,
      policy: {
        ...(opts.hostKeyPins && opts.hostKeyPins.length > 0 ? {pins: opts.hostKeyPins} : {}),
        acceptNew: opts.acceptNew === true,
        knownHostsFiles: knownFilesFor(t, opts),
      },
      plan,
      timeoutMs,
      ...(via ? {via: via.label, makeSock: () => forwardOutOn(via.client, t.hostName, t.port, via.label, timeoutMs)} : {}),
    })
    notes.push(...a.notes, ...plan.notes)
    return new Session(t, a.client, a.fingerprint, hops, notes, opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS)
  } catch (error) {
    for (const h of hops.reverse()) shutdown(h, 0)
    throw error
  }
}

/** Connect, run `fn`, always close. */
export async function withSession<T>(target: HostTarget | string, opts: ConnectionOptions, fn: (session: SshSession) => Promise<T>): Promise<T> {
  const session = await connect(target, opts)
  try {
    return await fn(session)
  } finally {
    session.close()
  }
}
