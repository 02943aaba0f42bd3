/**
 * An in-memory EC2 for unit tests, wired into a real EC2Client with aws-sdk-client-mock: every command the code
 * sends is answered from state (subnets, route tables, ACLs, groups, rules, instances, addresses, key pairs, console
 * output), with tags and the filters bastion uses. Failures are injected per operation (`failNext`), instance life
 * cycles advance one step per describe, so waiting, rollback and re-runs are exercised as they happen on AWS.
 */
import {gunzipSync} from 'node:zlib'
import * as ec2 from '@aws-sdk/client-ec2'
import {mockClient, type AwsStub} from 'aws-sdk-client-mock'
import {generateEd25519} from '../../src/ssh/keygen.js'

type Tag = {Key?: string; Value?: string}
type Filter = {Name?: string; Values?: string[]}

export interface FakeInstance {
  InstanceId: string
  State: {Name: string}
  InstanceType: string
  ImageId: string
  SubnetId: string
  VpcId: string
  PrivateIpAddress: string
  PublicIpAddress?: string
  SecurityGroups: {GroupId: string; GroupName: string}[]
  KeyName?: string
  MetadataOptions: {HttpTokens: string; HttpEndpoint: string}
  Tags: Tag[]
  LaunchTime: Date
  Placement: {AvailabilityZone: string}
  /** Polls left in pending / shutting-down. */
  pendingPolls: number
  statusPolls: number
  userData: string
  clientToken?: string
}

export interface FakeGroup {
  GroupId: string
  GroupName: string
  VpcId: string
  Description: string
  Tags: Tag[]
}

export interface FakeRule {
  SecurityGroupRuleId: string
  GroupId: string
  IsEgress: boolean
  IpProtocol: string
  FromPort: number
  ToPort: number
  CidrIpv4?: string
  CidrIpv6?: string
  ReferencedGroupInfo?: {GroupId: string}
  Description?: string
  Tags: Tag[]
}

export interface FakeAddress {
  AllocationId: string
  PublicIp: string
  AssociationId?: string
  InstanceId?: string
  Tags: Tag[]
}

export interface FakeKeyPair {
  KeyPairId: string
  KeyName: string
  KeyType: string
  PublicKey: string
  Tags: Tag[]
}

export interface FakeImage {
  ImageId: string
  Name: string
  OwnerId: string
  OwnerAlias?: string
  Architecture: string
  State: string
  CreationDate: string
  RootDeviceName: string
  Platform?: string
  BlockDeviceMappings: {DeviceName: string; Ebs?: {SnapshotId?: string; VolumeSize?: number; VolumeType?: string}}[]
}

/** An image as DescribeImages shows it: its root device mapped to a snapshot of `rootGiB`. */
export function fakeImage(id: string, name: string, owner: string, arch: string, rootDevice: string, rootGiB: number, created = '2026-11-01T00:00:00.000Z'): FakeImage {
  return {
    ImageId: id,
    Name: name,
    ...(owner === 'amazon' ? {OwnerId: '137112412989', OwnerAlias: 'amazon'} : {OwnerId: owner}),
    Architecture: arch,
    State: 'available',
    CreationDate: created,
    RootDeviceName: rootDevice,
    BlockDeviceMappings: [
      {DeviceName: rootDevice, Ebs: {SnapshotId: `snap-${id.slice(4)}`, VolumeSize: rootGiB, VolumeType: 'gp3'}},
      {DeviceName: '/dev/sdb', Ebs: {VolumeSize: 100}},
    ],
  }
}

export function awsError(code: string, message = code, status = 400): Error {
  return Object.assign(new Error(message), {name: code, Code: code, $fault: 'client', $metadata: {httpStatusCode: status, requestId: 'req-fake'}})
}

let counter = 0
const id = (prefix: string) => `${prefix}-${(++counter).toString(16).padStart(17, '0')}`

function tagsMatch(tags: Tag[] | undefined, filters: Filter[] | undefined): boolean {
  for (const f of filters ?? []) {
    const name = f.Name ?? ''
    const values = f.Values ?? []
    if (name.startsWith('tag:')) {
      const k = name.slice(4)
      if (!tags?.some((t) => t.Key === k && values.includes(t.Value ?? ''))) return false
    } else if (name === 'tag-key') {
      if (!tags?.some((t) => values.includes(t.Key ?? ''))) return false
    }
  }
  return true
}

