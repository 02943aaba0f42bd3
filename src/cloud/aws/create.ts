/**
 * `bastion create --cloud aws`, applied: find what already exists (by tags), create only what is missing, wait until
 * the instance runs and its status checks pass, read its SSH host keys from the console into known_hosts.
 *
 * Every resource this run creates goes into a journal; when a step fails or the run is interrupted (Ctrl-C), the
 * journal is undone in reverse order, so a failed run leaves nothing behind — and resources that existed before the
 * run are never touched.
 */
import {randomUUID} from 'node:crypto'
import type {EC2Client, IpPermission} from '@aws-sdk/client-ec2'
import {BastionError, Exit, asBastionError} from '../../errors.js'
import {appendKnownHost, checkHostKey, defaultUserKnownHostsFile, lookupHostKeys} from '../../ssh/known-hosts.js'
import {readAddFacts, type AddResult} from '../../access/service.js'
import {parseConsoleOutput, type ConsoleReport} from '../console.js'
import {encodeUserData} from '../user-data.js'
import type {Step, WhitelistRule} from '../provider.js'
import {aws, awsCode} from './errors.js'
import {
  describeKeyPairs,
  describeRules,
  describeSecurityGroups,
  inventory,
  tagSpecification,
  toWhitelistRule,
  type InstanceInfo,
} from './inventory.js'
import {judgeDefaultRoute, subnetRouteTable} from './network.js'
import {
  checkAborted,
  consoleOutput,
  deleteKeyPair,
  deleteSecurityGroup,
  describeInstance,
  opsContext,
  poll,
  releaseAddress,
  revokeIngress,
  terminateAndWait,
  waitRunning,
  waitStatusOk,
  type AwsRunOptions,
  type OpsContext,
} from './ops.js'
import {DB_PORT_TAG, DB_SG_TAG, SSH_PORT, type AwsCreatePlan, type IngressSpec} from './plan.js'
import {ec2sdk} from './sdk.js'

export interface CreateOptions extends AwsRunOptions {
  /** Where to record the host keys (default ~/.ssh/known_hosts). */
  knownHostsFile?: string
  /** RunInstances idempotency token (default: a fresh one per run, so SDK retries never launch twice). */
  clientToken?: string
  region?: string
}

/** A resource this run created, with what it takes to undo it. */
export type Created =
  | {kind: 'key-pair'; id: string; name: string}
  | {kind: 'security-group'; id: string}
  | {kind: 'ingress-rules'; groupId: string; ruleIds: string[]}
  | {kind: 'instance'; id: string}
  | {kind: 'elastic-ip'; allocationId: string; publicIp: string}
  | {kind: 'eip-association'; associationId: string; allocationId: string}
  | {kind: 'db-rule'; groupId: string; ruleIds: string[]}

export interface HostKeysOutcome {
  status: 'recorded' | 'present' | 'unavailable' | 'skipped'
  /** known_hosts file written or checked. */
  file?: string
  /** The name the keys are recorded under (the public address). */
  host?: string
  keys: {type: string; fingerprint: string}[]
  note: string
}

export interface AwsCreateResult {
  dryRun: false
  cloud: 'aws'
  name: string
  region?: string
  vpcId: string
  subnetId: string
  availabilityZone?: string
  securityGroupId: string
  instance: {id: string; type?: string; state: string; imageId?: string; launchedByThisRun: boolean}
  address: {publicIp?: string; privateIp?: string; allocationId?: string; elastic: boolean}
  rules: WhitelistRule[]
  steps: Step[]
  hostKeys: HostKeysOutcome
  /** What the user-data reported on the console (bastion-init lines). */
  bootstrap: {status: ConsoleReport['init']['status']; lines: string[]}
  /** The vendor set-up the user-data ran at boot, read back from the console's @bastion facts. */
  vendorSetup?: AddResult
  vendorForm?: {sshHost: string; sshPort: number; sshUser: string; database?: string}
  admin?: {user: string; ssh: string}
  warnings: string[]
}

