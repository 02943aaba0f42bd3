// The SSH layer's shared types: connection options, a resolved --host target, a session and what a command returns.
import type {Client, ClientChannel} from 'ssh2'

/** Options common to every remote command (from flags; see src/ssh/flags.ts). */
export interface ConnectionOptions {
  /** Overrides the port from --host / ssh config. */
  port?: number
  /** Overrides the login user from --host / ssh config. */
  user?: string
  /** Private key files to try, in order (--identity, repeatable). */
  identityFiles?: string[]
  /** ProxyJump hop(s): `[user@]host[:port]`, comma-separated chain allowed. */
  jump?: string
  /** Pinned host key fingerprint(s) `SHA256:…`; when set, known_hosts is not consulted and the key must match one. */
  hostKeyPins?: string[]
  /** Record an unknown host key in known_hosts (OpenSSH StrictHostKeyChecking=accept-new). A changed key is still refused. */
  acceptNew?: boolean
  /** known_hosts files to read; the first one is the one written by --accept-new. Default ~/.ssh/known_hosts (+ /etc/ssh/ssh_known_hosts read-only). */
  knownHostsFiles?: string[]
  /** ssh config file; default ~/.ssh/config (missing file is fine). */
  sshConfigFile?: string
  /** ssh-agent socket; default $SSH_AUTH_SOCK. An empty string disables the agent. */
  agentSocket?: string
  /** Connect + handshake timeout in ms (default 15000). */
  connectTimeoutMs?: number
  /** Whole remote command timeout in ms (default 120000). */
  commandTimeoutMs?: number
}

/** A --host value resolved against ssh config and flags. */
export interface HostTarget {
  /** What the user typed, e.g. `admin@10.0.0.5:2222` or `warehouse-jump`. */
  input: string
  /** The address actually dialled (HostName from ssh config, else the host part). */
  hostName: string
  port: number
  user: string
  identityFiles: string[]
  /** ProxyJump from flags or ssh config, if any. */
  proxyJump?: string
  /** Name used for known_hosts lookups: `hostName` or `[hostName]:port` when port != 22 (HostKeyAlias honoured if present). */
  knownHostsName: string
  /** known_hosts files for this host (first one written by --accept-new); resolveTarget fills it. Absent: opts / defaults. */
  knownHostsFiles?: string[]
}

export interface ExecResult {
  /** Exit status; null when the command was killed by a signal. */
  code: number | null
  /** Signal name as ssh2 reports it, e.g. `SIGTERM`, when the command was killed by one. */
  signal?: string
  stdout: string
  stderr: string
}

export interface SshSession {
  readonly target: HostTarget
  /** The underlying ssh2 client, for channels (forwardOut …). */
  readonly client: Client
  /** SHA256 fingerprint of the host key the server presented. */
  readonly hostKeyFingerprint: string
  /**
   * Run a command; `stdin` is written then closed. Rejects with BastionError(TIMEOUT) after `timeoutMs`
   * (default: the connection's commandTimeoutMs).
   */
  exec(command: string, stdin?: string, opts?: {timeoutMs?: number}): Promise<ExecResult>
  /** Open a direct-tcpip channel through this connection (optional timeout in ms → BastionError TIMEOUT). */
  forwardOut(host: string, port: number, timeoutMs?: number): Promise<ClientChannel>
  close(): void
}
