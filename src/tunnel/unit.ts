/**
 * What a reverse tunnel is on its host, rendered as text (pure): the systemd template unit every tunnel shares, the
 * back-off drop-in for systemd versions that know RestartSteps, each tunnel's ssh_config file, and its pinned
 * known_hosts line. ssh reads everything from the tunnel's own config file (`ssh -F`), so the unit needs no
 * per-tunnel values and `ssh -G -F <file>` shows exactly what the tunnel runs with.
 */
import type {TunnelSpec} from './input.js'
import {knownHostsName} from '../ssh/known-hosts.js'

/** The system user every tunnel runs as (no login shell, home /var/lib/bastion-tunnel). */
export const TUNNEL_USER = 'bastion-tunnel'
export const TUNNEL_GECOS = 'bastion reverse tunnels'
export const STATE_DIR = '/var/lib/bastion-tunnel'
export const CONF_DIR = '/etc/bastion/tunnels'
export const UNIT_NAME = 'bastion-tunnel@.service'
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`
export const BACKOFF_PATH = `/etc/systemd/system/${UNIT_NAME}.d/10-backoff.conf`
/** The ssh binary the unit runs (Debian/Ubuntu and RHEL/Amazon Linux all install the client there). */
export const SSH_BINARY = '/usr/bin/ssh'
/** The `Host` alias inside each tunnel's config file. */
export const SSH_HOST_ALIAS = 'bastion-tunnel'
/** Seconds between a failure and the next start; with RestartSteps the delay grows to RESTART_MAX_S. */
export const RESTART_SEC = 5
export const RESTART_MAX_S = 300
export const RESTART_STEPS = 6
/** systemd learned RestartSteps= and RestartMaxDelaySec= in version 254. */
export const BACKOFF_MIN_SYSTEMD = 254

export function instanceName(name: string): string {
  return `bastion-tunnel@${name}.service`
}
export function confPath(name: string): string {
  return `${CONF_DIR}/${name}.conf`
}
export function knownHostsPath(name: string): string {
  return `${CONF_DIR}/${name}.known_hosts`
}
export function keyDir(name: string): string {
  return `${STATE_DIR}/${name}`
}
export function keyPath(name: string): string {
  return `${keyDir(name)}/id_ed25519`
}

/** The sandboxing the tunnel runs under: ssh needs only the network, its config, its key and the pinned host key. */
export const SANDBOX: Array<[string, string]> = [
  ['NoNewPrivileges', 'yes'],
  ['ProtectSystem', 'strict'],
  ['ProtectHome', 'yes'],
  ['PrivateTmp', 'yes'],
  ['PrivateDevices', 'yes'],
  ['ProtectKernelTunables', 'yes'],
  ['ProtectKernelModules', 'yes'],
  ['ProtectKernelLogs', 'yes'],
  ['ProtectControlGroups', 'yes'],
  ['ProtectClock', 'yes'],
  ['ProtectHostname', 'yes'],
  ['RestrictNamespaces', 'yes'],
  ['RestrictRealtime', 'yes'],
  ['RestrictSUIDSGID', 'yes'],
  ['LockPersonality', 'yes'],
  ['MemoryDenyWriteExecute', 'yes'],
  ['RemoveIPC', 'yes'],
  ['KeyringMode', 'private'],
  ['CapabilityBoundingSet', ''],
  ['AmbientCapabilities', ''],
  ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
  ['SystemCallArchitectures', 'native'],
  ['SystemCallFilter', '@system-service'],
  ['SystemCallFilter', '~@privileged @resources'],
  ['SystemCallErrorNumber', 'EPERM'],
  ['UMask', '0077'],
]

/** The template unit bastion-tunnel@.service: one instance per tunnel, supervised by systemd (no autossh). */
export function renderUnit(): string {
  return [
    '# Written by bastion (bastion tunnel add); re-written on every run: change the tunnel with bastion, not here.',
    `# One instance per tunnel: ${instanceName('<name>')} runs ssh with ${CONF_DIR}/<name>.conf.`,
    '# systemd supervises ssh (restarts it with a back-off, logs to the journal): autossh is not needed.',
    '[Unit]',
    'Description=bastion reverse SSH tunnel %i',
    'Documentation=man:ssh(1) man:ssh_config(5)',
    'Wants=network-online.target',
    'After=network-online.target',
    `AssertPathExists=${CONF_DIR}/%i.conf`,
    '# Never give up: a vendor server that is down for an hour is retried until it is back.',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `User=${TUNNEL_USER}`,
    `Group=${TUNNEL_USER}`,
    `ExecStart=${SSH_BINARY} -N -F ${CONF_DIR}/%i.conf ${SSH_HOST_ALIAS}`,
    'Restart=always',
    `RestartSec=${RESTART_SEC}`,
    'SyslogIdentifier=bastion-tunnel-%i',
    ...SANDBOX.map(([k, v]) => `${k}=${v}`),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

