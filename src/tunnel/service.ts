/**
 * Reverse tunnels on a host: render the remote scripts (templates/tunnel-*.sh) with their values, and read what they
 * report back. Judging (is the forward up, why did it fail) is pure and lives in status.ts.
 */
import {checkScriptRun, renderScript, type ScriptFact} from '../remote/script.js'
import type {ScriptRunner} from '../remote/run.js'
import type {TunnelSpec} from './input.js'
import {readTunnelReports, type TunnelReport} from './status.js'
import {
  BACKOFF_MIN_SYSTEMD,
  BACKOFF_PATH,
  CONF_DIR,
  STATE_DIR,
  TUNNEL_GECOS,
  TUNNEL_USER,
  UNIT_PATH,
  pinnedName,
  renderBackoffDropIn,
  renderSshConfig,
  renderUnit,
} from './unit.js'

const LIBS = ['tunnel-lib.sh']

/** Parameters every tunnel script gets (tunnel-lib.sh). */
function common(): Record<string, string> {
  return {TUSER: TUNNEL_USER, TGECOS: TUNNEL_GECOS, STATE_DIR, CONF_DIR, UNIT_PATH, BACKOFF_PATH}
}

/** Seconds `tunnel add` waits on the host for ssh to log in (or fail) before it reports. */
export const ADD_WAIT_S = 8

export function addScript(spec: TunnelSpec, waitSeconds = ADD_WAIT_S): string {
  return renderScript(
    'tunnel-add.sh',
    {
      ...common(),
      NAME: spec.name,
      SERVER: spec.server,
      SERVER_PORT: String(spec.serverPort),
      PINNED_NAME: pinnedName(spec),
      HOST_KEY: spec.hostKey ? `${spec.hostKey.type} ${spec.hostKey.base64}` : '',
      HOST_KEY_FP: spec.hostKeyFingerprint ?? '',
      SSH_CONFIG: renderSshConfig(spec),
      UNIT: renderUnit(),
      BACKOFF: renderBackoffDropIn(),
      BACKOFF_MIN: String(BACKOFF_MIN_SYSTEMD),
      WAIT: String(waitSeconds),
      LOG_LINES: '15',
    },
    LIBS,
  )
}

export interface TunnelAddResult {
  name: string
  os?: string
  user: 'created' | 'present'
  key: 'created' | 'present'
  /** The tunnel's public key: what the vendor's form (or support) needs. */
  publicKey: string
  keyFingerprint: string
  /** How the server's key was pinned: given (flag or preset), or fetched and matched to the fingerprint given. */
  hostKey: {source: 'given' | 'fetched'; fingerprint: string}
  files: {conf: 'written' | 'unchanged'; knownHosts: 'written' | 'unchanged'; unit: 'written' | 'unchanged'}
  /** The growing restart delay drop-in: written, unchanged, or not supported by the host's systemd (< 254). */
  backoff: 'written' | 'unchanged' | 'unsupported'
  systemd?: number
  service: 'restarted' | 'unchanged'
  cleaned: string[]
  warnings: string[]
  status: TunnelReport
}

function val(facts: ScriptFact[], key: string): string {
  return facts.find((f) => f.key === key)?.rest ?? ''
}

export function readAddFacts(name: string, facts: ScriptFact[]): TunnelAddResult {
  const reports = readTunnelReports(facts)
  const status = reports.find((r) => r.name === name)
  if (!status) throw new Error(`tunnel-add.sh reported nothing about tunnel ${name}`)
  const [source = 'given', fingerprint = ''] = val(facts, 'host_key').split(' ')
  const written = (k: string): 'written' | 'unchanged' => (val(facts, k) === 'written' ? 'written' : 'unchanged')
  const backoff = val(facts, 'backoff')
  const sd = Number(val(facts, 'systemd'))
  const os = val(facts, 'os').trim()
  return {
    name,
    ...(os ? {os} : {}),
    user: val(facts, 'user') === 'created' ? 'created' : 'present',
    key: val(facts, 'key') === 'created' ? 'created' : 'present',
    publicKey: Buffer.from(val(facts, 'pubkey'), 'base64').toString('utf8').trim(),
    keyFingerprint: val(facts, 'key_fp'),
    hostKey: {source: source === 'fetched' ? 'fetched' : 'given', fingerprint},
    files: {conf: written('conf'), knownHosts: written('known_hosts'), unit: written('unit')},
    backoff: backoff === 'written' || backoff === 'unsupported' ? backoff : 'unchanged',
    ...(Number.isFinite(sd) && sd > 0 ? {systemd: sd} : {}),
    service: val(facts, 'service') === 'restarted' ? 'restarted' : 'unchanged',
    cleaned: facts.filter((f) => f.key === 'cleaned').map((f) => f.rest),
    warnings: facts.filter((f) => f.key === 'warning').map((f) => f.rest),
    status,
  }
}

export async function applyAdd(host: string, run: ScriptRunner, spec: TunnelSpec, waitSeconds = ADD_WAIT_S): Promise<TunnelAddResult> {
  const result = await run(addScript(spec, waitSeconds))
  return readAddFacts(spec.name, checkScriptRun(host, 'tunnel-add.sh', result))
}

// ------------------------------------------------------------------------------------------------------------- remove

export function removeScript(name: string, purge: boolean): string {
  return renderScript('tunnel-remove.sh', {...common(), NAME: name, PURGE: purge ? '1' : '0'}, LIBS)
}

export interface TunnelRemoveResult {
  name: string
  /** The tunnel did not exist on the host: nothing was done. */
  absent: boolean
  /** Whether the service was running before it was stopped. */
  was?: 'running' | 'stopped'
  removed: string[]
  /** The key kept (without --purge): re-adding the tunnel reuses it, so the vendor's copy of the public key stays valid. */
  keptKey?: string
  warnings: string[]
}

export function readRemoveFacts(name: string, facts: ScriptFact[]): TunnelRemoveResult {
  const was = val(facts, 'stopped')
  const kept = val(facts, 'kept')
  return {
    name,
    absent: facts.some((f) => f.key === 'absent'),
    ...(was === 'running' || was === 'stopped' ? {was} : {}),
    removed: facts.filter((f) => f.key === 'removed').map((f) => f.rest),
    ...(kept ? {keptKey: kept} : {}),
    warnings: facts.filter((f) => f.key === 'warning').map((f) => f.rest),
  }
}

export async function applyRemove(host: string, run: ScriptRunner, name: string, purge: boolean): Promise<TunnelRemoveResult> {
  const result = await run(removeScript(name, purge))
  return readRemoveFacts(name, checkScriptRun(host, 'tunnel-remove.sh', result))
}

// ------------------------------------------------------------------------------------------------------ status / list

export interface StatusOptions {
  /** One tunnel, or every tunnel on the host. */
  name?: string
  /** Also try TCP from the host to the tunnel's database and server (doctor). */
  probe?: boolean
  netTimeoutSeconds?: number
  logLines?: number
}

export function statusScript(opts: StatusOptions = {}): string {
  return renderScript(
    'tunnel-status.sh',
    {
      ...common(),
      NAME: opts.name ?? '',
      PROBE: opts.probe ? '1' : '0',
      NET_TIMEOUT: String(opts.netTimeoutSeconds ?? 3),
      LOG_LINES: String(opts.logLines ?? 15),
    },
    LIBS,
  )
}

export async function applyStatus(host: string, run: ScriptRunner, opts: StatusOptions = {}): Promise<TunnelReport[]> {
  const result = await run(statusScript(opts))
  return readTunnelReports(checkScriptRun(host, 'tunnel-status.sh', result))
}
