/**
 * EC2 steps shared by create (and its rollback), destroy and whitelist: waiting with a deadline, terminating,
 * deleting a security group while its network interfaces detach, releasing addresses, reading the console.
 *
 * Instances are waited for with the SDK's waiters (waitUntilInstanceRunning, …StatusOk, …Terminated), through
 * `sdkWait`: the waiters treat any error as "retry", so a missing IAM permission would look like a 15-minute hang.
 * sdkWait ends the wait at the first AWS error other than "not there yet" (mapped to a BastionError that names the
 * permission), and on Ctrl-C. What no waiter covers (a security group still in use, host keys on the console) is
 * polled by `poll`, with the same rules.
 */
import {setTimeout as delay} from 'node:timers/promises'
import type {DescribeInstancesCommandOutput, DescribeInstanceStatusCommandOutput, EC2Client} from '@aws-sdk/client-ec2'
import {BastionError, Exit} from '../../errors.js'
import type {RunContext} from '../provider.js'
import {aws, awsCode, mapAwsError} from './errors.js'
import {describeInstances, toInstanceInfo, type InstanceInfo} from './inventory.js'
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

function waitTimeout(what: string, timeoutSec: number, seen: string | undefined): BastionError {
  return new BastionError('AWS_WAIT_TIMEOUT', `gave up waiting for ${what} after ${timeoutSec}s${seen ? ` (last seen: ${seen})` : ''}`, {
    exit: Exit.TIMEOUT,
    suggestions: ['look at the instance in the EC2 console (System log, Status checks)', 'run the command again with a longer --wait-timeout'],
  })
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
    if (Date.now() + pause > deadline) throw waitTimeout(what, timeoutSec, lastSeen?.())
    try {
      await ctx.sleep(pause, ctx.signal)
    } catch (err) {
      if (ctx.signal?.aborted) throw interrupted()
      throw err
    }
    pause = Math.min(pause * 1.5, ctx.waits.maxDelaySec * 1000)
  }
}

type Ec2Module = Awaited<ReturnType<typeof ec2sdk>>
type WaiterParams = Parameters<Ec2Module['waitUntilInstanceRunning']>[0]

export interface SdkWaitOptions<R> {
  /** For the timeout message: "instance i-… to run". */
  what: string
  /** The call the waiter makes, for error messages (and the IAM action they name). */
  operation: string
  /** The time the wait was given, as the timeout message names it. */
  timeoutSec: number
  /** The time left of it (a wait in parts): timeoutSec when absent. */
  leftSec?: number
  /** Error codes that mean "not there yet": the waiter polls on. */
  retry?: string[]
  /** Error codes that mean the resource is gone: the wait ends as 'gone'. */
  gone?: string[]
  /** What a response shows, in a few words (progress line, timeout message). */
  seen: (response: R) => string
  progress: (seen: string) => string
  /** A response that settles the wait as failed although the waiter would poll on. */
  failWhen?: (response: R) => boolean
  /** Ctrl-C (undefined: the wait must finish, e.g. in a rollback). */
  signal?: AbortSignal | undefined
}

/**
 * Run one of the SDK's waiters on ctx.client with bastion's rules (see the top of this file). Ends 'done' (the
 * waiter's success), 'failed' (its failure, or failWhen) or 'gone'; `last` is the last response seen. Throws the
 * mapped AWS error, AWS_WAIT_TIMEOUT, or INTERRUPTED.
 */
export async function sdkWait<R>(
  ctx: OpsContext,
  opts: SdkWaitOptions<R>,
  wait: (params: WaiterParams) => Promise<unknown>,
): Promise<{state: 'done' | 'failed' | 'gone'; last?: R}> {
  const stop = new AbortController()
  let fatal: BastionError | undefined
  let ended: 'failed' | 'gone' | undefined
  let last: R | undefined
  let seen: string | undefined
  const client = {
    config: ctx.client.config,
    send: async (command: never) => {
      // The waiter pauses before it looks at the signal again: no call once the wait has ended.
      if (stop.signal.aborted || opts.signal?.aborted) throw interrupted()
      let response: R
      try {
        response = (await ctx.client.send(command)) as R
      } catch (err) {
        const code = awsCode(err) ?? ''
        if (opts.retry?.includes(code)) throw err
        if (opts.gone?.includes(code)) ended = 'gone'
        else fatal = mapAwsError(err, opts.operation)
        stop.abort()
        throw err
      }
      last = response
      seen = opts.seen(response)
      ctx.progress(opts.progress(seen))
      if (opts.failWhen?.(response)) {
        ended = 'failed'
        stop.abort()
      }
      return response
    },
  } as unknown as EC2Client
  const abortSignal = opts.signal ? AbortSignal.any([stop.signal, opts.signal]) : stop.signal
  try {
    await wait({client, maxWaitTime: opts.leftSec ?? opts.timeoutSec, minDelay: ctx.waits.minDelaySec, maxDelay: ctx.waits.maxDelaySec, abortSignal})
  } catch (err) {
    if (fatal) throw fatal
    if (ended) return {state: ended, ...(last !== undefined ? {last} : {})}
    if (opts.signal?.aborted) throw interrupted()
    if ((err as Error).name === 'TimeoutError') throw waitTimeout(opts.what, opts.timeoutSec, seen)
    return {state: 'failed', ...(last !== undefined ? {last} : {})}
  }
  return {state: 'done', ...(last !== undefined ? {last} : {})}
}

