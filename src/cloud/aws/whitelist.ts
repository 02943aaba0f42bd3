/**
 * `bastion whitelist add|remove|list --cloud aws`: the bastion's security group rules on the SSH port, per vendor.
 * A rule belongs to a vendor by its description (`bastion:vendor=<vendor>`); add and remove touch that vendor's rules
 * and nothing else.
 */
import type {EC2Client} from '@aws-sdk/client-ec2'
import {BastionError, Exit} from '../../errors.js'
import type {VendorAccess, WhitelistChange, WhitelistRule, WhitelistView} from '../provider.js'
import {judgeRule, vendorRuleDescription} from '../whitelist.js'
import {aws, awsCode} from './errors.js'
import {describeRules, describeSecurityGroups, tagFilters, tagSpecification, toWhitelistRule, type SecurityGroupInfo} from './inventory.js'
import {SSH_PORT} from './plan.js'
import {ec2sdk} from './sdk.js'

/** A whitelist change with nothing done yet. */
function emptyChange(name: string, vendor: string, securityGroupId: string, dryRun: boolean): WhitelistChange {
  return {name, vendor, securityGroupId, dryRun, added: [], removed: [], unchanged: [], notFound: [], warnings: []}
}

export async function bastionGroup(client: EC2Client, name: string): Promise<{group: SecurityGroupInfo; rules: WhitelistRule[]}> {
  const groups = await describeSecurityGroups(client, tagFilters(name))
  if (groups.length === 0)
    throw new BastionError('BASTION_NOT_FOUND', `no bastion named ${name} in this region (no security group tagged bastion:name=${name})`, {
      exit: Exit.USAGE,
      suggestions: ['list the bastions: bastion list --cloud aws', 'check --region / --profile'],
    })
  if (groups.length > 1)
    throw new BastionError('AWS_DUPLICATE', `several security groups are tagged bastion:name=${name}: ${groups.map((g) => `${g.id} (${g.vpcId})`).join(', ')}`, {
      exit: Exit.FAILED,
      suggestions: ['delete or re-tag the ones that are not the bastion\'s'],
    })
  const group = groups[0] as SecurityGroupInfo
  const rules = (await describeRules(client, [{Name: 'group-id', Values: [group.id]}])).filter((r) => !r.egress).map(toWhitelistRule)
  return {group, rules}
}

function ownerLabel(r: WhitelistRule): string {
  return r.role === 'vendor' ? `vendor ${r.vendor}` : r.role === 'admin' ? 'the admin rule' : `an unmanaged rule ("${r.description}")`
}

function isSshExact(r: WhitelistRule, cidr: string): boolean {
  return r.cidr === cidr && r.protocol === 'tcp' && r.fromPort === SSH_PORT && r.toPort === SSH_PORT
}

export async function whitelistList(client: EC2Client, name: string, expected: string[] = []): Promise<WhitelistView> {
  const {group, rules} = await bastionGroup(client, name)
  return {
    name,
    securityGroupId: group.id,
    sshPort: SSH_PORT,
    rules: rules.map((r) => ({...r, problems: judgeRule(r, {sshPort: SSH_PORT, expected})})),
  }
}

export async function whitelistAdd(
  client: EC2Client,
  name: string,
  access: VendorAccess,
  opts: {dryRun?: boolean} = {},
): Promise<WhitelistChange> {
  const {group, rules} = await bastionGroup(client, name)
  const change = emptyChange(name, access.vendor, group.id, opts.dryRun === true)
  const toAdd: string[] = []
  for (const cidr of access.cidrs) {
    const exact = rules.find((r) => isSshExact(r, cidr))
    if (!exact) {
      toAdd.push(cidr)
      continue
    }
    change.unchanged.push({cidr, by: ownerLabel(exact)})
    if (exact.role !== 'vendor' || exact.vendor !== access.vendor)
      change.warnings.push(
        `${cidr} is already admitted by ${ownerLabel(exact)}; AWS allows one rule per address, so removing that rule also cuts ${access.vendor} off`,
      )
  }
  const description = vendorRuleDescription(access.vendor)
  const planned: WhitelistRule[] = toAdd.map((cidr) => ({role: 'vendor', vendor: access.vendor, cidr, protocol: 'tcp', fromPort: SSH_PORT, toPort: SSH_PORT, description}))
  if (toAdd.length === 0 || opts.dryRun) {
    change.added = planned
    return change
  }
  const {AuthorizeSecurityGroupIngressCommand} = await ec2sdk()
  const out = await aws('AuthorizeSecurityGroupIngress', () =>
    client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group.id,
        IpPermissions: toAdd.map((cidr) =>
          cidr.includes(':')
            ? {IpProtocol: 'tcp', FromPort: SSH_PORT, ToPort: SSH_PORT, Ipv6Ranges: [{CidrIpv6: cidr, Description: description}]}
            : {IpProtocol: 'tcp', FromPort: SSH_PORT, ToPort: SSH_PORT, IpRanges: [{CidrIp: cidr, Description: description}]},
        ),
        TagSpecifications: [tagSpecification('security-group-rule', name)],
      }),
    ),
  )
  change.added = planned.map((p) => {
    const id = out.SecurityGroupRules?.find((r) => (r.CidrIpv4 ?? r.CidrIpv6) === p.cidr)?.SecurityGroupRuleId
    return id ? {...p, id} : p
  })
  return change
}

export async function whitelistRemove(
  client: EC2Client,
  name: string,
  vendor: string,
  cidrs: string[] | 'all',
  opts: {dryRun?: boolean} = {},
): Promise<WhitelistChange> {
  const {group, rules} = await bastionGroup(client, name)
  const mine = rules.filter((r) => r.role === 'vendor' && r.vendor === vendor)
  const change = emptyChange(name, vendor, group.id, opts.dryRun === true)
  const targets = cidrs === 'all' ? mine : mine.filter((r) => cidrs.includes(r.cidr))
  if (cidrs !== 'all') {
    for (const c of cidrs) {
      if (mine.some((r) => r.cidr === c)) continue
      change.notFound.push(c)
      const other = rules.find((r) => r.cidr === c)
      if (other) change.warnings.push(`${c} is admitted by ${ownerLabel(other)}, not by a rule of ${vendor}: left alone`)
    }
  }
  if (targets.length > 0 && targets.length === mine.length)
    change.warnings.push(`${vendor} has no SSH rule left: its tunnels stop working (its user and key stay on the host; remove them with bastion remove-vendor-key)`)
  change.removed = targets
  if (targets.length === 0 || opts.dryRun) return change
  const {RevokeSecurityGroupIngressCommand} = await ec2sdk()
  try {
    await aws('RevokeSecurityGroupIngress', () =>
      client.send(new RevokeSecurityGroupIngressCommand({GroupId: group.id, SecurityGroupRuleIds: targets.map((r) => r.id ?? '')})),
    )
  } catch (err) {
    if (awsCode(err) !== 'InvalidSecurityGroupRuleId.NotFound') throw err
  }
  return change
}
