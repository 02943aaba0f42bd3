/**
 * Azure behind the cloud-neutral interfaces: `azureCloud`, the module the registry loads for --cloud azure (flags,
 * plan, credentials; no SDK), and `AzureProvider`, one subscription's Resource Manager clients.
 */
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
import {credentialsConfigured, openArm, type Arm} from './client.js'
import {applyCreate, previewCreate, type AzureCreateResult} from './create.js'
import {azureDoctorSubject} from './doctor.js'
import {azureWaits, type AzureWaits} from './firewall.js'
import type {AzureFlagValues} from './flags.js'
import {parseAzureCreateOptions, toAzureRequest, type AzureCreateOptions} from './input.js'
import {applyDestroy, listBastions, whitelistAdd, whitelistList, whitelistRemove} from './manage.js'
import {planCreate, renderPlanHuman, type AzureCreatePlan} from './plan.js'

function azurePlan(request: CreateRequest): AzureCreatePlan {
  return planCreate(toAzureRequest(request as CreateRequest<AzureCreateOptions>))
}

export class AzureProvider implements CloudProvider<AzureCreatePlan> {
  readonly cloud = 'azure' as const

  constructor(
    readonly arm: Arm,
    readonly waits: AzureWaits = azureWaits(),
    readonly location?: string,
  ) {}

  async create(request: CreateRequest, ctx: CreateContext = {}): Promise<AzureCreateResult> {
    const {waitTimeoutSec: _ignored, ...run} = ctx
    return applyCreate(this.arm, azurePlan(request), {...run, waits: this.waits})
  }

  destroy(name: string, ctx: RunContext & {dryRun?: boolean} = {}): Promise<DestroyResult> {
    return applyDestroy(this.arm, name, {...ctx, waits: this.waits})
  }

  doctor(name: string): Promise<CloudDoctorSubject> {
    return azureDoctorSubject(this.arm, name) as Promise<CloudDoctorSubject>
  }

  list(): Promise<BastionInfo[]> {
    return listBastions(this.arm)
  }

  preview(request: CreateRequest, ctx: RunContext = {}): Promise<CreatePreview<AzureCreatePlan>> {
    return previewCreate(this.arm, azurePlan(request), ctx)
  }

  region(): Promise<string | undefined> {
    return Promise.resolve(this.location)
  }

  whitelistAdd(name: string, access: VendorAccess, opts: {dryRun?: boolean} = {}): Promise<WhitelistChange> {
    return whitelistAdd(this.arm, name, access, {...opts, waits: this.waits})
  }

  whitelistList(name: string, expected: string[] = []): Promise<WhitelistView> {
    return whitelistList(this.arm, name, expected)
  }

  whitelistRemove(name: string, vendor: string, cidrs: string[] | 'all', opts: {dryRun?: boolean} = {}): Promise<WhitelistChange> {
    return whitelistRemove(this.arm, name, vendor, cidrs, {...opts, waits: this.waits})
  }
}

const azureFlagValues = (flags: FlagValues) => flags as AzureFlagValues

/** --cloud azure, as the registry loads it. */
export const azureCloud: CloudModule<AzureCreatePlan> = {
  async createOptions(flags, request) {
    return parseAzureCreateOptions(azureFlagValues(flags), request)
  },
  hasCredentials(flags) {
    return credentialsConfigured(azureFlagValues(flags).subscription)
  },
  intent(request) {
    const plan = azurePlan(request)
    return {plan, warnings: plan.warnings}
  },
  async open(flags) {
    const f = azureFlagValues(flags)
    return new AzureProvider(await openArm(f.subscription), azureWaits(), f.location)
  },
  regionHint(flags) {
    return azureFlagValues(flags).location
  },
  renderIntent(plan, style, region) {
    return renderPlanHuman(plan, style, region)
  },
}
