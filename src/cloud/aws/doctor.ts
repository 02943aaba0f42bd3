/**
 * doctor's AWS checks: `gatherAwsFacts` reads what EC2 knows about the bastion (a handful of Describe calls, each
 * failure recorded rather than fatal), and `awsChecks` — pure functions of those facts — judge them into findings,
 * each failing one with the command that fixes it (an aws CLI command, or a bastion whitelist command).
 *
 * Ids: cloud.aws.instance.running, cloud.aws.imdsv2, cloud.aws.address.stable, cloud.aws.sg.vendor_cidr,
 * cloud.aws.sg.too_wide, cloud.aws.nacl.ssh_in, cloud.aws.nacl.ephemeral_out, cloud.aws.route.igw,
 * cloud.aws.db_sg.admits_bastion.
 */
import type {EC2Client} from '@aws-sdk/client-ec2'
import {asBastionError} from '../../errors.js'
import type {Check, Finding, Fix, Status} from '../../doctor/types.js'
import {quoteShell} from '../../ssh/quote.js'
import type {CloudDoctorSubject, WhitelistRule} from '../provider.js'
import {cidrContains, isAnywhere, judgeRule, rulesAdmitting} from '../whitelist.js'
import {clientRegion} from './client.js'
import {aws} from './errors.js'
import {
  describeRules,
  describeSecurityGroups,
  inventory,
  tagValue,
  toWhitelistRule,
  type AddressInfo,
  type InstanceInfo,
  type SecurityGroupInfo,
  type SgRuleInfo,
} from './inventory.js'
import {evaluateNacl, formatPorts, judgeDefaultRoute, subnetNacl, subnetRouteTable, type NaclEntry, type NaclInfo, type RouteTableInfo} from './network.js'
import {DB_PORT_TAG, DB_SG_TAG} from './plan.js'
import {ec2sdk} from './sdk.js'

export interface AwsFacts {
  name: string
  region?: string
  /** Live (not terminated) instances tagged for the bastion; the first is judged. */
  instances: InstanceInfo[]
  instance?: InstanceInfo
  addresses: AddressInfo[]
  /** The bastion's own (tagged) security groups. */
  securityGroups: SecurityGroupInfo[]
  /** The ids of the security groups attached to the instance (or the tagged ones when there is no instance). */
  attachedGroupIds: string[]
  /** Ingress rules of every attached security group: together they decide who reaches SSH. */
  rules: WhitelistRule[]
  subnetId?: string
  vpcId?: string
  networkAcl?: NaclInfo
  routeTable?: RouteTableInfo
  /** The internet gateway attached to the VPC, for the fix command. */
  internetGatewayId?: string
  /** Database security groups the bastion must be admitted by, with their ingress rules. */
  dbGroups: {groupId: string; port?: number; exists: boolean; rules: SgRuleInfo[]}[]
  /** Reads that failed (e.g. a missing Describe permission): the checks that need them are skipped. */
  errors: {what: string; code: string; message: string}[]
}

async function attempt<T>(facts: AwsFacts, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn()
  } catch (err) {
    const e = asBastionError(err)
    facts.errors.push({what, code: e.code, message: e.message})
    return undefined
  }
}

