/**
 * The bastion.yml the cloud drift tests (AWS, Azure firewall, Azure public IP) share: one vendor, hevo, with a key
 * file and the CIDRs 52.6.1.1/32 and 52.6.1.9/32 (the bastion was made with .1 and .2: drift both ways), reaching the
 * lab's database through one cloud bastion, `jump`, reached over SSH at the lab host. `cloud` is the bastion's cloud:
 * section, one YAML line per element, indented under it.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {LabHost} from '../lab/lab.js'

export function writeDriftConfig(lab: LabHost, hevoPublicKeyPath: string, cloud: string[]): {dir: string; file: string} {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-cloud-drift-'))
  const file = join(dir, 'bastion.yml')
  writeFileSync(
    file,
    [
      'version: 1',
      'databases:',
      `  warehouse: {host: ${lab.db.host}, port: ${lab.db.port}}`,
      'vendors:',
      '  hevo:',
      '    cidrs: [52.6.1.1/32, 52.6.1.9/32]',
      `    keys: [{file: ${hevoPublicKeyPath}}]`,
      '    databases: [warehouse]',
      'bastions:',
      '  jump:',
      ...cloud.map((l) => `    ${l}`),
      `    ssh: {host: ${lab.address}, user: ${lab.adminUser}, identity: ${lab.adminKeyPath}, knownHosts: ${lab.knownHostsFile}}`,
      '    vendors: [hevo]',
      '',
    ].join('\n'),
  )
  return {dir, file}
}
