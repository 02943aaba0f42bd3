/** The host's own facts from the probe: its clock, os-release, host name, the tools it has, the probe's remarks. */
import type {HostFacts} from '../types.js'
import type {AreaRecords} from './records.js'

/** /etc/os-release → key → value (quotes and backslash escapes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!m) continue
    let v = (m[2] ?? '').trim()
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
      const q = v[0]
      v = v.slice(1, -1)
      if (q === '"') v = v.replace(/\\([\\"$`])/g, '$1')
    }
    out[m[1] ?? ''] = v
  }
  return out
}

export type HostPart = Pick<HostFacts, 'now' | 'os' | 'hostname' | 'tools'> & {notes: string[]}

/** The version the probe's output says it has (undefined when there is no `probe` line). */
export function readProbeVersion(records: AreaRecords<'host'>): string | undefined {
  return records.first('probe')?.version
}

export function readHost(records: AreaRecords<'host'>): HostPart {
  const nowSec = records.first('now')?.seconds
  const os = parseOsRelease(records.first('osrelease')?.content ?? '')
  const toolArgs = records.first('tools')?.pairs ?? []
  const tool: Record<string, string> = {}
  for (let i = 0; i + 1 < toolArgs.length; i += 2) tool[toolArgs[i] ?? ''] = toolArgs[i + 1] ?? ''
  const ncFlavor = tool.nc && tool.nc !== '-' ? tool.nc : undefined
  return {
    now: nowSec !== undefined ? new Date(nowSec * 1000) : new Date(),
    os: {id: os.ID ?? '', versionId: os.VERSION_ID ?? '', prettyName: os.PRETTY_NAME ?? os.NAME ?? ''},
    hostname: records.first('hostname')?.name ?? '',
    tools: {
      nc: ncFlavor !== undefined,
      ...(ncFlavor ? {ncFlavor} : {}),
      bash: tool.bash === '1',
      timeout: tool.timeout === '1',
      getent: tool.getent === '1',
      ss: tool.ss === '1',
      setpriv: tool.setpriv === '1',
    },
    notes: records.all('note').map((n) => n.text),
  }
}