/** Read everything the AWS checks judge. Never throws for a failed read: it is recorded in `errors`. */
export async function gatherAwsFacts(ec2Client: EC2Client, name: string): Promise<AwsFacts> {
  const region = await clientRegion(ec2Client)
  const facts: AwsFacts = {name, ...(region ? {region} : {}), instances: [], addresses: [], securityGroups: [], attachedGroupIds: [], rules: [], dbGroups: [], errors: []}
  const inv = await attempt(facts, 'bastion resources (tags)', () => inventory(ec2Client, name))
  if (!inv) return facts
  facts.instances = inv.instances.filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down')
  const instance = facts.instances[0]
  if (instance) facts.instance = instance
  facts.addresses = inv.addresses
  facts.securityGroups = inv.securityGroups
  facts.attachedGroupIds = instance ? instance.securityGroupIds : inv.securityGroups.map((g) => g.id)
  const extra = facts.attachedGroupIds.filter((id) => !inv.securityGroups.some((g) => g.id === id))
  const extraRules = extra.length > 0 ? ((await attempt(facts, 'security group rules', () => describeRules(ec2Client, [{Name: 'group-id', Values: extra}]))) ?? []) : []
  facts.rules = [...inv.rules.filter((r) => facts.attachedGroupIds.includes(r.groupId)), ...extraRules].filter((r) => !r.egress).map(toWhitelistRule)

  const subnetId = instance?.subnetId
  const vpcId = instance?.vpcId ?? inv.securityGroups[0]?.vpcId
  if (subnetId) facts.subnetId = subnetId
  if (vpcId) facts.vpcId = vpcId
  if (subnetId) {
    const acl = await attempt(facts, 'network ACL', () => subnetNacl(ec2Client, subnetId))
    if (acl) facts.networkAcl = acl
    if (vpcId) {
      const rt = await attempt(facts, 'route table', () => subnetRouteTable(ec2Client, subnetId, vpcId))
      if (rt) facts.routeTable = rt
    }
  }
  if (vpcId) {
    const {DescribeInternetGatewaysCommand} = await ec2sdk()
    const igw = await attempt(facts, 'internet gateway', () =>
      aws('DescribeInternetGateways', () => ec2Client.send(new DescribeInternetGatewaysCommand({Filters: [{Name: 'attachment.vpc-id', Values: [vpcId]}]}))),
    )
    const id = igw?.InternetGateways?.[0]?.InternetGatewayId
    if (id) facts.internetGatewayId = id
  }

  // The database groups: remembered in the bastion group's tags at create, and found by the rules tagged for it.
  const dbPorts = new Map<string, number | undefined>()
  for (const g of inv.securityGroups) {
    const id = tagValue(g.tags, DB_SG_TAG)
    const port = Number(tagValue(g.tags, DB_PORT_TAG))
    if (id) dbPorts.set(id, Number.isInteger(port) && port > 0 ? port : undefined)
  }
  for (const r of inv.foreignRules) if (!r.egress && (!dbPorts.has(r.groupId) || dbPorts.get(r.groupId) === undefined)) dbPorts.set(r.groupId, r.fromPort)
  for (const [groupId, port] of dbPorts) {
    const exists = await attempt(facts, `database security group ${groupId}`, () => describeSecurityGroups(ec2Client, [], [groupId]))
    const rules = exists && exists.length > 0 ? ((await attempt(facts, `rules of ${groupId}`, () => describeRules(ec2Client, [{Name: 'group-id', Values: [groupId]}]))) ?? []) : []
    facts.dbGroups.push({groupId, ...(port !== undefined ? {port} : {}), exists: (exists?.length ?? 0) > 0, rules: rules.filter((r) => !r.egress)})
  }
  return facts
}

/**
 * doctor's AWS side: the facts and the checks. Failed reads only skip the checks that need them — unless nothing
 * could be read at all (no credentials, no permission to describe, endpoint down): then the cloud side could not be
 * checked, which is not a pass.
 */
export async function awsDoctorSubject(ec2Client: EC2Client, name: string): Promise<CloudDoctorSubject<AwsFacts>> {
  const facts = await gatherAwsFacts(ec2Client, name)
  const first = facts.errors[0]
  if (first && facts.instances.length === 0 && facts.securityGroups.length === 0 && facts.addresses.length === 0)
    return {
      ran: false,
      error: {code: first.code, message: `${first.what}: ${first.message}`, suggestions: ['check the AWS credentials, region and the Describe* permissions in docs/aws-iam-policy.json']},
    }
  return {ran: true, about: `AWS${facts.region ? ` ${facts.region}` : ''}${facts.instance ? `, ${facts.instance.id}` : ''}`, facts, checks: awsChecks}
}

