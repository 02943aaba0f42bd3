/**
 * Finding a bastion's AWS resources again: the tags are the state (`bastion:name=<name>`, `managed-by=bastion` on
 * every resource), so there is no local state file to lose. Reads only.
 */
import type {EC2Client, Filter, Instance, SecurityGroupRule, Tag} from '@aws-sdk/client-ec2'
import {MANAGED_BY, TAG_MANAGED_BY, TAG_NAME, type WhitelistRule} from '../provider.js'
import {ruleOwner} from '../whitelist.js'
import {aws} from './errors.js'
import {ec2sdk} from './sdk.js'

/** Tags on every resource bastion creates. */
export function bastionTags(name: string): Tag[] {
  return [
    {Key: TAG_NAME, Value: name},
    {Key: TAG_MANAGED_BY, Value: MANAGED_BY},
    {Key: 'Name', Value: `bastion-${name}`},
  ]
}

export function tagSpecification(resourceType: string, name: string, extra: Tag[] = []): {ResourceType: never; Tags: Tag[]} {
  return {ResourceType: resourceType as never, Tags: [...bastionTags(name), ...extra]}
}

/** Filters matching resources tagged for `name` (or for any bastion, without a name). */
export function tagFilters(name?: string): Filter[] {
  return [
    ...(name === undefined ? [{Name: 'tag-key', Values: [TAG_NAME]}] : [{Name: `tag:${TAG_NAME}`, Values: [name]}]),
    {Name: `tag:${TAG_MANAGED_BY}`, Values: [MANAGED_BY]},
  ]
}

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value
}

export const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped']

export interface InstanceInfo {
  id: string
  name?: string
  state: string
  stateReason?: string
  type?: string
  imageId?: string
  subnetId?: string
  vpcId?: string
  availabilityZone?: string
  publicIp?: string
  privateIp?: string
  securityGroupIds: string[]
  keyName?: string
  httpTokens?: string
  httpEndpoint?: string
  launchTime?: string
  platform?: string
}

export interface SgRuleInfo {
  id: string
  groupId: string
  egress: boolean
  /** tcp, udp, icmp, all, or the protocol number. */
  protocol: string
  fromPort: number
  toPort: number
  cidr?: string
  referencedGroupId?: string
  prefixListId?: string
  description: string
  tags: Tag[]
}

export interface SecurityGroupInfo {
  id: string
  name: string
  vpcId?: string
  description?: string
  tags: Tag[]
}

export interface AddressInfo {
  allocationId: string
  publicIp: string
  associationId?: string
  instanceId?: string
  networkInterfaceId?: string
  tags: Tag[]
}

export interface KeyPairInfo {
  id: string
  name: string
  type?: string
  publicKey?: string
  tags: Tag[]
}

export interface AwsInventory {
  name: string
  instances: InstanceInfo[]
  securityGroups: SecurityGroupInfo[]
  /** Ingress and egress rules of the bastion's security groups. */
  rules: SgRuleInfo[]
  addresses: AddressInfo[]
  keyPairs: KeyPairInfo[]
  /** Rules tagged for the bastion in OTHER security groups: the database rule. */
  foreignRules: SgRuleInfo[]
}

export function toInstanceInfo(i: Instance): InstanceInfo {
  const info: InstanceInfo = {
    id: i.InstanceId ?? '',
    state: i.State?.Name ?? 'unknown',
    securityGroupIds: (i.SecurityGroups ?? []).map((g) => g.GroupId ?? '').filter(Boolean),
  }
  const set = <K extends keyof InstanceInfo>(k: K, v: InstanceInfo[K] | undefined) => {
    if (v !== undefined && v !== null && v !== '') info[k] = v
  }
  set('name', tagValue(i.Tags, TAG_NAME))
  set('stateReason', i.StateReason?.Message)
  set('type', i.InstanceType)
  set('imageId', i.ImageId)
  set('subnetId', i.SubnetId)
  set('vpcId', i.VpcId)
  set('availabilityZone', i.Placement?.AvailabilityZone)
  set('publicIp', i.PublicIpAddress)
  set('privateIp', i.PrivateIpAddress)
  set('keyName', i.KeyName)
  set('httpTokens', i.MetadataOptions?.HttpTokens)
  set('httpEndpoint', i.MetadataOptions?.HttpEndpoint)
  set('launchTime', i.LaunchTime ? new Date(i.LaunchTime).toISOString() : undefined)
  set('platform', i.PlatformDetails)
  return info
}