function normalizeKeyMaterial(text: string | undefined): string {
  return (text ?? '').trim().split(/\s+/).slice(0, 2).join(' ')
}

function ipPermission(spec: {cidr: string; port: number; description: string}): IpPermission {
  return spec.cidr.includes(':')
    ? {IpProtocol: 'tcp', FromPort: spec.port, ToPort: spec.port, Ipv6Ranges: [{CidrIpv6: spec.cidr, Description: spec.description}]}
    : {IpProtocol: 'tcp', FromPort: spec.port, ToPort: spec.port, IpRanges: [{CidrIp: spec.cidr, Description: spec.description}]}
}

/** Undo the journal in reverse order. Returns what was undone and what could not be. */
export async function rollback(client: EC2Client, journal: Created[], opts: AwsRunOptions): Promise<{undone: string[]; left: string[]}> {
  // The rollback must finish even after Ctrl-C: no abort signal here (a second Ctrl-C ends the process).
  const ctx: OpsContext = {...opsContext(client, opts), signal: undefined}
  const undone: string[] = []
  const left: string[] = []
  const createdGroups = new Set(journal.filter((j) => j.kind === 'security-group').map((j) => (j as {id: string}).id))
  for (const entry of [...journal].reverse()) {
    const label =
      entry.kind === 'elastic-ip' ? `Elastic IP ${entry.publicIp} (${entry.allocationId})`
      : entry.kind === 'eip-association' ? `association ${entry.associationId}`
      : entry.kind === 'ingress-rules' || entry.kind === 'db-rule' ? `${entry.kind} ${entry.ruleIds.join(',')} on ${entry.groupId}`
      : `${entry.kind} ${entry.id}`
    if (entry.kind === 'ingress-rules' && createdGroups.has(entry.groupId)) continue // deleted with its group
    try {
      ctx.progress(`rolling back: ${label}`)
      switch (entry.kind) {
        case 'eip-association': {
          const {DisassociateAddressCommand} = await ec2sdk()
          await aws('DisassociateAddress', () => client.send(new DisassociateAddressCommand({AssociationId: entry.associationId}))).catch((err) => {
            if (awsCode(err) !== 'InvalidAssociationID.NotFound') throw err
          })
          break
        }
        case 'elastic-ip':
          await releaseAddress(ctx, entry.allocationId)
          break
        case 'instance':
          await terminateAndWait(ctx, entry.id)
          break
        case 'db-rule':
          await revokeIngress(ctx, entry.groupId, entry.ruleIds)
          break
        case 'ingress-rules':
          await revokeIngress(ctx, entry.groupId, entry.ruleIds)
          break
        case 'security-group':
          await deleteSecurityGroup(ctx, entry.id)
          break
        case 'key-pair':
          await deleteKeyPair(ctx, entry.id)
          break
      }
      undone.push(label)
    } catch (err) {
      left.push(`${label}: ${asBastionError(err).message}`)
    }
  }
  return {undone, left}
}

/** The error of a failed run, with what the rollback did. */
function withRollback(err: unknown, name: string, result: {undone: string[]; left: string[]}): BastionError {
  const e = asBastionError(err)
  const lines: string[] = []
  if (result.undone.length > 0) lines.push(`rolled back what this run created: ${result.undone.join('; ')}`)
  if (result.left.length > 0) lines.push(`could NOT remove: ${result.left.join('; ')}`)
  const suggestions = [...e.suggestions]
  if (result.left.length > 0) suggestions.push(`remove the rest with: bastion destroy --cloud aws --name ${name} --confirm ${name}`)
  return new BastionError(e.code, lines.length > 0 ? `${e.message}\n${lines.join('\n')}` : e.message, {
    exit: e.exit,
    suggestions,
    detail: {...e.detail, rollback: result},
    cause: e,
  })
}

