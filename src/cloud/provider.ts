/**
 * The cloud behind one small interface, the same for every cloud: create (observe what exists, decide, make what is
 * missing), list, change the whitelist, destroy, and the facts and checks doctor judges. The cloud's tags are the
 * state: there is no local state file. AWS (an EC2 instance, an Elastic IP, a security group) fits it; so does Azure
 * (a VM behind a network security group and a static public IP).
 *
 * A cloud comes in two parts. Its `CloudModule` needs no SDK: it parses the cloud's own flags, plans from the request
 * alone (`--dry-run` without credentials) and opens a `CloudProvider`, which talks to the cloud (and loads its SDK on
 * first use). src/cloud/registry.ts names the clouds; nothing outside a cloud's folder names one.
 */
import type {AddPlan, AddResult} from '../access/service.js'
import type {PublicKey} from '../access/keys.js'
import type {Check} from '../doctor/types.js'
import type {HostPort} from '../input/parse.js'
import type {Style} from '../ui/style.js'
import type {ConsoleHostKey} from './console.js'

/** The tags (labels) every resource bastion creates carries. The bastion's name is the key to find them again. */
export const TAG_NAME = 'bastion:name'
export const TAG_MANAGED_BY = 'managed-by'
export const MANAGED_BY = 'bastion'

/** The parsed flags of a cloud command, as the cloud's module reads its own from them. */
export type FlagValues = Readonly<Record<string, unknown>>

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

/** What `list` reports about one bastion. */
export interface BastionInfo {
  cloud: string
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
}

/** A change of the rules in front of the SSH port, done or (dryRun) only shown. */
export interface WhitelistChange {
  name: string
  vendor: string
  /** The firewall the rules live in: the security group (AWS), the network security group (Azure) … */
  securityGroupId: string
  dryRun: boolean
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
  /** The firewall the rules live in (see WhitelistChange). */
  securityGroupId: string
  sshPort: number
  rules: (WhitelistRule & {problems: RuleProblem[]})[]
}

export interface DestroyResult {
  cloud: string
  name: string
  dryRun: boolean
  /** The public addresses the bastion had (their known_hosts lines outlive it). */
  publicIps: string[]
  region?: string
  steps: Step[]
  /** Nothing tagged with the name was found. */
  nothingFound: boolean
}

// ------------------------------------------------------------------------------------------------------------ create

/** What `create` is asked for, the same on every cloud; `options` holds what the cloud's own flags said. */
export interface CreateRequest<O = unknown> {
  name: string
  /** At most one vendor at creation (more with `whitelist add` and `add-vendor-key`). */
  vendor?: VendorAccess
  /** The vendor's key, planned by planAdd: the new host sets the vendor up at boot. */
  vendorKey?: AddPlan
  /** The databases the vendor's tunnel may reach (--db). */
  permitOpen: HostPort[]
  /** The operator's own addresses, admitted on SSH. */
  adminCidrs: string[]
  /** --allow-anywhere: (nearly) the whole internet may be admitted. */
  allowAnywhere: boolean
  /** The operator's public key for the image's admin user, and the file it came from. */
  adminKey?: {key: PublicKey; source: string}
  options: O
}

/** One resource as create would leave it, compared with what exists (a dry run with credentials). */
export interface PlannedChange {
  /** create: made new; update: exists, something is added to it; keep: exists as asked. */
  change: 'create' | 'update' | 'keep'
  /** The resource and what happens to it, in one line. */
  detail: string
  /** What is added to it, one line each. */
  items?: string[]
}

/** `create --dry-run`: the plan, and with credentials what it would change in what exists. */
export interface CreateDryRun<P = unknown> {
  dryRun: true
  cloud: string
  name: string
  region?: string
  plan: P
  /** Present when what exists was read (credentials configured). */
  changes?: PlannedChange[]
  warnings: string[]
}

/** What a provider's dry run found: the plan, and the changes create would make. */
export interface CreatePreview<P = unknown> {
  plan: P
  changes: PlannedChange[]
  warnings: string[]
}

/** The host keys create read from the new host (its console), before anything records them. */
export type HostKeysRead =
  | {status: 'read'; host?: string; keys: ConsoleHostKey[]; ignored: number}
  /** A re-run: the operator's known_hosts has keys for the address already, so they were not read again. */
  | {status: 'known'; host: string; keys: {type: string; fingerprint: string}[]}
  | {status: 'unavailable' | 'skipped'; note: string}

