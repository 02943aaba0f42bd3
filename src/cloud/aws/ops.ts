/**
 * EC2 steps shared by create (and its rollback), destroy and whitelist: waiting with a deadline, terminating,
 * deleting a security group while its network interfaces detach, releasing addresses, reading the console.
 *
 * Waiting is done by our own poller rather than the SDK's waiters: the SDK waiters treat any error as "retry", so a
 * missing IAM permission would look like a 15-minute hang. Here AWS errors end the wait at once (mapped to a
 * BastionError that names the permission), and only "not there yet" is retried.
 */
import {setTimeout as delay} from 'node:timers/promises'
import type {EC2Client} from '@aws-sdk/client-ec2'
import {BastionError, Exit} from '../../errors.js'
import type {RunContext} from '../provider.js'
import {aws, awsCode} from './errors.js'
import {describeInstances, type InstanceInfo} from './inventory.js'
import {ec2sdk} from './sdk.js'

export interface WaitOptions {
  /** First and longest pause between polls. */
  minDelaySec: number
  maxDelaySec: number
  runningTimeoutSec: number
  statusTimeoutSec: number
  terminateTimeoutSec: number
  /** How long to look for the host keys on the console after the status checks pass. */
  consoleTimeoutSec: number
  /** How long to retry deleting a security group that is still in use (ENIs detaching). */
  sgDeleteTimeoutSec: number
}

export const DEFAULT_WAITS: WaitOptions = {
  minDelaySec: 5,
  maxDelaySec: 15,
  runningTimeoutSec: 300,
  statusTimeoutSec: 900,
  terminateTimeoutSec: 600,
  consoleTimeoutSec: 300,
  sgDeleteTimeoutSec: 300,
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, signal ? {signal} : {})

/** Options of every AWS run: progress, Ctrl-C, warnings (RunContext) plus waiting knobs (tests shorten them). */
export interface AwsRunOptions extends RunContext {
  waits?: Partial<WaitOptions>
  sleep?: Sleep
}

export function opsContext(client: EC2Client, opts: AwsRunOptions): OpsContext {
  return {
    client,
    waits: {...DEFAULT_WAITS, ...opts.waits},
    sleep: opts.sleep ?? realSleep,
    ...(opts.signal ? {signal: opts.signal} : {}),
    progress: opts.progress ?? (() => {}),
  }
}

export interface OpsContext {
  client: EC2Client
  waits: WaitOptions
  sleep: Sleep
  signal?: AbortSignal
  progress: (status: string) => void
}

/** Exit status of a run stopped with Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130

export function interrupted(): BastionError {
  return new BastionError('INTERRUPTED', 'interrupted (Ctrl-C)', {exit: EXIT_INTERRUPTED})
}

export function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw interrupted()
}

/**
 * Poll `check` until it returns a value, with exponential backoff (minDelay → maxDelay) and a deadline.
 * `check` throws to stop early; returning undefined means "not yet". Aborting the signal stops the wait.
 */
export async function poll<T>(
  ctx: Pick<OpsContext, 'sleep' | 'signal'> & {waits: Pick<WaitOptions, 'minDelaySec' | 'maxDelaySec'>},
  what: string,
  timeoutSec: number,
  check: () => Promise<T | undefined>,
  lastSeen?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutSec * 1000
  let pause = ctx.waits.minDelaySec * 1000
  for (;;) {
    checkAborted(ctx.signal)
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() + pause > deadline) {
      const seen = lastSeen?.()
      throw new BastionError('AWS_WAIT_TIMEOUT', `gave up waiting for ${what} after ${timeoutSec}s${seen ? ` (last seen: ${seen})` : ''}`, {
        exit: Exit.TIMEOUT,
        suggestions: ['look at the instance in the EC2 console (System log, Status checks)', 'run the command again with a longer --wait-timeout'],
      })
    }
    try {
      await ctx.sleep(pause, ctx.signal)
    } catch (err) {
      if (ctx.signal?.aborted) throw interrupted()
      throw err
    }
    pause = Math.min(pause * 1.5, ctx.waits.maxDelaySec * 1000)
  }
}

const NOT_FOUND = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed'])

export async function describeInstance(client: EC2Client, id: string): Promise<InstanceInfo | undefined> {
  try {
    return (await describeInstances(client, [], [id]))[0]
  } catch (err) {
    if (NOT_FOUND.has(awsCode(err) ?? '')) return undefined
    throw err
  }
}

/** Wait until the instance runs; a launch that ends in stopped/terminated fails with AWS's reason. */
export async function waitRunning(ctx: OpsContext, id: string): Promise<InstanceInfo> {
  let last: InstanceInfo | undefined
  return poll(ctx, `instance ${id} to run`, ctx.waits.runningTimeoutSec, async () => {
    const i = await describeInstance(ctx.client, id) // just launched: may not be visible yet
    last = i
    if (!i) return undefined
    ctx.progress(`instance ${id}: ${i.state}`)
    if (i.state === 'running') return i
    if (i.state === 'pending') return undefined
    throw new BastionError('AWS_INSTANCE_FAILED', `instance ${id} did not start: it is ${i.state}${i.stateReason ? ` (${i.stateReason})` : ''}`, {
      exit: Exit.FAILED,
      suggestions: [
        'InsufficientInstanceCapacity: try another --instance-type or a subnet in another availability zone',
        'an encrypted volume with a KMS key you may not use also stops the launch: check the account\'s default EBS encryption key',
      ],
      detail: {instanceId: id, state: i.state, reason: i.stateReason},
    })
  }, () => last?.state)
}