export async function applyCreate(client: EC2Client, plan: AwsCreatePlan, opts: CreateOptions = {}): Promise<AwsCreateResult> {
  const ec2 = await ec2sdk()
  const ctx = opsContext(client, opts)
  const journal: Created[] = []
  const steps: Step[] = []
  const warnings: string[] = [...plan.warnings]
  const warn = (m: string) => {
    warnings.push(m)
    opts.warn?.(m)
  }
  const step = (s: Step) => {
    steps.push(s)
    ctx.progress(s.detail)
  }
  const name = plan.name

  try {
    // --- the subnet, its VPC, its route to the internet
    ctx.progress(`reading subnet ${plan.subnetId}`)
    const subnets = await aws('DescribeSubnets', () => client.send(new ec2.DescribeSubnetsCommand({SubnetIds: [plan.subnetId]})))
    const subnet = subnets.Subnets?.[0]
    if (!subnet?.VpcId)
      throw new BastionError('AWS_SUBNET_NOT_FOUND', `subnet ${plan.subnetId} not found`, {
        exit: Exit.USAGE,
        suggestions: ['check the subnet id and the region (--region)'],
      })
    const vpcId = subnet.VpcId
    const az = subnet.AvailabilityZone
    const table = await subnetRouteTable(client, plan.subnetId, vpcId)
    const route = judgeDefaultRoute(table)
    if (!route.ok)
      warn(
        `${route.reason}. Vendors connect from the internet: use a public subnet, or add the route: ` +
          `aws ec2 create-route --route-table-id ${table?.id ?? '<rtb-…>'} --destination-cidr-block 0.0.0.0/0 --gateway-id <igw-… of ${vpcId}>`,
      )

    // --- what the plan refers to must exist before anything is created
    if (plan.db) {
      const [db] = await describeSecurityGroups(client, [], [plan.db.securityGroupId])
      if (!db)
        throw new BastionError('AWS_SECURITY_GROUP_NOT_FOUND', `database security group ${plan.db.securityGroupId} not found`, {
          exit: Exit.USAGE,
          suggestions: ['check --db-security-group and the region'],
        })
      if (db.vpcId && db.vpcId !== vpcId)
        warn(`database security group ${db.id} is in ${db.vpcId}, the bastion in ${vpcId}: the rule works only if the VPCs are peered`)
    }
    let rootDevice = plan.image.rootDevice
    if (!plan.image.ssmParameter) {
      const images = await aws('DescribeImages', () => client.send(new ec2.DescribeImagesCommand({ImageIds: [plan.image.imageId]})))
      const img = images.Images?.[0]
      if (!img)
        throw new BastionError('AWS_IMAGE_NOT_FOUND', `AMI ${plan.image.imageId} not found in this region`, {
          exit: Exit.USAGE,
          suggestions: ['AMI ids are per region: check --ami and --region, or leave --ami out'],
        })
      const arch = img.Architecture === 'arm64' ? 'arm64' : 'x86_64'
      if (arch !== plan.arch)
        throw new BastionError('AWS_IMAGE_ARCH', `AMI ${plan.image.imageId} is for ${arch}, instance type ${plan.instanceType} for ${plan.arch}`, {
          exit: Exit.USAGE,
          suggestions: [plan.arch === 'arm64' ? 'pick an arm64 AMI, or an x86 type such as t3.micro' : 'pick an x86_64 AMI, or a Graviton type such as t4g.micro'],
        })
      if (String(img.Platform ?? '').toLowerCase() === 'windows')
        throw new BastionError('AWS_IMAGE_PLATFORM', `AMI ${plan.image.imageId} is Windows; the bastion needs Linux with OpenSSH and cloud-init`, {
          exit: Exit.USAGE,
          suggestions: ['leave out --ami to use the Ubuntu 24.04 image, or pass --image al2023'],
        })
      rootDevice = img.RootDeviceName
      if (!rootDevice) warn(`AMI ${plan.image.imageId} names no root device: the root volume is encrypted only if the account encrypts EBS by default`)
    }

    // --- key pair
    let keyName: string | undefined
    if (plan.keyPair?.action === 'use') {
      const found = await describeKeyPairs(client, [], [plan.keyPair.name])
      if (found.length === 0)
        throw new BastionError('AWS_KEY_PAIR_NOT_FOUND', `key pair ${plan.keyPair.name} not found in this region`, {
          exit: Exit.USAGE,
          suggestions: ['list them: aws ec2 describe-key-pairs', 'or give your public key: --public-key-file ~/.ssh/id_ed25519.pub'],
        })
      keyName = plan.keyPair.name
      step({kind: 'key-pair', id: found[0]?.id ?? keyName, status: 'present', detail: `key pair ${keyName}: existing, used`})
    } else if (plan.keyPair?.action === 'import') {
      const kp = plan.keyPair
      keyName = kp.name
      const material = `${kp.key.type} ${kp.key.base64}`
      const [existing] = await describeKeyPairs(client, [], [kp.name])
      if (existing) {
        if (existing.publicKey && normalizeKeyMaterial(existing.publicKey) !== material)
          throw new BastionError('AWS_KEY_PAIR_CONFLICT', `key pair ${kp.name} exists with another public key`, {
            exit: Exit.USAGE,
            suggestions: [`use it as is: --key-name ${kp.name} (instead of --public-key-file)`, `or delete it: aws ec2 delete-key-pair --key-name ${kp.name}`],
          })
        step({kind: 'key-pair', id: existing.id, status: 'present', detail: `key pair ${kp.name}: present`})
      } else {
        checkAborted(ctx.signal)
        const out = await aws('ImportKeyPair', () =>
          client.send(
            new ec2.ImportKeyPairCommand({
              KeyName: kp.name,
              PublicKeyMaterial: Buffer.from(material),
              TagSpecifications: [tagSpecification('key-pair', name)],
            }),
          ),
        )
        journal.push({kind: 'key-pair', id: out.KeyPairId ?? '', name: kp.name})
        step({kind: 'key-pair', id: out.KeyPairId ?? kp.name, status: 'created', detail: `key pair ${kp.name}: imported (${kp.key.fingerprint})`})
      }
    }

    // --- what exists already (a re-run, or a half-finished earlier run)
    ctx.progress(`looking for resources tagged bastion:name=${name}`)
    const inv = await inventory(client, name)
    const reusable = inv.instances.filter((i) => ['pending', 'running', 'stopping', 'stopped'].includes(i.state))
    if (reusable.length > 1)
      throw new BastionError('AWS_DUPLICATE', `${reusable.length} instances are tagged bastion:name=${name}: ${reusable.map((i) => i.id).join(', ')}`, {
        exit: Exit.FAILED,
        suggestions: ['terminate the extra ones (aws ec2 terminate-instances --instance-ids …), then run again'],
      })
    let instance: InstanceInfo | undefined = reusable[0]
    const groups = inv.securityGroups.filter((g) => g.vpcId === vpcId)
    if (inv.securityGroups.length > groups.length)
      warn(`security groups tagged for ${name} exist in other VPCs (${inv.securityGroups.filter((g) => g.vpcId !== vpcId).map((g) => g.id).join(', ')}); they are left alone`)
    if (instance && instance.vpcId && instance.vpcId !== vpcId)
      throw new BastionError('AWS_OTHER_VPC', `bastion ${name} exists already in ${instance.vpcId} (instance ${instance.id}), not in ${vpcId}`, {
        exit: Exit.USAGE,
        suggestions: [`pick another --name, or destroy it first: bastion destroy --cloud aws --name ${name} --confirm ${name}`],
      })
    if (instance && instance.subnetId !== plan.subnetId) warn(`instance ${instance.id} runs in ${instance.subnetId}, not in ${plan.subnetId}; it is kept`)

    // --- security group and its SSH rules
    let sgId = instance?.securityGroupIds.find((id) => groups.some((g) => g.id === id)) ?? groups[0]?.id
    if (sgId) {
      step({kind: 'security-group', id: sgId, status: 'present', detail: `security group ${sgId}: present`})
    } else {
      checkAborted(ctx.signal)
      const out = await aws('CreateSecurityGroup', () =>
        client.send(
          new ec2.CreateSecurityGroupCommand({
            GroupName: plan.securityGroup.groupName,
            Description: plan.securityGroup.description,
            VpcId: vpcId,
            TagSpecifications: [
              tagSpecification(
                'security-group',
                name,
                plan.db ? [{Key: DB_SG_TAG, Value: plan.db.securityGroupId}, {Key: DB_PORT_TAG, Value: String(plan.db.port)}] : [],
              ),
            ],
          }),
        ),
      )
      sgId = out.GroupId ?? ''
      journal.push({kind: 'security-group', id: sgId})
      step({kind: 'security-group', id: sgId, status: 'created', detail: `security group ${sgId} (${plan.securityGroup.groupName}): created`})
    }
    const groupId = sgId
    const existingRules = inv.rules.filter((r) => r.groupId === groupId && !r.egress)
    if (plan.vendor) {
      const asked = new Set(plan.vendor.cidrs)
      for (const r of existingRules.map(toWhitelistRule)) {
        if (r.role === 'vendor' && r.vendor === plan.vendor.name && !asked.has(r.cidr))
          warn(`${r.cidr} still admits ${r.vendor} but is not in --vendor-ip any more; remove it with: bastion whitelist remove --cloud aws --name ${name} --vendor ${r.vendor} --cidr ${r.cidr}`)
      }
    }
    const missing: IngressSpec[] = []
    for (const spec of plan.ingress) {
      const same = existingRules.find((r) => r.cidr === spec.cidr && r.protocol === 'tcp' && r.fromPort === spec.port && r.toPort === spec.port)
      if (!same) missing.push(spec)
      else step({kind: 'ingress-rule', id: same.id, status: 'present', detail: `SSH from ${spec.cidr}: present${same.description !== spec.description ? ` (as "${same.description}")` : ''}`})
    }
    if (missing.length > 0) {
      checkAborted(ctx.signal)
      const out = await aws('AuthorizeSecurityGroupIngress', () =>
        client.send(
          new ec2.AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: missing.map(ipPermission),
            TagSpecifications: [tagSpecification('security-group-rule', name)],
          }),
        ),
      )
      const created = out.SecurityGroupRules ?? []
      journal.push({kind: 'ingress-rules', groupId, ruleIds: created.map((r) => r.SecurityGroupRuleId ?? '').filter(Boolean)})
      for (const spec of missing) {
        const r = created.find((c) => (c.CidrIpv4 ?? c.CidrIpv6) === spec.cidr)
        step({kind: 'ingress-rule', ...(r?.SecurityGroupRuleId ? {id: r.SecurityGroupRuleId} : {}), status: 'created', detail: `SSH from ${spec.cidr} ("${spec.description}"): added`})
      }
    }

    // --- the instance
    let launched = false
    if (instance) {
      step({kind: 'instance', id: instance.id, status: 'present', detail: `instance ${instance.id} (${instance.type ?? '?'}): ${instance.state}`})
      if (instance.state === 'stopped' || instance.state === 'stopping')
        warn(`instance ${instance.id} is ${instance.state}; bastion does not start it by itself: aws ec2 start-instances --instance-ids ${instance.id}`)
    } else {
      checkAborted(ctx.signal)
      const out = await aws('RunInstances', () =>
        client.send(
          new ec2.RunInstancesCommand({
            ImageId: plan.image.imageId,
            InstanceType: plan.instanceType as never,
            MinCount: 1,
            MaxCount: 1,
            ...(keyName ? {KeyName: keyName} : {}),
            UserData: encodeUserData(plan.instance.userData).data.toString('base64'),
            MetadataOptions: plan.instance.metadataOptions,
            ...(rootDevice
              ? {BlockDeviceMappings: [{DeviceName: rootDevice, Ebs: {Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true}}]}
              : {}),
            NetworkInterfaces: [{DeviceIndex: 0, SubnetId: plan.subnetId, Groups: [groupId], AssociatePublicIpAddress: !plan.eip, DeleteOnTermination: true}],
            TagSpecifications: ['instance', 'volume', 'network-interface'].map((t) => tagSpecification(t, name)),
            ClientToken: opts.clientToken ?? randomUUID(),
          }),
        ),
      )
      const i = out.Instances?.[0]
      if (!i?.InstanceId) throw new BastionError('AWS_ERROR', 'RunInstances returned no instance', {exit: Exit.FAILED})
      journal.push({kind: 'instance', id: i.InstanceId})
      launched = true
      warnings.push(...plan.launchWarnings)
      instance = {id: i.InstanceId, state: i.State?.Name ?? 'pending', securityGroupIds: [groupId], type: plan.instanceType, subnetId: plan.subnetId, vpcId}
      step({kind: 'instance', id: i.InstanceId, status: 'created', detail: `instance ${i.InstanceId} (${plan.instanceType}, ${plan.image.description}): launched`})
    }
    const instanceId = instance.id
    if (instance.state === 'pending' || launched) instance = await waitRunning(ctx, instanceId)

    // --- the address the vendor allowlists and pins
    let allocationId: string | undefined
    let publicIp = instance.publicIp
    if (plan.eip) {
      const [addr, ...extra] = inv.addresses
      if (extra.length > 0) warn(`several Elastic IPs are tagged for ${name}: ${inv.addresses.map((a) => a.publicIp).join(', ')}; using ${addr?.publicIp}`)
      let eip = addr
      if (eip) {
        step({kind: 'elastic-ip', id: eip.allocationId, status: 'present', detail: `Elastic IP ${eip.publicIp}: present`})
      } else {
        checkAborted(ctx.signal)
        const out = await aws('AllocateAddress', () =>
          client.send(new ec2.AllocateAddressCommand({Domain: 'vpc', TagSpecifications: [tagSpecification('elastic-ip', name)]})),
        )
        eip = {allocationId: out.AllocationId ?? '', publicIp: out.PublicIp ?? '', tags: []}
        journal.push({kind: 'elastic-ip', allocationId: eip.allocationId, publicIp: eip.publicIp})
        step({kind: 'elastic-ip', id: eip.allocationId, status: 'created', detail: `Elastic IP ${eip.publicIp}: allocated`})
      }
      allocationId = eip.allocationId
      publicIp = eip.publicIp
      if (eip.instanceId === instanceId) {
        step({kind: 'eip-association', id: eip.associationId ?? '', status: 'present', detail: `Elastic IP ${eip.publicIp} → ${instanceId}: present`})
      } else if (eip.associationId) {
        throw new BastionError('AWS_EIP_IN_USE', `Elastic IP ${eip.publicIp} (tagged for ${name}) is associated with ${eip.instanceId ?? eip.networkInterfaceId ?? 'another resource'}`, {
          exit: Exit.FAILED,
          suggestions: [`disassociate it (aws ec2 disassociate-address --association-id ${eip.associationId}), then run again`],
        })
      } else {
        checkAborted(ctx.signal)
        const out = await aws('AssociateAddress', () =>
          client.send(new ec2.AssociateAddressCommand({AllocationId: eip.allocationId, InstanceId: instanceId})),
        )
        journal.push({kind: 'eip-association', associationId: out.AssociationId ?? '', allocationId: eip.allocationId})
        step({kind: 'eip-association', id: out.AssociationId ?? '', status: 'created', detail: `Elastic IP ${eip.publicIp} → ${instanceId}: associated`})
      }
    } else if (inv.addresses[0]?.instanceId === instanceId) {
      allocationId = inv.addresses[0].allocationId
      publicIp = inv.addresses[0].publicIp
    }

    // --- the database's security group admits the bastion's
    if (plan.db) {
      const db = plan.db
      const dbRules = await describeRules(client, [{Name: 'group-id', Values: [db.securityGroupId]}])
      const present = dbRules.find(
        (r) => !r.egress && r.referencedGroupId === groupId && (r.protocol === 'all' || (r.protocol === 'tcp' && r.fromPort <= db.port && r.toPort >= db.port)),
      )
      if (present) {
        step({kind: 'db-rule', id: present.id, status: 'present', detail: `${db.securityGroupId} admits ${groupId} on ${db.port}: present`})
      } else {
        checkAborted(ctx.signal)
        const out = await aws('AuthorizeSecurityGroupIngress', () =>
          client.send(
            new ec2.AuthorizeSecurityGroupIngressCommand({
              GroupId: db.securityGroupId,
              IpPermissions: [{IpProtocol: 'tcp', FromPort: db.port, ToPort: db.port, UserIdGroupPairs: [{GroupId: groupId, Description: db.description}]}],
              TagSpecifications: [tagSpecification('security-group-rule', name)],
            }),
          ),
        )
        const ids = (out.SecurityGroupRules ?? []).map((r) => r.SecurityGroupRuleId ?? '').filter(Boolean)
        journal.push({kind: 'db-rule', groupId: db.securityGroupId, ruleIds: ids})
        step({kind: 'db-rule', ...(ids[0] ? {id: ids[0]} : {}), status: 'created', detail: `${db.securityGroupId} admits ${groupId} on tcp ${db.port}: added`})
      }
    }

    // --- healthy, and its host keys known
    let hostKeys: HostKeysOutcome = {status: 'skipped', keys: [], note: 'the instance is not running'}
    let report: ConsoleReport | undefined
    if (instance.state === 'running') {
      await waitStatusOk(ctx, instanceId)
      step({kind: 'status-checks', id: instanceId, status: 'ok', detail: `instance ${instanceId}: status checks passed`})
      const file = opts.knownHostsFile ?? defaultUserKnownHostsFile()
      const known = publicIp ? lookupHostKeys(publicIp, [file]).filter((e) => !e.marker) : []
      if (!launched && publicIp && known.length > 0) {
        // A re-run: the keys were recorded when the instance was made (its console may have rotated since).
        hostKeys = {status: 'present', file, host: publicIp, keys: known.map((e) => ({type: e.keyType, fingerprint: e.fingerprint})), note: `${file} already has the host keys of ${publicIp}`}
      } else {
        // A reused instance's console may no longer hold the keys: look for a minute, not five.
        const waits = launched ? ctx.waits : {...ctx.waits, consoleTimeoutSec: Math.min(ctx.waits.consoleTimeoutSec, 60)}
        ;({hostKeys, report} = await readHostKeys({...ctx, waits}, instanceId, publicIp, file))
        if (hostKeys.status === 'unavailable') warn(hostKeys.note)
      }
    }
    if (report?.init.status === 'failed')
      warn(`the user-data reported a failure on the console: ${report.init.lines.filter((l) => l.includes('ERROR')).join(' | ') || report.init.lines.at(-1)}`)
    for (const l of report?.init.lines ?? []) if (l.startsWith('WARNING')) warn(`user-data: ${l}`)

    let vendorSetup: AddResult | undefined
    if (plan.vendorKey && report && report.init.facts.some((f) => f.key === 'done')) {
      try {
        vendorSetup = readAddFacts(plan.vendorKey, report.init.facts)
      } catch {
        // facts garbled on the console: the summary is only informative
      }
    }

    const finalRules = await describeRules(client, [{Name: 'group-id', Values: [groupId]}])
    const fresh = (await describeInstance(client, instanceId)) ?? instance
    const ip = publicIp ?? fresh.publicIp
    if (!ip) warn(`instance ${instanceId} has no public address: vendors cannot reach it (use a subnet that assigns public IPs, or drop --no-eip)`)
    return {
      dryRun: false,
      cloud: 'aws',
      name,
      ...(opts.region ? {region: opts.region} : {}),
      vpcId,
      subnetId: fresh.subnetId ?? plan.subnetId,
      ...(az ? {availabilityZone: az} : {}),
      securityGroupId: groupId,
      instance: {
        id: instanceId,
        state: fresh.state,
        launchedByThisRun: launched,
        ...(fresh.type ? {type: fresh.type} : {}),
        ...(fresh.imageId ? {imageId: fresh.imageId} : {}),
      },
      address: {
        ...(ip ? {publicIp: ip} : {}),
        ...(fresh.privateIp ? {privateIp: fresh.privateIp} : {}),
        ...(allocationId ? {allocationId} : {}),
        elastic: allocationId !== undefined,
      },
      rules: finalRules.filter((r) => !r.egress).map(toWhitelistRule),
      steps,
      hostKeys,
      bootstrap: {status: report?.init.status ?? 'absent', lines: report?.init.lines ?? []},
      ...(vendorSetup ? {vendorSetup} : {}),
      ...(plan.vendor && ip
        ? {vendorForm: {sshHost: ip, sshPort: SSH_PORT, sshUser: plan.vendor.name, ...(plan.database ? {database: plan.database} : {})}}
        : {}),
      ...(plan.image.loginUser && ip ? {admin: {user: plan.image.loginUser, ssh: `ssh ${plan.image.loginUser}@${ip}`}} : {}),
      warnings,
    }
  } catch (err) {
    if (journal.length === 0) throw asBastionError(err)
    const undone = await rollback(client, journal, opts)
    throw withRollback(err, name, undone)
  }
}

