/** The AWS provider: one EC2 client (one account, one region) behind the cloud-neutral CloudProvider interface. */
import type {EC2Client} from '@aws-sdk/client-ec2'
import type {BastionInfo, CloudProvider, DestroyOutcome, ProviderOptions, RunContext, VendorAccess, WhitelistChange, WhitelistView} from '../provider.js'
import {clientRegion, createEc2Client, type AwsClientOptions} from './client.js'
import {applyCreate, type AwsCreateResult, type CreateOptions} from './create.js'
import {findBastion, listBastions} from './describe.js'
import {applyDestroy, type AwsDestroyResult} from './destroy.js'
import type {AwsRunOptions} from './ops.js'
import type {AwsCreatePlan} from './plan.js'
import {whitelistAdd, whitelistList, whitelistRemove} from './whitelist.js'

export class AwsProvider implements CloudProvider<AwsCreatePlan, AwsCreateResult> {
  readonly cloud = 'aws' as const

  constructor(
    readonly client: EC2Client,
    /** Defaults for every run (tests shorten the waits). */
    readonly runDefaults: AwsRunOptions & {knownHostsFile?: string} = {},
  ) {}

  static async create(options: ProviderOptions & AwsClientOptions = {}): Promise<AwsProvider> {
    return new AwsProvider(await createEc2Client(options))
  }

  location(): Promise<string | undefined> {
    return clientRegion(this.client)
  }

  async create(plan: AwsCreatePlan, ctx: RunContext & CreateOptions = {}): Promise<AwsCreateResult> {
    const region = await this.location()
    return applyCreate(this.client, plan, {...this.runDefaults, ...ctx, ...(region ? {region} : {})})
  }

  async find(name: string): Promise<BastionInfo | undefined> {
    return findBastion(this.client, name, await this.location())
  }

  async list(): Promise<BastionInfo[]> {
    return listBastions(this.client, await this.location())
  }

  whitelistList(name: string, expected: string[] = []): Promise<WhitelistView & {securityGroupId: string}> {
    return whitelistList(this.client, name, expected)
  }

  whitelistAdd(name: string, access: VendorAccess, opts: {dryRun?: boolean} = {}): Promise<WhitelistChange & {securityGroupId: string; dryRun: boolean}> {
    return whitelistAdd(this.client, name, access, opts)
  }

  whitelistRemove(name: string, vendor: string, cidrs: string[] | 'all', opts: {dryRun?: boolean} = {}): Promise<WhitelistChange & {securityGroupId: string; dryRun: boolean}> {
    return whitelistRemove(this.client, name, vendor, cidrs, opts)
  }

  async destroy(name: string, ctx: RunContext & {dryRun?: boolean} = {}): Promise<AwsDestroyResult & DestroyOutcome> {
    const region = await this.location()
    return applyDestroy(this.client, name, {...this.runDefaults, ...ctx, ...(region ? {region} : {})})
  }
}
