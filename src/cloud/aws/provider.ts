/**
 * AWS behind the cloud-neutral interfaces: `awsCloud`, the module the registry loads for --cloud aws (flags, plan,
 * credentials; no SDK), and `AwsProvider`, one EC2 client (one account, one region) that talks to AWS.
 */
import type {EC2Client} from '@aws-sdk/client-ec2'
import type {
  BastionInfo,
  CloudDoctorSubject,
  CloudModule,
  CloudProvider,
  CreateContext,
  CreatePreview,
  CreateRequest,
  DestroyResult,
  FlagValues,
  RunContext,
  VendorAccess,
  WhitelistChange,
  WhitelistView,
} from '../provider.js'
import {clientRegion, createEc2Client, credentialsConfigured, type AwsClientOptions} from './client.js'
import {applyCreate, previewCreate, type AwsCreateResult} from './create.js'
import {listBastions} from './describe.js'
import {applyDestroy} from './destroy.js'
import {awsDoctorSubject} from './doctor.js'
import {regionHint, type AwsFlagValues} from './flags.js'
import {parseAwsCreateOptions, toAwsRequest, type AwsCreateOptions} from './input.js'
import type {AwsRunOptions} from './ops.js'
import {planCreate, renderPlanHuman, type AwsCreatePlan} from './plan.js'
import {whitelistAdd, whitelistList, whitelistRemove} from './whitelist.js'

function awsPlan(request: CreateRequest): AwsCreatePlan {
  return planCreate(toAwsRequest(request as CreateRequest<AwsCreateOptions>))
}

export class AwsProvider implements CloudProvider<AwsCreatePlan> {
  readonly cloud = 'aws' as const

  constructor(
    readonly client: EC2Client,
    /** Defaults for every run (tests shorten the waits). */
    readonly runDefaults: AwsRunOptions = {},
  ) {}

  static async create(options: AwsClientOptions = {}): Promise<AwsProvider> {
    return new AwsProvider(await createEc2Client(options))
  }

  async create(request: CreateRequest, ctx: CreateContext = {}): Promise<AwsCreateResult> {
    const {waitTimeoutSec, ...run} = ctx
    const region = await this.region()
    const waits = {...this.runDefaults.waits, ...(waitTimeoutSec !== undefined ? {statusTimeoutSec: waitTimeoutSec} : {})}
    return applyCreate(this.client, awsPlan(request), {...this.runDefaults, ...run, waits, ...(region ? {region} : {})})
  }

  async destroy(name: string, ctx: RunContext & {dryRun?: boolean} = {}): Promise<DestroyResult> {
    const region = await this.region()
    return applyDestroy(this.client, name, {...this.runDefaults, ...ctx, ...(region ? {region} : {})})
  }

  async doctor(name: string): Promise<CloudDoctorSubject> {
    return awsDoctorSubject(this.client, name)
  }

  async list(): Promise<BastionInfo[]> {
    return listBastions(this.client, await this.region())
  }

  preview(request: CreateRequest, ctx: RunContext = {}): Promise<CreatePreview<AwsCreatePlan>> {
    return previewCreate(this.client, awsPlan(request), {...this.runDefaults, ...ctx})
  }

  region(): Promise<string | undefined> {
    return clientRegion(this.client)
  }

  whitelistAdd(name: string, access: VendorAccess, opts: {dryRun?: boolean} = {}): Promise<WhitelistChange> {
    return whitelistAdd(this.client, name, access, opts)
  }

  whitelistList(name: string, expected: string[] = []): Promise<WhitelistView> {
    return whitelistList(this.client, name, expected)
  }

  whitelistRemove(name: string, vendor: string, cidrs: string[] | 'all', opts: {dryRun?: boolean} = {}): Promise<WhitelistChange> {
    return whitelistRemove(this.client, name, vendor, cidrs, opts)
  }
}

const awsFlagValues = (flags: FlagValues) => flags as AwsFlagValues

/** --cloud aws, as the registry loads it. */
export const awsCloud: CloudModule<AwsCreatePlan> = {
  async createOptions(flags, request) {
    return parseAwsCreateOptions(awsFlagValues(flags), request)
  },
  hasCredentials(flags) {
    return credentialsConfigured(awsFlagValues(flags).profile)
  },
  intent(request) {
    const plan = awsPlan(request)
    return {plan, warnings: [...plan.warnings, ...plan.launchWarnings]}
  },
  open(flags) {
    const {region, profile} = awsFlagValues(flags)
    return AwsProvider.create({...(region ? {region} : {}), ...(profile ? {profile} : {})})
  },
  regionHint(flags) {
    return regionHint(awsFlagValues(flags).region)
  },
  renderIntent(plan, style, region) {
    return renderPlanHuman(plan, style, region)
  },
}