/** Growing restart delays (5 s … 5 min), for systemd >= 254; older versions keep the flat RestartSec. */
export function renderBackoffDropIn(): string {
  return [
    '# Written by bastion: restart delays grow from RestartSec to RestartMaxDelaySec while a tunnel keeps failing.',
    '[Service]',
    `RestartSteps=${RESTART_STEPS}`,
    `RestartMaxDelaySec=${RESTART_MAX_S}`,
    '',
  ].join('\n')
}

/** The name ssh looks the server's key up under in the tunnel's known_hosts. */
export function pinnedName(spec: Pick<TunnelSpec, 'server' | 'serverPort'>): string {
  return knownHostsName(spec.server, spec.serverPort)
}

/** The tunnel's known_hosts line for a key. */
export function knownHostsLineFor(spec: Pick<TunnelSpec, 'server' | 'serverPort'>, type: string, base64: string): string {
  return `${pinnedName(spec)} ${type} ${base64}`
}

/** `-R` as ssh_config's RemoteForward writes it: `[*:]port host:port`. */
export function remoteForward(spec: Pick<TunnelSpec, 'remotePort' | 'bindAll' | 'db'>): string {
  return `${spec.bindAll ? '*:' : ''}${spec.remotePort} ${spec.db.text}`
}

/** The first lines of a tunnel's config file: what bastion reads back in `tunnel list` and `status`. */
export function metadataLines(spec: TunnelSpec): string[] {
  return [
    `# bastion:tunnel name=${spec.name}`,
    `# bastion:db=${spec.db.text}`,
    ...(spec.preset ? [`# bastion:preset=${spec.preset}`] : []),
  ]
}

/** The tunnel's ssh_config file (ssh -F reads only this one: /etc/ssh/ssh_config and ~/.ssh/config do not apply). */
export function renderSshConfig(spec: TunnelSpec): string {
  return [
    '# Written by bastion (bastion tunnel add); re-written on every run.',
    ...metadataLines(spec),
    `Host ${SSH_HOST_ALIAS}`,
    `  HostName ${spec.server}`,
    `  Port ${spec.serverPort}`,
    `  User ${spec.serverUser}`,
    `  RemoteForward ${remoteForward(spec)}`,
    '  ExitOnForwardFailure yes',
    `  ServerAliveInterval ${spec.aliveInterval}`,
    `  ServerAliveCountMax ${spec.aliveCountMax}`,
    '  ConnectTimeout 30',
    `  IdentityFile ${keyPath(spec.name)}`,
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    '  PubkeyAuthentication yes',
    '  PasswordAuthentication no',
    '  KbdInteractiveAuthentication no',
    '  BatchMode yes',
    '  StrictHostKeyChecking yes',
    `  UserKnownHostsFile ${knownHostsPath(spec.name)}`,
    '  GlobalKnownHostsFile /dev/null',
    '  UpdateHostKeys no',
    '  CheckHostIP no',
    '  ForwardAgent no',
    '  ForwardX11 no',
    '  RequestTTY no',
    '  LogLevel VERBOSE',
    '',
  ].join('\n')
}

/** The command systemd runs for the tunnel, as one shell line (for people: `--dry-run`, status). */
export function execStartLine(name: string): string {
  return `${SSH_BINARY} -N -F ${confPath(name)} ${SSH_HOST_ALIAS}`
}

/**
 * The same tunnel as one ssh command line with every option spelled out (`ssh -N -R … -o …`): what the config file
 * amounts to, for people who want to try it by hand.
 */
export function sshCommandLine(spec: TunnelSpec): string[] {
  const o = (k: string, v: string | number) => ['-o', `${k}=${v}`]
  return [
    SSH_BINARY,
    '-N',
    '-R',
    `${spec.bindAll ? '*:' : ''}${spec.remotePort}:${spec.db.text}`,
    '-p',
    String(spec.serverPort),
    '-i',
    keyPath(spec.name),
    ...o('ExitOnForwardFailure', 'yes'),
    ...o('ServerAliveInterval', spec.aliveInterval),
    ...o('ServerAliveCountMax', spec.aliveCountMax),
    ...o('IdentitiesOnly', 'yes'),
    ...o('BatchMode', 'yes'),
    ...o('StrictHostKeyChecking', 'yes'),
    ...o('UserKnownHostsFile', knownHostsPath(spec.name)),
    ...o('GlobalKnownHostsFile', '/dev/null'),
    `${spec.serverUser}@${spec.server}`,
  ]
}