export function toRuleInfo(r: SecurityGroupRule): SgRuleInfo {
  const proto = r.IpProtocol ?? '-1'
  const protocol = proto === '-1' ? 'all' : proto === '6' ? 'tcp' : proto === '17' ? 'udp' : proto === '1' ? 'icmp' : proto
  const all = protocol === 'all' || r.FromPort === undefined || r.FromPort === -1
  const info: SgRuleInfo = {
    id: r.SecurityGroupRuleId ?? '',
    groupId: r.GroupId ?? '',
    egress: r.IsEgress === true,
    protocol,
    fromPort: all ? 0 : (r.FromPort ?? 0),
    toPort: all ? 65535 : (r.ToPort ?? r.FromPort ?? 0),
    description: r.Description ?? '',
    tags: r.Tags ?? [],
  }
  const cidr = r.CidrIpv4 ?? r.CidrIpv6
  if (cidr) info.cidr = cidr
  if (r.ReferencedGroupInfo?.GroupId) info.referencedGroupId = r.ReferencedGroupInfo.GroupId
  if (r.PrefixListId) info.prefixListId = r.PrefixListId
  return info
}

/** A security group ingress rule as a whitelist rule (the source is a CIDR, a group or a prefix list). */
export function toWhitelistRule(r: SgRuleInfo): WhitelistRule {
  const owner = ruleOwner(r.description)
  return {
    id: r.id,
    role: owner.role,
    ...(owner.vendor ? {vendor: owner.vendor} : {}),
    cidr: r.cidr ?? r.referencedGroupId ?? r.prefixListId ?? '?',
    protocol: r.protocol,
    fromPort: r.fromPort,
    toPort: r.toPort,
    description: r.description,
  }
}

export async function describeInstances(client: EC2Client, filters: Filter[], instanceIds?: string[]): Promise<InstanceInfo[]> {
  const {paginateDescribeInstances} = await ec2sdk()
  return aws('DescribeInstances', async () => {
    const out: InstanceInfo[] = []
    const input = {...(filters.length > 0 ? {Filters: filters} : {}), ...(instanceIds ? {InstanceIds: instanceIds} : {})}
    for await (const page of paginateDescribeInstances({client}, input))
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toInstanceInfo(i))
    return out
  })
}

export async function describeRules(client: EC2Client, filters: Filter[]): Promise<SgRuleInfo[]> {
  const {paginateDescribeSecurityGroupRules} = await ec2sdk()
  return aws('DescribeSecurityGroupRules', async () => {
    const out: SgRuleInfo[] = []
    for await (const page of paginateDescribeSecurityGroupRules({client}, {Filters: filters}))
      for (const r of page.SecurityGroupRules ?? []) out.push(toRuleInfo(r))
    return out
  })
}

export async function describeSecurityGroups(client: EC2Client, filters: Filter[], groupIds?: string[]): Promise<SecurityGroupInfo[]> {
  const {paginateDescribeSecurityGroups} = await ec2sdk()
  return aws('DescribeSecurityGroups', async () => {
    const out: SecurityGroupInfo[] = []
    const input = {...(filters.length > 0 ? {Filters: filters} : {}), ...(groupIds ? {GroupIds: groupIds} : {})}
    for await (const page of paginateDescribeSecurityGroups({client}, input)) {
      for (const g of page.SecurityGroups ?? []) {
        out.push({
          id: g.GroupId ?? '',
          name: g.GroupName ?? '',
          ...(g.VpcId ? {vpcId: g.VpcId} : {}),
          ...(g.Description ? {description: g.Description} : {}),
          tags: g.Tags ?? [],
        })
      }
    }
    return out
  })
}