/**
 * Read the host keys cloud-init printed on the console (retried until they appear or the time is up) and record
 * them in known_hosts under the public address, so later SSH (add-vendor-key, doctor) is verified without trusting
 * on first use.
 */
export async function readHostKeys(
  ctx: OpsContext,
  instanceId: string,
  publicIp: string | undefined,
  knownHostsFile: string,
): Promise<{hostKeys: HostKeysOutcome; report?: ConsoleReport}> {
  let found: ConsoleReport
  try {
    found = await poll(ctx, `the SSH host keys on the console of ${instanceId}`, ctx.waits.consoleTimeoutSec, async () => {
      ctx.progress(`reading the console of ${instanceId} for its SSH host keys`)
      const r = parseConsoleOutput(await consoleOutput(ctx.client, instanceId))
      return r.hostKeys.length > 0 ? r : undefined
    })
  } catch (err) {
    const e = asBastionError(err)
    if (e.code === 'INTERRUPTED') throw e
    // A bastion that runs is not undone for want of its keys: say so plainly instead.
    const why = e.code === 'AWS_WAIT_TIMEOUT' ? 'are not on its console yet' : `could not be read (${e.message})`
    return {
      hostKeys: {
        status: 'unavailable',
        keys: [],
        note:
          `the SSH host keys of ${instanceId} ${why}, so known_hosts was NOT updated. ` +
          `Check them out of band: aws ec2 get-console-output --instance-id ${instanceId} --latest --output text ` +
          `(between -----BEGIN SSH HOST KEY FINGERPRINTS----- and -----END…), then connect with --host-key SHA256:…`,
      },
    }
  }
  const report = found
  const keys = report.hostKeys.map((k) => ({type: k.type, fingerprint: k.fingerprint}))
  if (!publicIp) return {hostKeys: {status: 'skipped', keys, note: 'the instance has no public address to record the keys under'}, report}
  let added = 0
  for (const k of report.hostKeys) {
    const check = checkHostKey(publicIp, Buffer.from(k.base64, 'base64'), [knownHostsFile])
    if (check.status === 'match') continue
    if (check.status === 'revoked') continue
    appendKnownHost(knownHostsFile, publicIp, k.type, k.base64)
    added++
  }
  const others = lookupHostKeys(publicIp, [knownHostsFile]).filter((e) => !e.marker && !report.hostKeys.some((k) => k.base64 === e.keyBase64))
  return {
    hostKeys: {
      status: added > 0 ? 'recorded' : 'present',
      file: knownHostsFile,
      host: publicIp,
      keys,
      note:
        (added > 0 ? `recorded ${added} host key(s) for ${publicIp} in ${knownHostsFile}` : `the host keys of ${publicIp} are already in ${knownHostsFile}`) +
        (report.mismatched.length > 0 ? `; ignored ${report.mismatched.length} key(s) whose fingerprint the console did not list` : '') +
        (others.length > 0 ? `; ${knownHostsFile} also has older keys for ${publicIp} (an earlier host with this address?): ssh-keygen -R ${publicIp}` : ''),
    },
    report,
  }
}
