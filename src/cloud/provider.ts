/**
 * The cloud behind one small interface: create, find by name (the cloud's tags are the state: no local state file),
 * list, change the whitelist, destroy. AWS (an EC2 instance, an Elastic IP, a security group) fits it; so does Azure
 * (a VM behind a firewall DNAT rule: the whitelist becomes the rule's source addresses).
 *
 * Nothing here loads a cloud SDK: providers are loaded with `loadProvider` (a dynamic import), and each provider
 * imports its SDK inside the functions that talk to the cloud.
 */
export const CLOUDS = ['aws'] as const
export type CloudName = (typeof CLOUDS)[number]

/** The tags (labels) every resource bastion creates carries. The bastion's name is the key to find them again. */
export const TAG_NAME = 'bastion:name'
export const TAG_MANAGED_BY = 'managed-by'
export const MANAGED_BY = 'bastion'

/** A vendor and the addresses it connects from (its published egress IPs). */
export interface VendorAccess {
  vendor: string
  cidrs: string[]
}

/** Who a whitelist rule is for: a vendor, the operator (--admin-cidr), or a rule bastion did not write. */
export type RuleRole = 'vendor' | 'admin' | 'unmanaged'

/** One allow rule in front of the bastion's SSH port (an SG ingress rule, a DNAT rule's source …). */
export interface WhitelistRule {
  /** The cloud's id of the rule (e.g. `sgr-…`), when it has one. */
  id?: string
  role: RuleRole
  vendor?: string
  /** Source CIDR as the cloud reports it; `sg-…` when the source is another security group. */
  cidr: string
  /** 'tcp', 'udp', 'icmp', or 'all'. */
  protocol: string
  fromPort: number
  toPort: number
  description: string
}

export type RuleProblemCode = 'anywhere' | 'wide' | 'ports' | 'unmanaged'

export interface RuleProblem {
  code: RuleProblemCode
  /** fail: must not stay (open to the whole internet); warn: look at it. */
  severity: 'fail' | 'warn'
  message: string
}

export type ResourceStatus = 'ok' | 'created' | 'present' | 'updated' | 'deleted' | 'absent' | 'skipped' | 'failed'

/** One step a provider took (or would take), for the report and --json. */
export interface Step {
  /** e.g. `security-group`, `ingress-rule`, `instance`, `elastic-ip`. */
  kind: string
  /** The cloud's id of the resource, when known. */
  id?: string
  status: ResourceStatus
  /** One line for people. */
  detail: string
}

export interface BastionAddress {
  /** The address the vendor connects to. */
  publicIp?: string
  privateIp?: string
  /** Survives stop/start (an Elastic IP, a static public IP). */
  stable: boolean
}

/** What `find`/`list` report about one bastion. */
export interface BastionInfo {
  cloud: CloudName
  name: string
  /** Region (AWS) or location (Azure). */
  location?: string
  /** The cloud's state of the machine (`running`, `stopped` …), or `missing` when only other resources remain. */
  state: string
  instanceId?: string
  instanceType?: string
  address: BastionAddress
  sshPort: number
  vendors: VendorAccess[]
  adminCidrs: string[]
  rules: WhitelistRule[]
  /** Every resource found by tag. */
  resources: {kind: string; id: string}[]
  launchedAt?: string
}

export interface RunContext {
  /** Progress for people (a spinner line); silent under --json. */
  progress?: (status: string) => void
  /** Ctrl-C: stop waiting, roll back what this run created. */
  signal?: AbortSignal
  /** Warnings for the operator, collected into the result too. */
  warn?: (message: string) => void
}

export interface WhitelistChange {
  name: string
  vendor: string
  added: WhitelistRule[]
  removed: WhitelistRule[]
  /** CIDRs asked for that were already admitted (by which rule). */
  unchanged: {cidr: string; by: string}[]
  /** CIDRs asked to remove that the vendor has no rule for. */
  notFound: string[]
  warnings: string[]
}

export interface WhitelistView {
  name: string
  sshPort: number
  rules: (WhitelistRule & {problems: RuleProblem[]})[]
}

export interface DestroyOutcome {
  name: string
  steps: Step[]
  /** Nothing tagged with the name was found. */
  nothingFound: boolean
}

/** A provider: one cloud account + region/location. Provider-specific create options come in `C`. */
export interface CloudProvider<C = unknown, R = unknown> {
  readonly cloud: CloudName
  /** The region/location the provider works in (resolved from flags, environment or profile). */
  location(): Promise<string | undefined>
  create(request: C, ctx?: RunContext): Promise<R>
  find(name: string): Promise<BastionInfo | undefined>
  list(): Promise<BastionInfo[]>
  whitelistList(name: string): Promise<WhitelistView>
  whitelistAdd(name: string, access: VendorAccess, opts?: {allowAnywhere?: boolean; dryRun?: boolean}): Promise<WhitelistChange>
  /** cidrs 'all': every rule of the vendor. */
  whitelistRemove(name: string, vendor: string, cidrs: string[] | 'all', opts?: {dryRun?: boolean}): Promise<WhitelistChange>
  destroy(name: string, ctx?: RunContext & {dryRun?: boolean}): Promise<DestroyOutcome>
}

/** Options every provider understands (flags --region, --profile). */
export interface ProviderOptions {
  region?: string
  profile?: string
}

/** Load a provider by name. The import is dynamic so that no cloud SDK is loaded until a cloud command runs. */
export async function loadProvider(cloud: CloudName, options: ProviderOptions = {}): Promise<CloudProvider> {
  switch (cloud) {
    case 'aws': {
      const {AwsProvider} = await import('./aws/provider.js')
      return AwsProvider.create(options) as Promise<CloudProvider>
    }
  }
}
