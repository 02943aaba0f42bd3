/**
 * `bastion create --cloud aws` in three phases: observe (observe.ts: read what exists, by tags), reconcile
 * (reconcile.ts: a pure decision — the ordered actions and the warnings), execute (here: create only what is
 * missing, wait until the instance runs and its status checks pass, read its SSH host keys from the console).
 * Recording the keys in known_hosts is not the driver's job: src/cloud/host-keys.ts does it for every cloud.
 *
 * Every resource this run creates goes into a journal; when a step fails or the run is interrupted (Ctrl-C), the
 * journal is undone in reverse order, so a failed run leaves nothing behind — and resources that existed before the
 * run are never touched.
 */
import {randomUUID} from 'node:crypto'
import type {EC2Client, IpPermission} from '@aws-sdk/client-ec2'
import {BastionError, Exit, asBastionError, internalError} from '../../errors.js'
import {readAddFacts, type AddResult} from '../../access/service.js'
import {parseConsoleOutput, type ConsoleReport} from '../console.js'
import {encodeUserData} from '../user-data.js'
import type {CreateOutcome, CreatePreview, HostKeysRead, Step, WhitelistRule} from '../provider.js'
import {aws, awsCode} from './errors.js'
import {describeRules, tagSpecification, toWhitelistRule, type InstanceInfo} from './inventory.js'
import {observeCreate} from './observe.js'
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
import {describeChanges, reconcileCreate, type CreateDecision} from './reconcile.js'
import {ec2sdk} from './sdk.js'
import {withRollback} from '../rollback.js'