// ------------------------------------------------------------------------------------------------------------ checks

const AREA = 'cloud' as const

function finding(id: string, status: Status, title: string, seen: string, extra: {why?: string; fix?: Fix} = {}): Finding {
  return {id, area: AREA, status, title, seen, ...(status === 'pass' ? {} : extra)}
}

function regionFlag(facts: AwsFacts): string {
  return facts.region ? ` --region ${facts.region}` : ''
}

function skipped(id: string, title: string, reason: string): Finding {
  return finding(id, 'skip', title, reason)
}

function failedRead(facts: AwsFacts, what: string): string | undefined {
  const e = facts.errors.find((x) => x.what === what)
  return e ? `could not read the ${what}: ${e.message}` : undefined
}

function noBastion(facts: AwsFacts): string | undefined {
  return facts.instance ? undefined : (failedRead(facts, 'bastion resources (tags)') ?? `no instance tagged bastion:name=${facts.name}`)
}

const instanceRunning: Check<AwsFacts> = {
  ids: ['cloud.aws.instance.running'],
  area: AREA,
  run({facts}) {
    const id = 'cloud.aws.instance.running'
    const title = `the bastion instance ${facts.name} exists and runs`
    const i = facts.instance
    const readError = failedRead(facts, 'bastion resources (tags)')
    if (readError) return [skipped(id, title, readError)]
    if (!i) {
      const left = [...facts.securityGroups.map((g) => g.id), ...facts.addresses.map((a) => a.publicIp)]
      return [
        finding(id, 'fail', title, `no instance tagged bastion:name=${facts.name}${left.length > 0 ? ` (other resources remain: ${left.join(', ')})` : ''}`, {
          why: 'without the instance there is no SSH server for the vendor to tunnel through',
          fix: {command: `bastion create --cloud aws --name ${facts.name} --subnet <subnet-…>${regionFlag(facts)}  # creates only what is missing`},
        }),
      ]
    }
    const more = facts.instances.length > 1 ? ` (${facts.instances.length} instances carry the tag: ${facts.instances.map((x) => x.id).join(', ')})` : ''
    if (i.state === 'running') return [finding(id, more ? 'warn' : 'pass', title, `${i.id} (${i.type ?? '?'}) is running${more}`, {why: 'several instances with one name confuse bastion; keep one', fix: {command: `aws ec2 terminate-instances --instance-ids <the extra ones>${regionFlag(facts)}`}})]
    if (i.state === 'pending') return [finding(id, 'warn', title, `${i.id} is still starting (pending)${more}`, {why: 'the vendor cannot connect until it runs', fix: {command: `aws ec2 wait instance-running --instance-ids ${i.id}${regionFlag(facts)}`}})]
    return [
      finding(id, 'fail', title, `${i.id} is ${i.state}${i.stateReason ? ` (${i.stateReason})` : ''}${more}`, {
        why: 'a stopped bastion refuses every tunnel',
        fix: {command: `aws ec2 start-instances --instance-ids ${i.id}${regionFlag(facts)}`},
      }),
    ]
  },
}

const imdsv2: Check<AwsFacts> = {
  ids: ['cloud.aws.imdsv2'],
  area: AREA,
  run({facts}) {
    const id = 'cloud.aws.imdsv2'
    const title = 'the instance metadata service requires IMDSv2 tokens'
    const i = facts.instance
    if (!i) return [skipped(id, title, noBastion(facts) ?? 'no instance')]
    if (i.httpEndpoint === 'disabled') return [finding(id, 'pass', title, 'the metadata service is disabled altogether')]
    if (i.httpTokens === 'required') return [finding(id, 'pass', title, 'HttpTokens=required')]
    return [
      finding(id, 'warn', title, `HttpTokens=${i.httpTokens ?? 'unknown'}: IMDSv1 answers plain GET requests`, {
        why: 'a host that vendors connect to should not hand out its role credentials to any SSRF-style request (IMDSv1)',
        fix: {command: `aws ec2 modify-instance-metadata-options --instance-id ${i.id} --http-tokens required --http-endpoint enabled${regionFlag(facts)}`},
      }),
    ]
  },
}