/** Wait until both EC2 status checks (system and instance) pass. */
export async function waitStatusOk(ctx: OpsContext, id: string): Promise<void> {
  const {DescribeInstanceStatusCommand} = await ec2sdk()
  let seen = 'initializing'
  await poll(ctx, `the status checks of ${id}`, ctx.waits.statusTimeoutSec, async () => {
    const out = await aws('DescribeInstanceStatus', () =>
      ctx.client.send(new DescribeInstanceStatusCommand({InstanceIds: [id], IncludeAllInstances: true})),
    )
    const s = out.InstanceStatuses?.[0]
    const sys = s?.SystemStatus?.Status ?? 'initializing'
    const inst = s?.InstanceStatus?.Status ?? 'initializing'
    seen = `system ${sys}, instance ${inst}`
    ctx.progress(`status checks of ${id}: ${seen}`)
    return sys === 'ok' && inst === 'ok' ? true : undefined
  }, () => seen)
}

export async function terminateAndWait(ctx: OpsContext, id: string): Promise<'terminated' | 'absent'> {
  const {TerminateInstancesCommand} = await ec2sdk()
  const before = await describeInstance(ctx.client, id)
  if (!before || before.state === 'terminated') return 'absent'
  await aws('TerminateInstances', () => ctx.client.send(new TerminateInstancesCommand({InstanceIds: [id]})))
  await poll({...ctx, signal: undefined}, `instance ${id} to terminate`, ctx.waits.terminateTimeoutSec, async () => {
    const i = await describeInstance(ctx.client, id)
    ctx.progress(`instance ${id}: ${i?.state ?? 'gone'}`)
    return !i || i.state === 'terminated' ? true : undefined
  })
  return 'terminated'
}

/** Delete a security group, retrying while it is still in use (the terminated instance's ENI detaching). */
export async function deleteSecurityGroup(ctx: OpsContext, id: string): Promise<'deleted' | 'absent'> {
  const {DeleteSecurityGroupCommand} = await ec2sdk()
  let last = ''
  return poll({...ctx, signal: undefined}, `security group ${id} to be free`, ctx.waits.sgDeleteTimeoutSec, async () => {
    try {
      await aws('DeleteSecurityGroup', () => ctx.client.send(new DeleteSecurityGroupCommand({GroupId: id})))
      return 'deleted' as const
    } catch (err) {
      const code = awsCode(err)
      if (code === 'InvalidGroup.NotFound') return 'absent' as const
      if (code === 'DependencyViolation') {
        last = (err as Error).message
        ctx.progress(`security group ${id} still in use; retrying`)
        return undefined
      }
      throw err
    }
  }, () => last)
}

export async function releaseAddress(ctx: OpsContext, allocationId: string, associationId?: string): Promise<'released' | 'absent'> {
  const {DisassociateAddressCommand, ReleaseAddressCommand} = await ec2sdk()
  if (associationId) {
    try {
      await aws('DisassociateAddress', () => ctx.client.send(new DisassociateAddressCommand({AssociationId: associationId})))
    } catch (err) {
      if (awsCode(err) !== 'InvalidAssociationID.NotFound') throw err
    }
  }
  try {
    await aws('ReleaseAddress', () => ctx.client.send(new ReleaseAddressCommand({AllocationId: allocationId})))
    return 'released'
  } catch (err) {
    if (awsCode(err) === 'InvalidAllocationID.NotFound') return 'absent'
    throw err
  }
}

export async function revokeIngress(ctx: OpsContext, groupId: string, ruleIds: string[]): Promise<'revoked' | 'absent'> {
  const {RevokeSecurityGroupIngressCommand} = await ec2sdk()
  if (ruleIds.length === 0) return 'absent'
  try {
    await aws('RevokeSecurityGroupIngress', () =>
      ctx.client.send(new RevokeSecurityGroupIngressCommand({GroupId: groupId, SecurityGroupRuleIds: ruleIds})),
    )
    return 'revoked'
  } catch (err) {
    const code = awsCode(err)
    if (code === 'InvalidSecurityGroupRuleId.NotFound' || code === 'InvalidGroup.NotFound' || code === 'InvalidPermission.NotFound') return 'absent'
    throw err
  }
}

export async function deleteKeyPair(ctx: OpsContext, keyPairId: string): Promise<'deleted'> {
  const {DeleteKeyPairCommand} = await ec2sdk()
  await aws('DeleteKeyPair', () => ctx.client.send(new DeleteKeyPairCommand({KeyPairId: keyPairId})))
  return 'deleted'
}

/** The instance's serial console as text ('' when AWS has none yet). Tries the latest output first (Nitro). */
export async function consoleOutput(client: EC2Client, id: string): Promise<string> {
  const {GetConsoleOutputCommand} = await ec2sdk()
  let out
  try {
    out = await aws('GetConsoleOutput', () => client.send(new GetConsoleOutputCommand({InstanceId: id, Latest: true})))
  } catch (err) {
    // Latest=true is for Nitro instances only; older types get the buffered output.
    if (awsCode(err) !== 'UnsupportedOperation' && awsCode(err) !== 'InvalidParameterValue') throw err
    out = await aws('GetConsoleOutput', () => client.send(new GetConsoleOutputCommand({InstanceId: id})))
  }
  return out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : ''
}
