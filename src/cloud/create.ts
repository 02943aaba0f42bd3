/**
 * `bastion create` on any cloud: the request (common flags, then the cloud's own), the dry run (with credentials:
 * what exists compared with the request; without: the intent, no cloud call), and the run itself, whose host keys
 * are recorded in known_hosts here, not by the cloud's driver.
 */
import {defaultUserKnownHostsFile} from '../ssh/known-hosts.js'
import {parseCreateRequest, type CreateFlags} from './create-input.js'
import {knownHostKeysIn, recordHostKeys} from './host-keys.js'
import type {CloudProvider, CreateDryRun, CreateRequest, CreateResult, RunContext} from './provider.js'
import {openProvider, type Cloud} from './seam.js'

/** The request from the command's flags: the common ones, then the cloud's own (its module parses them). */
export async function buildCreateRequest(cloud: Cloud, flags: CreateFlags): Promise<{request: CreateRequest; warnings: string[]}> {
  const common = await parseCreateRequest(flags)
  const own = await cloud.module.createOptions(cloud.flags, common.request)
  return {request: {...common.request, options: own.options}, warnings: [...common.warnings, ...own.warnings]}
}

/**
 * create --dry-run. With credentials configured, the cloud is read (and nothing changed): the result says what create
 * would change. Without, no cloud call is made (the SDK is not even loaded): the result is the plan alone.
 * `warnings`: those of the flags, shown first.
 */
export async function dryRunCreate(cloud: Cloud, request: CreateRequest, warnings: string[], ctx: RunContext = {}): Promise<CreateDryRun> {
  if (!cloud.module.hasCredentials(cloud.flags)) {
    const intent = cloud.module.intent(request)
    const region = cloud.module.regionHint(cloud.flags)
    return {dryRun: true, cloud: cloud.name, name: request.name, ...(region ? {region} : {}), plan: intent.plan, warnings: [...warnings, ...intent.warnings]}
  }
  const provider = await openProvider(cloud)
  const region = await provider.region()
  const preview = await provider.preview(request, ctx)
  return {
    dryRun: true,
    cloud: cloud.name,
    name: request.name,
    ...(region ? {region} : {}),
    plan: preview.plan,
    changes: preview.changes,
    warnings: [...warnings, ...preview.warnings],
  }
}

/** Create (or complete) the bastion, then record the host keys the provider read in `knownHostsFile`. */
export async function createBastion(
  provider: CloudProvider,
  request: CreateRequest,
  ctx: RunContext & {waitTimeoutSec?: number; knownHostsFile?: string} = {},
): Promise<CreateResult> {
  const {knownHostsFile, ...run} = ctx
  const file = knownHostsFile ?? defaultUserKnownHostsFile()
  const outcome = await provider.create(request, {...run, knownHostKeys: knownHostKeysIn(file)})
  return {...outcome, hostKeys: recordHostKeys(outcome.hostKeys, file)}
}