const addressStable: Check<AwsFacts> = {
  ids: ['cloud.aws.address.stable'],
  area: AREA,
  run({facts}) {
    const id = 'cloud.aws.address.stable'
    const title = 'the public address is stable (an Elastic IP)'
    const i = facts.instance
    if (!i) return [skipped(id, title, noBastion(facts) ?? 'no instance')]
    const eip = facts.addresses.find((a) => a.instanceId === i.id)
    if (eip) return [finding(id, 'pass', title, `Elastic IP ${eip.publicIp} (${eip.allocationId}) is associated with ${i.id}`)]
    const free = facts.addresses.find((a) => !a.associationId)
    const fix = free
      ? `aws ec2 associate-address --instance-id ${i.id} --allocation-id ${free.allocationId}${regionFlag(facts)}`
      : `aws ec2 allocate-address --domain vpc --tag-specifications ${quoteShell(`ResourceType=elastic-ip,Tags=[{Key=bastion:name,Value=${facts.name}},{Key=managed-by,Value=bastion}]`)}${regionFlag(facts)}` +
        ` && aws ec2 associate-address --instance-id ${i.id} --allocation-id <eipalloc-… from the first command>${regionFlag(facts)}`
    if (i.publicIp)
      return [
        finding(id, 'warn', title, `${i.publicIp} is the instance's automatic public IP, not an Elastic IP${free ? ` (Elastic IP ${free.publicIp} is tagged for it but not associated)` : ''}`, {
          why: 'the address changes when the instance is stopped and started; the vendor has it pinned in its form and allowlists',
          fix: {command: fix},
        }),
      ]
    return [
      finding(id, 'fail', title, `${i.id} has no public address${free ? ` (Elastic IP ${free.publicIp} is tagged for it but not associated)` : ''}`, {
        why: 'the vendor connects from the internet: without a public address there is nothing to connect to',
        fix: {command: fix},
      }),
    ]
  },
}

function sshRules(facts: AwsFacts, sshPort: number): WhitelistRule[] {
  return facts.rules.filter((r) => r.protocol === 'all' || (r.protocol === 'tcp' && r.fromPort <= sshPort && r.toPort >= sshPort))
}