export async function describeAddresses(client: EC2Client, filters: Filter[]): Promise<AddressInfo[]> {
  const {DescribeAddressesCommand} = await ec2sdk()
  const page = await aws('DescribeAddresses', () => client.send(new DescribeAddressesCommand({Filters: filters})))
  return (page.Addresses ?? []).map((a) => ({
    allocationId: a.AllocationId ?? '',
    publicIp: a.PublicIp ?? '',
    ...(a.AssociationId ? {associationId: a.AssociationId} : {}),
    ...(a.InstanceId ? {instanceId: a.InstanceId} : {}),
    ...(a.NetworkInterfaceId ? {networkInterfaceId: a.NetworkInterfaceId} : {}),
    tags: a.Tags ?? [],
  }))
}

export async function describeKeyPairs(client: EC2Client, filters: Filter[], names?: string[]): Promise<KeyPairInfo[]> {
  const {DescribeKeyPairsCommand} = await ec2sdk()
  try {
    const page = await aws('DescribeKeyPairs', () =>
      client.send(
        new DescribeKeyPairsCommand({
          ...(filters.length > 0 ? {Filters: filters} : {}),
          ...(names ? {KeyNames: names} : {}),
          IncludePublicKey: true,
        }),
      ),
    )
    return (page.KeyPairs ?? []).map((k) => ({
      id: k.KeyPairId ?? '',
      name: k.KeyName ?? '',
      ...(k.KeyType ? {type: k.KeyType} : {}),
      ...(k.PublicKey ? {publicKey: k.PublicKey} : {}),
      tags: k.Tags ?? [],
    }))
  } catch (err) {
    // Asking by name for a key pair that does not exist is an error, not an empty list.
    if (names && (err as {detail?: {awsCode?: string}}).detail?.awsCode === 'InvalidKeyPair.NotFound') return []
    throw err
  }
}

export function emptyInventory(name: string): AwsInventory {
  return {name, instances: [], securityGroups: [], rules: [], addresses: [], keyPairs: [], foreignRules: []}
}

/**
 * Every resource tagged for `name`, or — without a name — for every bastion in the region, grouped by name.
 * Six calls in all, whatever the number of bastions.
 */
export async function inventories(client: EC2Client, name?: string): Promise<Map<string, AwsInventory>> {
  const filters = tagFilters(name)
  const [instances, securityGroups, addresses, keyPairs, tagged] = await Promise.all([
    describeInstances(client, [...filters, {Name: 'instance-state-name', Values: LIVE_STATES}]),
    describeSecurityGroups(client, filters),
    describeAddresses(client, filters),
    describeKeyPairs(client, filters),
    describeRules(client, filters),
  ])
  const groupIds = securityGroups.map((g) => g.id)
  const rules = groupIds.length > 0 ? await describeRules(client, [{Name: 'group-id', Values: groupIds}]) : []
  const byName = new Map<string, AwsInventory>()
  const get = (tags: Tag[] | undefined): AwsInventory | undefined => {
    const n = tagValue(tags, TAG_NAME)
    if (n === undefined || (name !== undefined && n !== name)) return undefined
    let inv = byName.get(n)
    if (!inv) byName.set(n, (inv = emptyInventory(n)))
    return inv
  }
  for (const i of instances) if (i.name !== undefined) get([{Key: TAG_NAME, Value: i.name}])?.instances.push(i)
  for (const g of securityGroups) get(g.tags)?.securityGroups.push(g)
  for (const a of addresses) get(a.tags)?.addresses.push(a)
  for (const k of keyPairs) get(k.tags)?.keyPairs.push(k)
  for (const r of rules) {
    const owner = securityGroups.find((g) => g.id === r.groupId)
    if (owner) get(owner.tags)?.rules.push(r)
  }
  for (const r of tagged) if (!groupIds.includes(r.groupId)) get(r.tags)?.foreignRules.push(r)
  return byName
}

/** Every resource tagged for `name` (empty lists when there are none). */
export async function inventory(client: EC2Client, name: string): Promise<AwsInventory> {
  return (await inventories(client, name)).get(name) ?? emptyInventory(name)
}

export function isEmptyInventory(inv: AwsInventory): boolean {
  return (
    inv.instances.length + inv.securityGroups.length + inv.addresses.length + inv.keyPairs.length + inv.foreignRules.length === 0
  )
}