function otherFilter(filters: Filter[] | undefined, name: string): string[] | undefined {
  return filters?.find((f) => f.Name === name)?.Values
}

export class FakeEc2 {
  region = 'eu-west-1'
  vpcs = ['vpc-0aaaaaaaaaaaaaaa1']
  subnets = [{SubnetId: 'subnet-0aaaaaaaaaaaaaaa1', VpcId: 'vpc-0aaaaaaaaaaaaaaa1', AvailabilityZone: 'eu-west-1a'}]
  routeTables: {RouteTableId: string; VpcId: string; main: boolean; subnetIds: string[]; Routes: {DestinationCidrBlock: string; GatewayId: string; State: string}[]}[] = [
    {
      RouteTableId: 'rtb-0aaaaaaaaaaaaaaa1',
      VpcId: 'vpc-0aaaaaaaaaaaaaaa1',
      main: true,
      subnetIds: [],
      Routes: [
        {DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active'},
        {DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0aaaaaaaaaaaaaaa1', State: 'active'},
      ],
    },
  ]
  igws = [{InternetGatewayId: 'igw-0aaaaaaaaaaaaaaa1', VpcId: 'vpc-0aaaaaaaaaaaaaaa1'}]
  nacls = [
    {
      NetworkAclId: 'acl-0aaaaaaaaaaaaaaa1',
      subnetIds: ['subnet-0aaaaaaaaaaaaaaa1'],
      Entries: [
        {RuleNumber: 100, Egress: false, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0'},
        {RuleNumber: 32767, Egress: false, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0'},
        {RuleNumber: 100, Egress: true, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0'},
        {RuleNumber: 32767, Egress: true, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0'},
      ] as {RuleNumber: number; Egress: boolean; Protocol: string; RuleAction: string; CidrBlock: string; PortRange?: {From: number; To: number}}[],
    },
  ]
  /** The --ami image, and the newest image of each family's SSM parameter (what observe reads the root size from). */
  images: FakeImage[] = [
    fakeImage('ami-0bbbbbbbbbbbbbbb1', 'my-golden-image', '123456789012', 'x86_64', '/dev/sda1', 12),
    fakeImage('ami-0ccccccccccccccc1', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101', '099720109477', 'x86_64', '/dev/sda1', 8),
    fakeImage('ami-0ccccccccccccccc0', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20260901', '099720109477', 'x86_64', '/dev/sda1', 7, '2026-09-01T00:00:00.000Z'),
    fakeImage('ami-0ccccccccccccccc2', 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20261101', '099720109477', 'arm64', '/dev/sda1', 8),
    fakeImage('ami-0ccccccccccccccc3', 'al2023-ami-2023.9.20261101.0-kernel-6.1-x86_64', 'amazon', 'x86_64', '/dev/xvda', 8),
    fakeImage('ami-0ccccccccccccccc4', 'al2023-ami-2023.9.20261101.0-kernel-6.1-arm64', 'amazon', 'arm64', '/dev/xvda', 8),
  ]
  groups = new Map<string, FakeGroup>()
  rules = new Map<string, FakeRule>()
  instances = new Map<string, FakeInstance>()
  addresses = new Map<string, FakeAddress>()
  keyPairs = new Map<string, FakeKeyPair>()
  /** Console text per instance; by default cloud-init's host key blocks appear once the status checks pass. */
  console = new Map<string, string>()
  hostKeys = [generateEd25519('root@ip-10-0-0-10'), generateEd25519('root@ip-10-0-0-10')]
  /** Polls of DescribeInstances an instance stays pending / shutting-down; of DescribeInstanceStatus until ok. */
  pendingPolls = 1
  statusPolls = 1
  terminatePolls = 1
  /** DeleteSecurityGroup answers DependencyViolation this many times after the instance is gone (ENI detaching). */
  sgBusyPolls = 1
  /** Console polls before the host keys show (0: at once). */
  consolePolls = 0
  /** Print the user-data's output (bastion-init lines) on the console too. */
  consoleInit = true
  failures = new Map<string, Error[]>()
  log: string[] = []

  constructor() {
    const db: FakeGroup = {GroupId: 'sg-0dddddddddddddd01', GroupName: 'db', VpcId: 'vpc-0aaaaaaaaaaaaaaa1', Description: 'database', Tags: []}
    this.groups.set(db.GroupId, db)
    this.addRule({GroupId: db.GroupId, IsEgress: false, IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, CidrIpv4: '10.0.0.0/16', Tags: []})
  }

  /** The next call of `op` throws `err` (queue several for several calls). */
  failNext(op: string, err: Error, times = 1): void {
    const q = this.failures.get(op) ?? []
    for (let i = 0; i < times; i++) q.push(err)
    this.failures.set(op, q)
  }

  addRule(r: Omit<FakeRule, 'SecurityGroupRuleId'> & {SecurityGroupRuleId?: string}): FakeRule {
    const rule: FakeRule = {...r, SecurityGroupRuleId: r.SecurityGroupRuleId ?? id('sgr')}
    this.rules.set(rule.SecurityGroupRuleId, rule)
    return rule
  }

  /** Every resource still present that carries the tag bastion:name=<name>. */
  tagged(name: string): string[] {
    const has = (tags: Tag[]) => tags.some((t) => t.Key === 'bastion:name' && t.Value === name)
    return [
      ...[...this.instances.values()].filter((i) => i.State.Name !== 'terminated' && has(i.Tags)).map((i) => i.InstanceId),
      ...[...this.groups.values()].filter((g) => has(g.Tags)).map((g) => g.GroupId),
      ...[...this.rules.values()].filter((r) => has(r.Tags)).map((r) => r.SecurityGroupRuleId),
      ...[...this.addresses.values()].filter((a) => has(a.Tags)).map((a) => a.AllocationId),
      ...[...this.keyPairs.values()].filter((k) => has(k.Tags)).map((k) => k.KeyPairId),
    ]
  }

  liveInstances(): FakeInstance[] {
    return [...this.instances.values()].filter((i) => i.State.Name !== 'terminated')
  }

  private tagsFor(specs: {ResourceType?: string; Tags?: Tag[]}[] | undefined, type: string): Tag[] {
    return specs?.find((s) => s.ResourceType === type)?.Tags ?? []
  }

  private consoleFor(i: FakeInstance): string {
    const own = this.console.get(i.InstanceId)
    if (own !== undefined) return own
    const lines = ['[    0.000000] Linux version 6.8.0-1012-aws', `[   12.345678] cloud-init[812]: Cloud-init v. 24.1 running 'modules:final'`]
    if (this.consoleInit) {
      lines.push(`[   20.1] cloud-init[900]: bastion-init: start ${i.Tags.find((t) => t.Key === 'bastion:name')?.Value}`)
      lines.push('[   20.2] cloud-init[900]: bastion-init: sshd drop-in installed: /etc/ssh/sshd_config.d/10-bastion.conf')
      if (/VENDOR='[a-z]/.test(i.userData)) {
        for (const f of ['@bastion group created', '@bastion user created', '@bastion uid 1001', '@bastion shell /usr/sbin/nologin', '@bastion unlocked yes', '@bastion home /home/hevo', '@bastion ssh_dir created', '@bastion key added', '@bastion file written', '@bastion done'])
          lines.push(`[   20.3] cloud-init[900]: bastion-init: ${f}`)
      }
      lines.push(`[   20.9] cloud-init[900]: bastion-init: done`)
    }
    lines.push('ec2: #############################################################')
    lines.push('ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----')
    for (const k of this.hostKeys) lines.push(`ec2: 256 ${k.fingerprint} root@ip-10-0-0-10 (ED25519)`)
    lines.push('ec2: -----END SSH HOST KEY FINGERPRINTS-----')
    lines.push('-----BEGIN SSH HOST KEY KEYS-----')
    for (const k of this.hostKeys) lines.push(k.publicKey)
    lines.push('-----END SSH HOST KEY KEYS-----')
    return lines.join('\r\n')
  }

  /** Handle one command (name without "Command"). */
  handle(op: string, input: any): unknown {
    this.log.push(op)
    const fail = this.failures.get(op)?.shift()
    if (fail) throw fail
    switch (op) {
      case 'DescribeSubnets': {
        const found = this.subnets.filter((s) => !input.SubnetIds || input.SubnetIds.includes(s.SubnetId))
        if (input.SubnetIds && found.length === 0) throw awsError('InvalidSubnetID.NotFound', `The subnet ID '${input.SubnetIds[0]}' does not exist`)
        return {Subnets: found}
      }
      case 'DescribeRouteTables': {
        const subnet = otherFilter(input.Filters, 'association.subnet-id')
        const vpc = otherFilter(input.Filters, 'vpc-id')
        const main = otherFilter(input.Filters, 'association.main')
        const tables = this.routeTables.filter(
          (t) => (!subnet || t.subnetIds.some((s) => subnet.includes(s))) && (!vpc || vpc.includes(t.VpcId)) && (!main || (main[0] === 'true') === t.main),
        )
        return {RouteTables: tables.map((t) => ({RouteTableId: t.RouteTableId, VpcId: t.VpcId, Routes: t.Routes}))}
      }
      case 'DescribeNetworkAcls': {
        const subnet = otherFilter(input.Filters, 'association.subnet-id') ?? []
        return {NetworkAcls: this.nacls.filter((n) => n.subnetIds.some((s) => subnet.includes(s))).map((n) => ({NetworkAclId: n.NetworkAclId, Entries: n.Entries}))}
      }
      case 'DescribeInternetGateways': {
        const vpc = otherFilter(input.Filters, 'attachment.vpc-id') ?? []
        return {InternetGateways: this.igws.filter((g) => vpc.includes(g.VpcId)).map((g) => ({InternetGatewayId: g.InternetGatewayId}))}
      }
      case 'DescribeImages': {
        if (input.ImageIds) {
          const found = this.images.filter((i) => input.ImageIds.includes(i.ImageId))
          if (found.length === 0) throw awsError('InvalidAMIID.NotFound', `The image id '[${input.ImageIds?.[0]}]' does not exist`)
          return {Images: found}
        }
        const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
        const owners = input.Owners as string[] | undefined
        const names = otherFilter(input.Filters, 'name')?.map(glob)
        const archs = otherFilter(input.Filters, 'architecture')
        const states = otherFilter(input.Filters, 'state')
        return {
          Images: this.images.filter(
            (i) =>
              (!owners || owners.includes(i.OwnerAlias ?? i.OwnerId)) &&
              (!names || names.some((re) => re.test(i.Name))) &&
              (!archs || archs.includes(i.Architecture)) &&
              (!states || states.includes(i.State)),
          ),
        }
      }
      case 'DescribeKeyPairs': {
        const found = [...this.keyPairs.values()].filter((k) => (!input.KeyNames || input.KeyNames.includes(k.KeyName)) && tagsMatch(k.Tags, input.Filters))
        if (input.KeyNames && found.length === 0) throw awsError('InvalidKeyPair.NotFound', `The key pair '${input.KeyNames[0]}' does not exist`)
        return {KeyPairs: found.map((k) => ({...k, ...(input.IncludePublicKey ? {} : {PublicKey: undefined})}))}
      }
      case 'ImportKeyPair': {
        if ([...this.keyPairs.values()].some((k) => k.KeyName === input.KeyName)) throw awsError('InvalidKeyPair.Duplicate')
        const material = Buffer.from(input.PublicKeyMaterial).toString()
        const k: FakeKeyPair = {KeyPairId: id('key'), KeyName: input.KeyName, KeyType: 'ed25519', PublicKey: `${material} ${input.KeyName}`, Tags: this.tagsFor(input.TagSpecifications, 'key-pair')}
        this.keyPairs.set(k.KeyPairId, k)
        return {KeyPairId: k.KeyPairId, KeyName: k.KeyName, KeyFingerprint: 'fp'}
      }
      case 'DeleteKeyPair':
        this.keyPairs.delete(input.KeyPairId)
        return {Return: true}
      case 'DescribeSecurityGroups': {
        if (input.GroupIds) {
          const missing = input.GroupIds.find((g: string) => !this.groups.has(g))
          if (missing) throw awsError('InvalidGroup.NotFound', `The security group '${missing}' does not exist`)
        }
        const found = [...this.groups.values()].filter(
          (g) => (!input.GroupIds || input.GroupIds.includes(g.GroupId)) && tagsMatch(g.Tags, input.Filters) && (!otherFilter(input.Filters, 'vpc-id') || otherFilter(input.Filters, 'vpc-id')?.includes(g.VpcId)),
        )
        return {SecurityGroups: found}
      }
      case 'CreateSecurityGroup': {
        if ([...this.groups.values()].some((g) => g.GroupName === input.GroupName && g.VpcId === input.VpcId))
          throw awsError('InvalidGroup.Duplicate', `The security group '${input.GroupName}' already exists for VPC '${input.VpcId}'`)
        const g: FakeGroup = {GroupId: id('sg'), GroupName: input.GroupName, VpcId: input.VpcId, Description: input.Description, Tags: this.tagsFor(input.TagSpecifications, 'security-group')}
        this.groups.set(g.GroupId, g)
        this.addRule({GroupId: g.GroupId, IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0', Tags: []})
        return {GroupId: g.GroupId}
      }
      case 'DeleteSecurityGroup': {
        const g = this.groups.get(input.GroupId)
        if (!g) throw awsError('InvalidGroup.NotFound', `The security group '${input.GroupId}' does not exist`)
        const users = [...this.instances.values()].filter((i) => i.State.Name !== 'terminated' && i.SecurityGroups.some((s) => s.GroupId === g.GroupId))
        const referenced = [...this.rules.values()].some((r) => r.ReferencedGroupInfo?.GroupId === g.GroupId && r.GroupId !== g.GroupId)
        if (users.length > 0 || referenced) throw awsError('DependencyViolation', `resource ${g.GroupId} has a dependent object`)
        if (this.sgBusyPolls > 0) {
          this.sgBusyPolls--
          throw awsError('DependencyViolation', `resource ${g.GroupId} has a dependent object`)
        }
        this.groups.delete(g.GroupId)
        for (const [rid, r] of this.rules) if (r.GroupId === g.GroupId) this.rules.delete(rid)
        return {}
      }
      case 'DescribeSecurityGroupRules': {
        const groupIds = otherFilter(input.Filters, 'group-id')
        const found = [...this.rules.values()].filter((r) => (!groupIds || groupIds.includes(r.GroupId)) && tagsMatch(r.Tags, input.Filters))
        return {SecurityGroupRules: found}
      }
      case 'AuthorizeSecurityGroupIngress': {
        if (!this.groups.has(input.GroupId)) throw awsError('InvalidGroup.NotFound', `The security group '${input.GroupId}' does not exist`)
        const created: FakeRule[] = []
        const tags = this.tagsFor(input.TagSpecifications, 'security-group-rule')
        for (const p of input.IpPermissions ?? []) {
          const base = {GroupId: input.GroupId, IsEgress: false, IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, Tags: tags}
          const sources = [
            ...(p.IpRanges ?? []).map((r: any) => ({CidrIpv4: r.CidrIp, Description: r.Description})),
            ...(p.Ipv6Ranges ?? []).map((r: any) => ({CidrIpv6: r.CidrIpv6, Description: r.Description})),
            ...(p.UserIdGroupPairs ?? []).map((r: any) => ({ReferencedGroupInfo: {GroupId: r.GroupId}, Description: r.Description})),
          ]
          for (const src of sources) {
            const dup = [...this.rules.values()].some(
              (r) => r.GroupId === input.GroupId && !r.IsEgress && r.IpProtocol === p.IpProtocol && r.FromPort === p.FromPort && r.ToPort === p.ToPort &&
                ((src as any).CidrIpv4 ? r.CidrIpv4 === (src as any).CidrIpv4 : (src as any).CidrIpv6 ? r.CidrIpv6 === (src as any).CidrIpv6 : r.ReferencedGroupInfo?.GroupId === (src as any).ReferencedGroupInfo?.GroupId),
            )
            if (dup) throw awsError('InvalidPermission.Duplicate', 'the specified rule already exists')
            created.push({...base, ...src, SecurityGroupRuleId: ''} as FakeRule)
          }
        }
        return {Return: true, SecurityGroupRules: created.map((r) => this.addRule({...r, SecurityGroupRuleId: undefined} as never))}
      }
      case 'RevokeSecurityGroupIngress': {
        for (const rid of input.SecurityGroupRuleIds ?? []) {
          const r = this.rules.get(rid)
          if (!r || r.GroupId !== input.GroupId) throw awsError('InvalidSecurityGroupRuleId.NotFound', `rule ${rid} not found`)
        }
        for (const rid of input.SecurityGroupRuleIds ?? []) this.rules.delete(rid)
        return {Return: true}
      }
      case 'RunInstances': {
        // moto and LocalStack refuse an EBS mapping that says neither how big nor from which snapshot (AWS fills it in)
        for (const m of (input.BlockDeviceMappings ?? []) as ec2.BlockDeviceMapping[])
          if (m.Ebs && m.Ebs.VolumeSize === undefined && m.Ebs.SnapshotId === undefined)
            throw awsError('MissingParameter', 'The request must contain the parameter size or snapshotId')
        if (input.ClientToken) {
          const same = [...this.instances.values()].find((i) => i.clientToken === input.ClientToken)
          if (same) return {Instances: [{InstanceId: same.InstanceId, State: same.State}]}
        }
        const subnet = this.subnets.find((s) => s.SubnetId === input.NetworkInterfaces?.[0]?.SubnetId)
        if (!subnet) throw awsError('InvalidSubnetID.NotFound')
        const raw = Buffer.from(input.UserData ?? '', 'base64')
        const userData = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString() : raw.toString()
        const i: FakeInstance = {
          InstanceId: id('i'),
          State: {Name: 'pending'},
          InstanceType: input.InstanceType,
          ImageId: String(input.ImageId).startsWith('resolve:ssm:') ? 'ami-0ccccccccccccccc1' : input.ImageId,
          SubnetId: subnet.SubnetId,
          VpcId: subnet.VpcId,
          PrivateIpAddress: '10.0.0.10',
          ...(input.NetworkInterfaces?.[0]?.AssociatePublicIpAddress ? {PublicIpAddress: '54.1.2.3'} : {}),
          SecurityGroups: (input.NetworkInterfaces?.[0]?.Groups ?? []).map((g: string) => ({GroupId: g, GroupName: this.groups.get(g)?.GroupName ?? g})),
          ...(input.KeyName ? {KeyName: input.KeyName} : {}),
          MetadataOptions: {HttpTokens: input.MetadataOptions?.HttpTokens ?? 'optional', HttpEndpoint: input.MetadataOptions?.HttpEndpoint ?? 'enabled'},
          Tags: this.tagsFor(input.TagSpecifications, 'instance'),
          LaunchTime: new Date('2026-11-24T10:00:00Z'),
          Placement: {AvailabilityZone: subnet.AvailabilityZone},
          pendingPolls: this.pendingPolls,
          statusPolls: this.statusPolls,
          userData,
          ...(input.ClientToken ? {clientToken: input.ClientToken} : {}),
        }
        this.instances.set(i.InstanceId, i)
        return {Instances: [{InstanceId: i.InstanceId, State: i.State}]}
      }
      case 'DescribeInstances': {
        const states = otherFilter(input.Filters, 'instance-state-name')
        if (input.InstanceIds) {
          const missing = input.InstanceIds.find((x: string) => !this.instances.has(x))
          if (missing) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${missing}' does not exist`)
        }
        const found = [...this.instances.values()].filter((i) => (!input.InstanceIds || input.InstanceIds.includes(i.InstanceId)) && tagsMatch(i.Tags, input.Filters))
        for (const i of found) {
          if (i.State.Name === 'pending' && i.pendingPolls-- <= 0) i.State = {Name: 'running'}
          else if (i.State.Name === 'shutting-down' && i.pendingPolls-- <= 0) i.State = {Name: 'terminated'}
        }
        const shown = found.filter((i) => !states || states.includes(i.State.Name))
        return {Reservations: shown.length > 0 ? [{Instances: shown.map(({pendingPolls: _p, statusPolls: _s, userData: _u, clientToken: _c, ...rest}) => ({...rest}))}] : []}
      }
      case 'DescribeInstanceStatus': {
        const statuses = (input.InstanceIds as string[]).map((x) => {
          const i = this.instances.get(x)
          if (!i) throw awsError('InvalidInstanceID.NotFound')
          const ok = i.State.Name === 'running' && i.statusPolls-- <= 0
          return {InstanceId: x, InstanceState: i.State, SystemStatus: {Status: ok ? 'ok' : 'initializing'}, InstanceStatus: {Status: ok ? 'ok' : 'initializing'}}
        })
        return {InstanceStatuses: statuses}
      }
      case 'TerminateInstances': {
        for (const x of input.InstanceIds as string[]) {
          const i = this.instances.get(x)
          if (!i) throw awsError('InvalidInstanceID.NotFound')
          if (i.State.Name !== 'terminated') {
            i.State = {Name: 'shutting-down'}
            i.pendingPolls = this.terminatePolls
          }
          for (const a of this.addresses.values()) {
            if (a.InstanceId === x) {
              delete a.InstanceId
              delete a.AssociationId
            }
          }
        }
        return {TerminatingInstances: (input.InstanceIds as string[]).map((x) => ({InstanceId: x}))}
      }
      case 'DescribeAddresses': {
        return {Addresses: [...this.addresses.values()].filter((a) => tagsMatch(a.Tags, input.Filters))}
      }
      case 'AllocateAddress': {
        const a: FakeAddress = {AllocationId: id('eipalloc'), PublicIp: `3.3.3.${this.addresses.size + 10}`, Tags: this.tagsFor(input.TagSpecifications, 'elastic-ip')}
        this.addresses.set(a.AllocationId, a)
        return {AllocationId: a.AllocationId, PublicIp: a.PublicIp}
      }
      case 'AssociateAddress': {
        const a = this.addresses.get(input.AllocationId)
        const i = this.instances.get(input.InstanceId)
        if (!a || !i) throw awsError('InvalidAllocationID.NotFound')
        if (i.State.Name !== 'running') throw awsError('IncorrectInstanceState', 'The pending instance is not in a valid state for this operation')
        a.InstanceId = i.InstanceId
        a.AssociationId = id('eipassoc')
        i.PublicIpAddress = a.PublicIp
        return {AssociationId: a.AssociationId}
      }
      case 'DisassociateAddress': {
        const a = [...this.addresses.values()].find((x) => x.AssociationId === input.AssociationId)
        if (!a) throw awsError('InvalidAssociationID.NotFound')
        const i = a.InstanceId ? this.instances.get(a.InstanceId) : undefined
        if (i) delete i.PublicIpAddress
        delete a.AssociationId
        delete a.InstanceId
        return {}
      }
      case 'ReleaseAddress': {
        const a = this.addresses.get(input.AllocationId)
        if (!a) throw awsError('InvalidAllocationID.NotFound')
        if (a.AssociationId) throw awsError('InvalidIPAddress.InUse', 'Address is in use')
        this.addresses.delete(input.AllocationId)
        return {}
      }
      case 'GetConsoleOutput': {
        const i = this.instances.get(input.InstanceId)
        if (!i) throw awsError('InvalidInstanceID.NotFound')
        if (this.consolePolls > 0) {
          this.consolePolls--
          return {InstanceId: i.InstanceId}
        }
        return {InstanceId: i.InstanceId, Output: Buffer.from(this.consoleFor(i)).toString('base64')}
      }
      default:
        throw new Error(`fake EC2: ${op} not implemented`)
    }
  }
}

export const COMMANDS = [
  'DescribeSubnets', 'DescribeRouteTables', 'DescribeNetworkAcls', 'DescribeInternetGateways', 'DescribeImages', 'DescribeKeyPairs',
  'ImportKeyPair', 'DeleteKeyPair', 'DescribeSecurityGroups', 'CreateSecurityGroup', 'DeleteSecurityGroup', 'DescribeSecurityGroupRules',
  'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'RunInstances', 'DescribeInstances', 'DescribeInstanceStatus',
  'TerminateInstances', 'DescribeAddresses', 'AllocateAddress', 'AssociateAddress', 'DisassociateAddress', 'ReleaseAddress', 'GetConsoleOutput',
] as const

export interface FakeSetup {
  fake: FakeEc2
  client: ec2.EC2Client
  mock: AwsStub<any, any, any>
  /** The EC2 operations sent, in order (e.g. "RunInstances"). */
  sent(): string[]
  restore(): void
}

/** A real EC2Client whose `send` is answered by `fake` (aws-sdk-client-mock on the client class). */
export function installFake(fake = new FakeEc2()): FakeSetup {
  const mock = mockClient(ec2.EC2Client)
  for (const op of COMMANDS) {
    const Cmd = (ec2 as unknown as Record<string, new (input: unknown) => unknown>)[`${op}Command`]
    if (!Cmd) throw new Error(`no ${op}Command in the SDK`)
    mock.on(Cmd as never).callsFake(async (input: unknown) => fake.handle(op, input))
  }
  const client = new ec2.EC2Client({region: fake.region, credentials: {accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake'}})
  return {
    fake,
    client,
    mock,
    sent: () => mock.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, '')),
    restore: () => mock.restore(),
  }
}

/** Waits as short as the fake's life cycles allow. */
export const FAST = {
  waits: {minDelaySec: 0.001, maxDelaySec: 0.002, runningTimeoutSec: 5, statusTimeoutSec: 5, terminateTimeoutSec: 5, consoleTimeoutSec: 5, sgDeleteTimeoutSec: 5},
  sleep: async () => {},
}