export interface CreateOptions extends AwsRunOptions {
  /** RunInstances idempotency token (default: a fresh one per run, so SDK retries never launch twice). */
  clientToken?: string
  region?: string
  /** The keys the operator already has for an address: a re-run that finds them does not read the console again. */
  knownHostKeys?: (host: string) => {type: string; fingerprint: string}[]
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

export interface AwsCreateResult extends CreateOutcome {
  cloud: 'aws'
  vpcId: string
  subnetId: string
  availabilityZone?: string
  securityGroupId: string
  instance: {id: string; type?: string; state: string; imageId?: string; launchedByThisRun: boolean}
  address: {publicIp?: string; privateIp?: string; allocationId?: string; elastic: boolean}
  rules: WhitelistRule[]
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

/** Observe, reconcile, execute: make what the plan asks for that does not exist yet. */
export async function applyCreate(client: EC2Client, plan: AwsCreatePlan, opts: CreateOptions = {}): Promise<AwsCreateResult> {
  const observed = await observeCreate(client, plan, opts.progress)
  return executeCreate(client, plan, reconcileCreate(plan, observed), opts)
}

/** Observe and reconcile only: what create would change, compared with what exists. Changes nothing. */
export async function previewCreate(client: EC2Client, plan: AwsCreatePlan, opts: AwsRunOptions = {}): Promise<CreatePreview<AwsCreatePlan>> {
  const decision = reconcileCreate(plan, await observeCreate(client, plan, opts.progress))
  return {plan, changes: describeChanges(plan, decision), warnings: decision.warnings}
}

/** What an earlier action made (or the decision found); reaching a step without it means the decision is broken (a bug). */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw internalError('AWS_CREATE_ORDER', `create reached a step that needs ${what} before it existed`)
  return value
}

/** Run the decision's actions in order, journalling what is created; roll the journal back on failure or Ctrl-C. */
export async function executeCreate(client: EC2Client, plan: AwsCreatePlan, decision: CreateDecision, opts: CreateOptions = {}): Promise<AwsCreateResult> {
  const ec2 = await ec2sdk()
  const ctx = opsContext(client, opts)
  const journal: Created[] = []
  const steps: Step[] = []
  const warnings: string[] = [...decision.warnings]
  const step = (s: Step) => {
    steps.push(s)
    ctx.progress(s.detail)
  }
  const name = plan.name
  const {vpcId, keyName, rootDevice, rootSizeGiB} = decision.existing
  let group = decision.existing.group
  let instance: InstanceInfo | undefined = decision.existing.instance
  let address: {allocationId: string; publicIp: string} | undefined = decision.existing.address
  let launched = false
  let hostKeys: HostKeysRead = {status: 'skipped', note: 'the instance is not running'}
  let report: ConsoleReport | undefined
  const publicIp = () => address?.publicIp ?? instance?.publicIp

  try {
    for (const action of decision.actions) {
      switch (action.op) {
        case 'keep':
          step(action.step)
          break
        case 'import-key-pair': {
          const kp = plan.keyPair
          if (kp?.action !== 'import') throw internalError('AWS_CREATE_ORDER', 'create reached the key pair import without a key pair to import')
          checkAborted(ctx.signal)
          const out = await aws('ImportKeyPair', () =>
            client.send(
              new ec2.ImportKeyPairCommand({
                KeyName: kp.name,
                PublicKeyMaterial: Buffer.from(`${kp.key.type} ${kp.key.base64}`),
                TagSpecifications: [tagSpecification('key-pair', name)],
              }),
            ),
          )
          journal.push({kind: 'key-pair', id: out.KeyPairId ?? '', name: kp.name})
          step({kind: 'key-pair', id: out.KeyPairId ?? kp.name, status: 'created', detail: `key pair ${kp.name}: imported (${kp.key.fingerprint})`})
          break
        }
        case 'create-security-group': {
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
          group = {id: out.GroupId ?? '', name: plan.securityGroup.groupName}
          journal.push({kind: 'security-group', id: group.id})
          step({kind: 'security-group', id: group.id, status: 'created', detail: `security group ${group.id} (${plan.securityGroup.groupName}): created`})
          break
        }
        case 'authorize-ssh': {
          const groupId = need(group, 'the security group').id
          const rules: IngressSpec[] = action.rules
          checkAborted(ctx.signal)
          const out = await aws('AuthorizeSecurityGroupIngress', () =>
            client.send(
              new ec2.AuthorizeSecurityGroupIngressCommand({
                GroupId: groupId,
                IpPermissions: rules.map(ipPermission),
                TagSpecifications: [tagSpecification('security-group-rule', name)],
              }),
            ),
          )
          const created = out.SecurityGroupRules ?? []
          journal.push({kind: 'ingress-rules', groupId, ruleIds: created.map((r) => r.SecurityGroupRuleId ?? '').filter(Boolean)})
          for (const spec of rules) {
            const r = created.find((c) => (c.CidrIpv4 ?? c.CidrIpv6) === spec.cidr)
            step({kind: 'ingress-rule', ...(r?.SecurityGroupRuleId ? {id: r.SecurityGroupRuleId} : {}), status: 'created', detail: `SSH from ${spec.cidr} ("${spec.description}"): added`})
          }
          break
        }
        case 'run-instance': {
          const groupId = need(group, 'the security group').id
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
                  ? {BlockDeviceMappings: [{DeviceName: rootDevice, Ebs: {VolumeSize: rootSizeGiB, Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true}}]}
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
          instance = {id: i.InstanceId, state: i.State?.Name ?? 'pending', securityGroupIds: [groupId], type: plan.instanceType, subnetId: plan.subnetId, vpcId}
          step({kind: 'instance', id: i.InstanceId, status: 'created', detail: `instance ${i.InstanceId} (${plan.instanceType}, ${plan.image.description}, ${rootSizeGiB} GiB root): launched`})
          break
        }
        case 'wait-running':
          instance = await waitRunning(ctx, need(instance, 'the instance').id)
          break
        case 'allocate-address': {
          checkAborted(ctx.signal)
          const out = await aws('AllocateAddress', () =>
            client.send(new ec2.AllocateAddressCommand({Domain: 'vpc', TagSpecifications: [tagSpecification('elastic-ip', name)]})),
          )
          const eip = {allocationId: out.AllocationId ?? '', publicIp: out.PublicIp ?? ''}
          address = eip
          journal.push({kind: 'elastic-ip', ...eip})
          step({kind: 'elastic-ip', id: eip.allocationId, status: 'created', detail: `Elastic IP ${eip.publicIp}: allocated`})
          break
        }
        case 'associate-address': {
          const eip = need(address, 'the Elastic IP')
          const instanceId = need(instance, 'the instance').id
          checkAborted(ctx.signal)
          const out = await aws('AssociateAddress', () => client.send(new ec2.AssociateAddressCommand({AllocationId: eip.allocationId, InstanceId: instanceId})))
          journal.push({kind: 'eip-association', associationId: out.AssociationId ?? '', allocationId: eip.allocationId})
          step({kind: 'eip-association', id: out.AssociationId ?? '', status: 'created', detail: `Elastic IP ${eip.publicIp} → ${instanceId}: associated`})
          break
        }
        case 'authorize-db': {
          const db = need(plan.db, 'the database security group')
          const groupId = need(group, 'the security group').id
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
          break
        }
        case 'wait-status-ok': {
          const instanceId = need(instance, 'the instance').id
          await waitStatusOk(ctx, instanceId)
          step({kind: 'status-checks', id: instanceId, status: 'ok', detail: `instance ${instanceId}: status checks passed`})
          break
        }
        case 'read-host-keys': {
          const instanceId = need(instance, 'the instance').id
          const host = publicIp()
          const known = host && opts.knownHostKeys ? opts.knownHostKeys(host) : []
          if (!action.launched && host && known.length > 0) {
            // A re-run: the keys were recorded when the instance was made (its console may have rotated since).
            hostKeys = {status: 'known', host, keys: known}
            break
          }
          // A reused instance's console may no longer hold the keys: look for a minute, not five.
          const timeoutSec = action.launched ? ctx.waits.consoleTimeoutSec : Math.min(ctx.waits.consoleTimeoutSec, 60)
          const read = await readHostKeys(ctx, instanceId, timeoutSec)
          if ('note' in read) {
            hostKeys = {status: 'unavailable', note: read.note}
            warnings.push(read.note)
          } else {
            report = read.report
            hostKeys = {status: 'read', ...(host ? {host} : {}), keys: report.hostKeys, ignored: report.mismatched.length}
          }
          break
        }
      }
    }
    if (report?.init.status === 'failed')
      warnings.push(`the user-data reported a failure on the console: ${report.init.lines.filter((l) => l.includes('ERROR')).join(' | ') || report.init.lines.at(-1)}`)
    for (const l of report?.init.lines ?? []) if (l.startsWith('WARNING')) warnings.push(`user-data: ${l}`)

    let vendorSetup: AddResult | undefined
    if (plan.vendorKey && report && report.init.facts.some((f) => f.key === 'done')) {
      try {
        vendorSetup = readAddFacts(plan.vendorKey, report.init.facts)
      } catch {
        // facts garbled on the console: the summary is only informative
      }
    }

    const groupId = need(group, 'the security group').id
    const made = need(instance, 'the instance')
    const finalRules = await describeRules(client, [{Name: 'group-id', Values: [groupId]}])
    const fresh = (await describeInstance(client, made.id)) ?? made
    const ip = publicIp() ?? fresh.publicIp
    if (!ip) warnings.push(`instance ${made.id} has no public address: vendors cannot reach it (use a subnet that assigns public IPs, or drop --no-eip)`)
    return {
      dryRun: false,
      cloud: 'aws',
      name,
      ...(opts.region ? {region: opts.region} : {}),
      vpcId,
      subnetId: fresh.subnetId ?? plan.subnetId,
      ...(decision.existing.availabilityZone ? {availabilityZone: decision.existing.availabilityZone} : {}),
      securityGroupId: groupId,
      instance: {
        id: made.id,
        state: fresh.state,
        launchedByThisRun: launched,
        ...(fresh.type ? {type: fresh.type} : {}),
        ...(fresh.imageId ? {imageId: fresh.imageId} : {}),
      },
      address: {
        ...(ip ? {publicIp: ip} : {}),
        ...(fresh.privateIp ? {privateIp: fresh.privateIp} : {}),
        ...(address ? {allocationId: address.allocationId} : {}),
        elastic: address !== undefined,
      },
      rules: finalRules.filter((r) => !r.egress).map(toWhitelistRule),
      steps,
      hostKeys,
      bootstrap: {status: report?.init.status ?? 'absent', lines: report?.init.lines ?? []},
      ...(vendorSetup ? {vendorSetup} : {}),
      ...(plan.vendor && ip ? {vendorForm: {sshHost: ip, sshPort: SSH_PORT, sshUser: plan.vendor.name, ...(plan.database ? {database: plan.database} : {})}} : {}),
      ...(plan.image.loginUser && ip ? {admin: {user: plan.image.loginUser, ssh: `ssh ${plan.image.loginUser}@${ip}`}} : {}),
      warnings,
    }
  } catch (err) {
    if (journal.length === 0) throw asBastionError(err)
    const undone = await rollback(client, journal, opts)
    throw withRollback(err, 'aws', name, undone)
  }
}

/**
 * The host keys cloud-init printed on the console, looked for until they appear or `timeoutSec` is up. A bastion
 * that runs is not undone for want of its keys: when they cannot be read, the note says so and how to check them.
 */
export async function readHostKeys(ctx: OpsContext, instanceId: string, timeoutSec: number): Promise<{report: ConsoleReport} | {note: string}> {
  try {
    const report = await poll(ctx, `the SSH host keys on the console of ${instanceId}`, timeoutSec, async () => {
      ctx.progress(`reading the console of ${instanceId} for its SSH host keys`)
      const r = parseConsoleOutput(await consoleOutput(ctx.client, instanceId))
      return r.hostKeys.length > 0 ? r : undefined
    })
    return {report}
  } catch (err) {
    const e = asBastionError(err)
    if (e.code === 'INTERRUPTED') throw e
    const why = e.code === 'AWS_WAIT_TIMEOUT' ? 'are not on its console yet' : `could not be read (${e.message})`
    return {
      note:
        `the SSH host keys of ${instanceId} ${why}, so known_hosts was NOT updated. ` +
        `Check them out of band: aws ec2 get-console-output --instance-id ${instanceId} --latest --output text ` +
        `(between -----BEGIN SSH HOST KEY FINGERPRINTS----- and -----END…), then connect with --host-key SHA256:…`,
    }
  }
}
