/** What `list` and `find` report about bastions on AWS, built from the tagged resources. */
import type {EC2Client} from '@aws-sdk/client-ec2'
import type {BastionInfo} from '../provider.js'
import {vendorsOf} from '../whitelist.js'
import {inventories, inventory, isEmptyInventory, toWhitelistRule, type AwsInventory} from './inventory.js'
import {SSH_PORT} from './plan.js'

export function toBastionInfo(inv: AwsInventory, region?: string): BastionInfo {
  const instance = inv.instances.find((i) => i.state !== 'terminated' && i.state !== 'shutting-down') ?? inv.instances[0]
  const eip = inv.addresses.find((a) => instance && a.instanceId === instance.id) ?? inv.addresses[0]
  const rules = inv.rules.filter((r) => !r.egress).map(toWhitelistRule)
  const publicIp = instance?.publicIp ?? eip?.publicIp
  return {
    cloud: 'aws',
    name: inv.name,
    ...(region ? {location: region} : {}),
    state: instance?.state ?? 'missing',
    ...(instance ? {instanceId: instance.id} : {}),
    ...(instance?.type ? {instanceType: instance.type} : {}),
    address: {
      ...(publicIp ? {publicIp} : {}),
      ...(instance?.privateIp ? {privateIp: instance.privateIp} : {}),
      stable: eip !== undefined && (instance === undefined || eip.instanceId === instance.id),
    },
    sshPort: SSH_PORT,
    vendors: vendorsOf(rules),
    adminCidrs: rules.filter((r) => r.role === 'admin').map((r) => r.cidr),
    rules,
    resources: [
      ...inv.instances.map((i) => ({kind: 'instance', id: i.id})),
      ...inv.securityGroups.map((g) => ({kind: 'security-group', id: g.id})),
      ...inv.addresses.map((a) => ({kind: 'elastic-ip', id: a.allocationId})),
      ...inv.keyPairs.map((k) => ({kind: 'key-pair', id: k.id})),
      ...inv.foreignRules.map((r) => ({kind: 'db-rule', id: r.id})),
    ],
    ...(instance?.launchTime ? {launchedAt: instance.launchTime} : {}),
  }
}

export async function findBastion(client: EC2Client, name: string, region?: string): Promise<BastionInfo | undefined> {
  const inv = await inventory(client, name)
  return isEmptyInventory(inv) ? undefined : toBastionInfo(inv, region)
}

export async function listBastions(client: EC2Client, region?: string): Promise<BastionInfo[]> {
  const all = await inventories(client)
  return [...all.values()].map((inv) => toBastionInfo(inv, region)).sort((a, b) => a.name.localeCompare(b.name))
}