const NOT_FOUND = ['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']

export async function describeInstance(client: EC2Client, id: string): Promise<InstanceInfo | undefined> {
  try {
    return (await describeInstances(client, [], [id]))[0]
  } catch (err) {
    if (NOT_FOUND.includes(awsCode(err) ?? '')) return undefined
    throw err
  }
}

function firstInstance(out: DescribeInstancesCommandOutput): InstanceInfo | undefined {
  const i = out.Reservations?.[0]?.Instances?.[0]
  return i ? toInstanceInfo(i) : undefined
}

/** Wait until the instance runs; a launch that ends stopped or terminated fails with AWS's reason. */
export async function waitRunning(ctx: OpsContext, id: string): Promise<InstanceInfo> {
  const {waitUntilInstanceRunning} = await ec2sdk()
  const r = await sdkWait<DescribeInstancesCommandOutput>(
    ctx,
    {
      what: `instance ${id} to run`,
      operation: 'DescribeInstances',
      timeoutSec: ctx.waits.runningTimeoutSec,
      retry: NOT_FOUND, // just launched: may not be visible yet
      seen: (out) => firstInstance(out)?.state ?? 'not visible yet',
      progress: (seen) => `instance ${id}: ${seen}`,
      failWhen: (out) => firstInstance(out)?.state === 'stopped',
      signal: ctx.signal,
    },
    (params) => waitUntilInstanceRunning(params, {InstanceIds: [id]}),
  )
  const i = r.last && firstInstance(r.last)
  if (r.state === 'done' && i) return i
  throw new BastionError('AWS_INSTANCE_FAILED', `instance ${id} did not start: it is ${i?.state ?? 'gone'}${i?.stateReason ? ` (${i.stateReason})` : ''}`, {
    exit: Exit.FAILED,
    suggestions: [
      'InsufficientInstanceCapacity: try another --instance-type or a subnet in another availability zone',
      'an encrypted volume with a KMS key you may not use also stops the launch: check the account\'s default EBS encryption key',
    ],
    detail: {instanceId: id, state: i?.state, reason: i?.stateReason},
  })
}

/** Wait until both EC2 status checks (system and instance) pass. */
export async function waitStatusOk(ctx: OpsContext, id: string): Promise<void> {
  const {waitUntilInstanceStatusOk, waitUntilSystemStatusOk} = await ec2sdk()
  const status = (out: DescribeInstanceStatusCommandOutput) => {
    const s = out.InstanceStatuses?.[0]
    return {system: s?.SystemStatus?.Status ?? 'initializing', instance: s?.InstanceStatus?.Status ?? 'initializing'}
  }
  const deadline = Date.now() + ctx.waits.statusTimeoutSec * 1000
  const what = `the status checks of ${id}`
  let last: DescribeInstanceStatusCommandOutput | undefined
  // The instance check first; the system check, which usually passes with it, only when it has not yet.
  for (const [waiter, passed] of [
    [waitUntilInstanceStatusOk, 'instance'],
    [waitUntilSystemStatusOk, 'system'],
  ] as const) {
    if (last && status(last)[passed] === 'ok') continue
    const left = (deadline - Date.now()) / 1000
    if (left <= ctx.waits.minDelaySec) throw waitTimeout(what, ctx.waits.statusTimeoutSec, last && `system ${status(last).system}, instance ${status(last).instance}`)
    const r = await sdkWait<DescribeInstanceStatusCommandOutput>(
      ctx,
      {
        what,
        operation: 'DescribeInstanceStatus',
        timeoutSec: ctx.waits.statusTimeoutSec,
        leftSec: left,
        retry: NOT_FOUND,
        seen: (out) => `system ${status(out).system}, instance ${status(out).instance}`,
        progress: (seen) => `status checks of ${id}: ${seen}`,
        signal: ctx.signal,
      },
      (params) => waiter(params, {InstanceIds: [id], IncludeAllInstances: true}),
    )
    last = r.last
  }
}

export async function terminateAndWait(ctx: OpsContext, id: string): Promise<'terminated' | 'absent'> {
  const {TerminateInstancesCommand, waitUntilInstanceTerminated} = await ec2sdk()
  const before = await describeInstance(ctx.client, id)
  if (!before || before.state === 'terminated') return 'absent'
  await aws('TerminateInstances', () => ctx.client.send(new TerminateInstancesCommand({InstanceIds: [id]})))
  const r = await sdkWait<DescribeInstancesCommandOutput>(
    ctx,
    {
      what: `instance ${id} to terminate`,
      operation: 'DescribeInstances',
      timeoutSec: ctx.waits.terminateTimeoutSec,
      gone: NOT_FOUND,
      seen: (out) => firstInstance(out)?.state ?? 'gone',
      progress: (seen) => `instance ${id}: ${seen}`,
      signal: undefined,
    },
    (params) => waitUntilInstanceTerminated(params, {InstanceIds: [id]}),
  )
  if (r.state === 'failed') {
    const state = r.last && firstInstance(r.last)?.state
    throw new BastionError('AWS_TERMINATE_FAILED', `instance ${id} did not terminate: it is ${state ?? 'in an unknown state'}`, {
      exit: Exit.FAILED,
      suggestions: [`terminate it again: aws ec2 terminate-instances --instance-ids ${id}`, 'then run the command again'],
      detail: {instanceId: id, state},
    })
  }
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