const vendorCidr: Check<AwsFacts> = {
  ids: ['cloud.aws.sg.vendor_cidr'],
  area: AREA,
  run({facts, input}) {
    const id = 'cloud.aws.sg.vendor_cidr'
    const port = input.sshPort
    const title = `the security groups admit ${input.vendor}'s addresses on SSH port ${port}`
    if (facts.attachedGroupIds.length === 0) return [skipped(id, title, noBastion(facts) ?? 'no security group found')]
    const addCmd = (cidrs: string[]) =>
      `bastion whitelist add --cloud aws --name ${facts.name} --vendor ${input.vendor} ${cidrs.map((c) => `--vendor-ip ${c}`).join(' ')}${regionFlag(facts)}`
    if (input.vendorIps.length === 0) {
      const own = facts.rules.filter((r) => r.role === 'vendor' && r.vendor === input.vendor)
      if (own.length > 0) return [finding(id, 'pass', title, `rules for ${input.vendor}: ${own.map((r) => r.cidr).join(', ')} (give --vendor-ip to check the vendor's published list)`)]
      return [
        finding(id, 'warn', title, `no rule is described as ${input.vendor}'s and no --vendor-ip was given to check against`, {
          why: 'the vendor connects from its published addresses; each must be admitted on the SSH port',
          fix: {command: addCmd(['<vendor CIDR>'])},
        }),
      ]
    }
    const missing: string[] = []
    const byOthers: string[] = []
    for (const cidr of input.vendorIps) {
      const admitting = rulesAdmitting(facts.rules, cidr, port)
      if (admitting.length === 0) missing.push(cidr)
      else if (!admitting.some((r) => r.role === 'vendor' && r.vendor === input.vendor)) byOthers.push(`${cidr} (by ${admitting.map((r) => r.description || r.cidr).join(', ')})`)
    }
    if (missing.length > 0)
      return [
        finding(id, 'fail', title, `not admitted on port ${port}: ${missing.join(', ')}${byOthers.length > 0 ? `; admitted by other rules: ${byOthers.join(', ')}` : ''}`, {
          why: 'the security group silently drops the vendor\'s connection: its "Test connection" times out',
          fix: {command: addCmd(missing)},
        }),
      ]
    return [
      finding(id, 'pass', title, `all ${input.vendorIps.length} address(es) admitted${byOthers.length > 0 ? `; by rules not described as ${input.vendor}'s: ${byOthers.join(', ')}` : ''}`),
    ]
  },
}

const tooWide: Check<AwsFacts> = {
  ids: ['cloud.aws.sg.too_wide'],
  area: AREA,
  run({facts, input}) {
    const id = 'cloud.aws.sg.too_wide'
    const port = input.sshPort
    const title = `nothing wider than asked reaches SSH port ${port}`
    if (facts.attachedGroupIds.length === 0) return [skipped(id, title, noBastion(facts) ?? 'no security group found')]
    const flagged = sshRules(facts, port)
      .map((r) => ({r, problems: judgeRule(r, {sshPort: port, expected: input.vendorIps}).filter((p) => p.code !== 'unmanaged')}))
      .filter((x) => x.problems.length > 0)
    if (flagged.length === 0) return [finding(id, 'pass', title, `${sshRules(facts, port).length} rule(s) reach port ${port}, none wider than a vendor needs`)]
    const fail = flagged.some((x) => x.problems.some((p) => p.severity === 'fail'))
    const first = flagged.find((x) => x.problems.some((p) => p.severity === 'fail')) ?? flagged[0]
    const r = first?.r
    const fix =
      r?.role === 'vendor' && r.vendor
        ? `bastion whitelist remove --cloud aws --name ${facts.name} --vendor ${r.vendor} --vendor-ip ${r.cidr}${regionFlag(facts)}`
        : `aws ec2 revoke-security-group-ingress --group-id ${facts.attachedGroupIds[0]} --security-group-rule-ids ${r?.id ?? '<sgr-…>'}${regionFlag(facts)}`
    return [
      finding(id, fail ? 'fail' : 'warn', title, flagged.map((x) => `${x.r.id ?? x.r.cidr} "${x.r.description}": ${x.problems.map((p) => p.message).join('; ')}`).join(' | '), {
        why: fail
          ? 'the whole internet can reach sshd: password guessing and exploit scans hit the bastion all day'
          : 'every address a rule admits can knock on sshd; admit only the vendor\'s published addresses',
        fix: {command: fix},
      }),
    ]
  },
}

/** A free rule number just below `below` (ACL rules are evaluated lowest first). */
export function freeRuleNumber(entries: NaclEntry[], egress: boolean, below: number): number {
  const taken = new Set(entries.filter((e) => e.egress === egress).map((e) => e.ruleNumber))
  for (let n = below - 1; n >= 1; n--) if (!taken.has(n)) return n
  return 1
}

/** The sources to check the ACL for: the vendor's CIDRs, or the narrow SSH sources of the security groups. */
function aclSources(facts: AwsFacts, vendorIps: string[], port: number): string[] {
  if (vendorIps.length > 0) return vendorIps
  return sshRules(facts, port).map((r) => r.cidr).filter((c) => /[./:]/.test(c) && !c.startsWith('sg-') && !c.startsWith('pl-'))
}

function aclCheck(id: string, egress: boolean): Check<AwsFacts> {
  return {
    ids: [id],
    area: AREA,
    run({facts, input}) {
      const port = input.sshPort
      const ports: [number, number] = egress ? [1024, 65535] : [port, port]
      const title = egress
        ? 'the subnet\'s network ACL lets the replies out (TCP 1024-65535 to the vendor)'
        : `the subnet's network ACL lets SSH in (TCP ${port} from the vendor)`
      const acl = facts.networkAcl
      if (!acl) return [skipped(id, title, failedRead(facts, 'network ACL') ?? noBastion(facts) ?? 'no network ACL found for the subnet')]
      const sources = aclSources(facts, input.vendorIps, port)
      if (sources.length === 0) return [skipped(id, title, 'no vendor address to check (give --vendor-ip)')]
      const bad: string[] = []
      let status: Status = 'pass'
      let fixCidr: string | undefined
      let decidingRule = 100
      for (const cidr of sources) {
        const v = evaluateNacl(acl.entries, {egress, cidr, ports})
        if (v.verdict === 'allow') continue
        const what = v.verdict === 'deny' ? 'denied' : `partly denied (ports ${formatPorts(v.denied) || '-'}${v.partialDenies.length > 0 ? `; rule(s) ${v.partialDenies.join(', ')} deny part of the range` : ''})`
        const names = [...new Set((v.rules.length > 0 ? v.rules : [32767]).map((n) => (n === 32767 ? 'the default * rule' : `rule ${n}`)))]
        bad.push(`${cidr}: ${what} (decided by ${names.join(', ')})`)
        if (v.verdict === 'deny') status = 'fail'
        else if (status !== 'fail') status = 'warn'
        fixCidr ??= cidr
        decidingRule = Math.min(decidingRule, ...v.rules.filter((n) => n < 32767), ...(v.partialDenies.length > 0 ? v.partialDenies : []))
      }
      if (status === 'pass') return [finding(id, 'pass', title, `${acl.id} allows ${egress ? 'replies to' : 'SSH from'} ${sources.join(', ')}`)]
      const n = freeRuleNumber(acl.entries, egress, decidingRule)
      return [
        finding(id, status, title, `${acl.id}: ${bad.join('; ')}`, {
          why: egress
            ? 'network ACLs are stateless: without a rule for the replies, the vendor\'s SSH handshake never completes (it times out)'
            : 'the ACL drops the vendor\'s SYN before the security group sees it: "Test connection" times out',
          fix: {
            command: `aws ec2 create-network-acl-entry --network-acl-id ${acl.id} ${egress ? '--egress' : '--ingress'} --rule-number ${n} --protocol tcp --port-range From=${ports[0]},To=${ports[1]} --cidr-block ${fixCidr} --rule-action allow${regionFlag(facts)}`,
          },
        }),
      ]
    },
  }
}

const routeIgw: Check<AwsFacts> = {
  ids: ['cloud.aws.route.igw'],
  area: AREA,
  run({facts}) {
    const id = 'cloud.aws.route.igw'
    const title = "the subnet's route table sends 0.0.0.0/0 to an internet gateway"
    if (!facts.routeTable) return [skipped(id, title, failedRead(facts, 'route table') ?? noBastion(facts) ?? 'no route table found')]
    const v = judgeDefaultRoute(facts.routeTable)
    if (v.ok) return [finding(id, 'pass', title, v.reason)]
    const igw = facts.internetGatewayId
    const command = igw
      ? `aws ec2 ${v.route ? 'replace-route' : 'create-route'} --route-table-id ${facts.routeTable.id} --destination-cidr-block 0.0.0.0/0 --gateway-id ${igw}${regionFlag(facts)}`
      : `aws ec2 create-internet-gateway${regionFlag(facts)}  # then: aws ec2 attach-internet-gateway --vpc-id ${facts.vpcId ?? '<vpc-…>'} --internet-gateway-id <igw-…>; aws ec2 create-route --route-table-id ${facts.routeTable.id} --destination-cidr-block 0.0.0.0/0 --gateway-id <igw-…>`
    return [
      finding(id, 'fail', title, v.reason, {
        why: 'packets from the vendor reach a public address only through an internet gateway; without the route the bastion is unreachable from the internet',
        fix: {command},
      }),
    ]
  },
}

const dbAdmitsBastion: Check<AwsFacts> = {
  ids: ['cloud.aws.db_sg.admits_bastion'],
  area: AREA,
  run({facts, input}) {
    const id = 'cloud.aws.db_sg.admits_bastion'
    const title = "the database's security group admits the bastion"
    if (facts.dbGroups.length === 0)
      return [skipped(id, title, 'no database security group is known (the bastion was created without --db-security-group)')]
    const out: Finding[] = []
    const bastionGroups = facts.attachedGroupIds
    const privateIp = facts.instance?.privateIp
    for (const db of facts.dbGroups) {
      const port = db.port ?? input.dbs[0]?.port
      if (!db.exists) {
        out.push(finding(id, 'fail', title, `${db.groupId} does not exist any more`, {why: 'the rule that let the bastion reach the database went with it', fix: {command: `bastion create --cloud aws --name ${facts.name} --db-security-group <sg-…> --db-port ${port ?? '<port>'} …`}}))
        continue
      }
      const covers = (r: SgRuleInfo) => r.protocol === 'all' || (r.protocol === 'tcp' && port !== undefined && r.fromPort <= port && r.toPort >= port)
      const byGroup = db.rules.find((r) => covers(r) && r.referencedGroupId && bastionGroups.includes(r.referencedGroupId))
      const byAddress = privateIp ? db.rules.find((r) => covers(r) && r.cidr && !isAnywhere(r.cidr) && cidrContains(r.cidr, `${privateIp}/32`)) : undefined
      const byAnywhere = db.rules.find((r) => covers(r) && r.cidr && isAnywhere(r.cidr))
      if (byGroup) out.push(finding(id, 'pass', title, `${db.groupId} admits ${byGroup.referencedGroupId} on ${port} (rule ${byGroup.id})`))
      else if (byAddress) out.push(finding(id, 'pass', title, `${db.groupId} admits ${byAddress.cidr} (the bastion's ${privateIp}) on ${port}`))
      else if (byAnywhere) out.push(finding(id, 'warn', title, `${db.groupId} admits ${byAnywhere.cidr} on ${port}: the bastion gets in, and so does everyone else`, {why: 'the database should admit the bastion, not the world', fix: {command: `aws ec2 authorize-security-group-ingress --group-id ${db.groupId} --protocol tcp --port ${port} --source-group ${bastionGroups[0] ?? '<sg-bastion>'}${regionFlag(facts)}`}}))
      else
        out.push(
          finding(id, 'fail', title, `${db.groupId} has no rule admitting ${bastionGroups.join(' or ') || 'the bastion'} on ${port ?? 'the database port'}`, {
            why: 'the tunnel reaches the bastion, but the bastion cannot reach the database: the vendor sees a connection timeout from the database',
            fix: {command: `aws ec2 authorize-security-group-ingress --group-id ${db.groupId} --protocol tcp --port ${port ?? '<db port>'} --source-group ${bastionGroups[0] ?? '<sg-bastion>'}${regionFlag(facts)}`},
          }),
        )
    }
    return out
  },
}

export const awsChecks: Check<AwsFacts>[] = [
  instanceRunning,
  imdsv2,
  addressStable,
  vendorCidr,
  tooWide,
  aclCheck('cloud.aws.nacl.ssh_in', false),
  aclCheck('cloud.aws.nacl.ephemeral_out', true),
  routeIgw,
  dbAdmitsBastion,
]

