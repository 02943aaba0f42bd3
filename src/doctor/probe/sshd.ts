/** sshd's facts from the probe: binary, version, listening processes and sockets, sshd -t, the effective settings. */
import type {HostFacts, SshdEffective} from '../types.js'
import {normalizeAddress} from './network.js'
import type {AreaRecords} from './records.js'

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

export function readSshd(records: AreaRecords<'sshd'>): HostFacts['sshd'] {
  const binaryFact = records.first('sshd_binary')?.path
  const version = pickSshdVersion(records.first('sshd_version')?.text, records.first('ssh_version')?.text)
  const sshLine = records.first('ssh_version')?.text
  const pids = records.all('sshd_pid').map((p) => p.pid).filter((n) => Number.isInteger(n) && n > 0)
  const listening = records.all('listen').map((l) => ({
    address: normalizeAddress(l.address), port: l.port, ...(l.processes !== '-' ? {process: l.processes} : {}),
  }))
  const sshdT = records.first('sshd_t')
  const effective: SshdEffective[] = records.all('effective').map((f) => {
    const e: SshdEffective = {spec: f.spec, settings: f.rc === 0 ? parseSshdT(f.output) : {}}
    if (f.cidr !== '-') e.cidr = f.cidr
    else e.placeholder = true
    e.address = /(?:^|,)addr=([^,]*)/.exec(f.spec)?.[1] ?? ''
    if (f.rc !== 0) e.error = f.errors.trim() || `sshd -T exited with status ${f.rc}`
    return e
  })
  const global = records.first('global')

  const sshd: HostFacts['sshd'] = {
    binary: binaryFact && binaryFact !== '-' ? binaryFact : null,
    version,
    versionNumber: opensshVersionNumber(version),
    running: pids.length > 0,
    pids,
    listening,
    configOk: sshdT?.rc === 0,
    effective,
  }
  if (sshLine) sshd.clientVersion = /OpenSSH_[^,]*/.exec(sshLine)?.[0].trim() ?? sshLine
  if (sshdT && sshdT.rc !== 0) sshd.configError = sshdT.output.trim() || `sshd -t exited with status ${sshdT.rc}`
  if (!binaryFact || binaryFact === '-') sshd.configOk = false
  if (global) sshd.globalSettings = parseSshdT(global.output)
  return sshd
}