/** The host keys as recorded in known_hosts (src/cloud/host-keys.ts). */
export interface HostKeysOutcome {
  status: 'recorded' | 'present' | 'unavailable' | 'skipped'
  /** known_hosts file written or checked. */
  file?: string
  /** The name the keys are recorded under (the public address). */
  host?: string
  keys: {type: string; fingerprint: string}[]
  note: string
}

interface CreateSummary {
  dryRun: false
  cloud: string
  name: string
  region?: string
  steps: Step[]
  /** What the user-data reported on the console (bastion-init lines). */
  bootstrap: {status: 'done' | 'failed' | 'running' | 'absent'; lines: string[]}
  /** The vendor set-up the user-data ran at boot, read back from the console's @bastion facts. */
  vendorSetup?: AddResult
  vendorForm?: {sshHost: string; sshPort: number; sshUser: string; database?: string}
  admin?: {user: string; ssh: string}
  warnings: string[]
}

/** What a provider's create returns (with its own fields beside these). */
export interface CreateOutcome extends CreateSummary {
  hostKeys: HostKeysRead
}

/** What `create` returns: the provider's outcome with the host keys recorded. */
export interface CreateResult extends CreateSummary {
  hostKeys: HostKeysOutcome
}

export interface CreateContext extends RunContext {
  /** Seconds to wait for the new host's health checks (--wait-timeout). */
  waitTimeoutSec?: number
  /** The keys the operator already has for an address (known_hosts): a re-run need not read them again. */
  knownHostKeys?: (host: string) => {type: string; fingerprint: string}[]
}

// ------------------------------------------------------------------------------------------------------------ doctor

/** doctor's cloud side, as a provider supplies it: its facts and the pure checks that judge them. */
export interface CloudDoctorFacts<F = unknown> {
  ran: true
  /** What was checked, in a few words (region, machine id). */
  about: string
  facts: F
  checks: Check<F>[]
}

/** Nothing could be read (no credentials, no permission, endpoint down): the cloud side could not be checked. */
export interface CloudDoctorBlocked {
  ran: false
  error: {code: string; message: string; suggestions: string[]}
}

export type CloudDoctorSubject<F = unknown> = CloudDoctorFacts<F> | CloudDoctorBlocked

// --------------------------------------------------------------------------------------------------------- providers

/** A provider: one cloud account and region, opened by the cloud's module. */
export interface CloudProvider<P = unknown> {
  readonly cloud: string
  /** The region (location) the provider works in, resolved from flags, environment or profile. */
  region(): Promise<string | undefined>
  /** Read what exists and compare it with the request: what create would change (nothing is changed). */
  preview(request: CreateRequest, ctx?: RunContext): Promise<CreatePreview<P>>
  create(request: CreateRequest, ctx?: CreateContext): Promise<CreateOutcome>
  list(): Promise<BastionInfo[]>
  /** `expected`: the CIDRs that were asked for (rules wider than one of them are flagged). */
  whitelistList(name: string, expected: string[]): Promise<WhitelistView>
  whitelistAdd(name: string, access: VendorAccess, opts?: {dryRun?: boolean}): Promise<WhitelistChange>
  /** cidrs 'all': every rule of the vendor. */
  whitelistRemove(name: string, vendor: string, cidrs: string[] | 'all', opts?: {dryRun?: boolean}): Promise<WhitelistChange>
  destroy(name: string, ctx?: RunContext & {dryRun?: boolean}): Promise<DestroyResult>
  doctor(name: string): Promise<CloudDoctorSubject>
}

/** A cloud's side that needs no SDK and no credentials. `P` is its create plan. */
export interface CloudModule<P = unknown> {
  /** The cloud's create options from its own flags: validated, with warnings; reads local files at most. */
  createOptions(flags: FlagValues, request: CreateRequest<undefined>): Promise<{options: unknown; warnings: string[]}>
  /** Whether credentials are configured, judged without the SDK and without a call: else a dry run shows the intent. */
  hasCredentials(flags: FlagValues): boolean
  /** What create would make, from the request alone (no cloud call), and the warnings that go with it. */
  intent(request: CreateRequest): {plan: P; warnings: string[]}
  /** A provider for the account and region the flags name. */
  open(flags: FlagValues): Promise<CloudProvider<P>>
  /** The region the flags or the environment name, without the SDK (the heading of a dry run without credentials). */
  regionHint(flags: FlagValues): string | undefined
  /** The intent for people: every resource, rule and what the host boots with. */
  renderIntent(plan: P, style: Style, region?: string): string
}
