/**
 * A cloud that exists only in tests: bastions in memory, registered through the seam (registerCloud), so the real
 * commands — create, list, whitelist add|remove|list, destroy, doctor --cloud — run against it exactly as they run
 * against AWS. It touches nothing in src/: that it works at all is the proof that a cloud is one module and one
 * registry entry.
 */
import {generateEd25519} from '../../src/ssh/keygen.js'
import type {ConsoleHostKey} from '../../src/cloud/console.js'
import type {
  BastionInfo,
  CloudDoctorSubject,
  CloudModule,
  CloudProvider,
  CreateContext,
  CreateOutcome,
  CreatePreview,
  CreateRequest,
  DestroyResult,
  HostKeysRead,
  PlannedChange,
  Step,
  VendorAccess,
  WhitelistChange,
  WhitelistRule,
  WhitelistView,
} from '../../src/cloud/provider.js'
import {registerCloud, type CloudEntry} from '../../src/cloud/registry.js'
import {judgeRule, rulesAdmitting, vendorRuleDescription, vendorsOf, ADMIN_RULE_DESCRIPTION} from '../../src/cloud/whitelist.js'
import {inputError} from '../../src/errors.js'
import type {Check} from '../../src/doctor/types.js'

export const FAKE_REGION = 'fake-region-1'
const SSH_PORT = 22

export interface FakeBastion {
  name: string
  publicIp: string
  rules: WhitelistRule[]
  /** The vendor's key line the host was set up with, if any. */
  vendorKeyLine?: string
}

/** What the fake plans for a request: the address rules, and the vendor's key line. */
export interface FakePlan {
  name: string
  rules: {cidr: string; description: string}[]
  vendorKeyLine?: string
}

function planOf(request: CreateRequest): FakePlan {
  const rules = [
    ...(request.vendor?.cidrs ?? []).map((cidr) => ({cidr, description: vendorRuleDescription(request.vendor?.vendor ?? '')})),
    ...request.adminCidrs.map((cidr) => ({cidr, description: ADMIN_RULE_DESCRIPTION})),
  ]
  return {name: request.name, rules, ...(request.vendorKey ? {vendorKeyLine: request.vendorKey.line} : {})}
}

function toRule(r: {cidr: string; description: string}, id: string): WhitelistRule {
  const vendor = /^bastion:vendor=(.+)$/.exec(r.description)?.[1]
  return {id, role: vendor ? 'vendor' : 'admin', ...(vendor ? {vendor} : {}), cidr: r.cidr, protocol: 'tcp', fromPort: SSH_PORT, toPort: SSH_PORT, description: r.description}
}

/** doctor's one fake check: every --vendor-ip is admitted. */
const vendorAdmitted: Check<FakeBastion> = {
  ids: ['cloud.fake.vendor_cidr'],
  area: 'cloud',
  run({facts, input}) {
    const missing = input.vendorIps.filter((c) => rulesAdmitting(facts.rules, c, SSH_PORT).length === 0)
    const title = `the fake firewall admits ${input.vendor}'s addresses`
    if (missing.length === 0) return [{id: 'cloud.fake.vendor_cidr', area: 'cloud', status: 'pass', title, seen: `${input.vendorIps.length} address(es) admitted`}]
    return [
      {
        id: 'cloud.fake.vendor_cidr',
        area: 'cloud',
        status: 'fail',
        title,
        seen: `not admitted: ${missing.join(', ')}`,
        why: 'the firewall drops the vendor',
        fix: {command: `bastion whitelist add --cloud fake --name ${facts.name} --vendor ${input.vendor} ${missing.map((c) => `--vendor-ip ${c}`).join(' ')}`},
      },
    ]
  },
}

export class FakeCloud {
  readonly bastions = new Map<string, FakeBastion>()
  /** Whether credentials are "configured": a dry run reads what exists only when they are. */
  credentials = true
  /** Every provider call, in order. */
  readonly calls: string[] = []
  /** The host keys a new bastion's console shows. */
  readonly consoleKeys: ConsoleHostKey[] = [generateEd25519('root@fake-1'), generateEd25519('root@fake-1')].map((k) => {
    const [type = '', base64 = ''] = k.publicKey.split(' ')
    return {type, base64, fingerprint: k.fingerprint}
  })
  private next = 1

  /** Put the fake behind --cloud fake; returns the undo. */
  register(name = 'fake'): () => void {
    const entry: CloudEntry = {name, title: 'Fake Cloud', flags: {}, createFlags: {}, load: async () => this.module()}
    return registerCloud(entry)
  }

  module(): CloudModule<FakePlan> {
    return {
      createOptions: async () => ({options: {}, warnings: []}),
      hasCredentials: () => this.credentials,
      intent: (request) => ({plan: planOf(request), warnings: []}),
      open: async () => this.provider(),
      regionHint: () => FAKE_REGION,
      renderIntent: (plan, _style, region) => [`Fake plan for ${plan.name} in ${region}:`, ...plan.rules.map((r) => `  admit ${r.cidr} "${r.description}"`)].join('\n'),
    }
  }

  private bastion(name: string): FakeBastion {
    const b = this.bastions.get(name)
    if (!b) throw inputError('BASTION_NOT_FOUND', `no fake bastion named ${name}`, ['bastion list --cloud fake'])
    return b
  }

  private change(name: string, vendor: string, dryRun: boolean): WhitelistChange {
    return {name, vendor, securityGroupId: `fw-${name}`, dryRun, added: [], removed: [], unchanged: [], notFound: [], warnings: []}
  }

  provider(): CloudProvider<FakePlan> {
    return {
      cloud: 'fake',
      region: async () => FAKE_REGION,
      preview: async (request: CreateRequest): Promise<CreatePreview<FakePlan>> => {
        this.calls.push('preview')
        const plan = planOf(request)
        const b = this.bastions.get(request.name)
        const missing = plan.rules.filter((r) => !b?.rules.some((x) => x.cidr === r.cidr))
        const changes: PlannedChange[] = [
          b
            ? missing.length > 0
              ? {change: 'update', detail: `fake bastion ${b.name}: exists, ${missing.length} rule(s) to add`, items: missing.map((r) => r.cidr)}
              : {change: 'keep', detail: `fake bastion ${b.name}: exists, as asked`}
            : {change: 'create', detail: `fake bastion ${request.name}: to create`, items: missing.map((r) => r.cidr)},
        ]
        return {plan, changes, warnings: []}
      },
      create: async (request: CreateRequest, ctx: CreateContext = {}): Promise<CreateOutcome> => {
        this.calls.push('create')
        const plan = planOf(request)
        const steps: Step[] = []
        let b = this.bastions.get(request.name)
        const launched = !b
        if (!b) {
          b = {name: request.name, publicIp: `198.51.100.${this.next++}`, rules: [], ...(plan.vendorKeyLine ? {vendorKeyLine: plan.vendorKeyLine} : {})}
          this.bastions.set(b.name, b)
          steps.push({kind: 'host', id: b.name, status: 'created', detail: `fake host ${b.name} (${b.publicIp}): created`})
        } else {
          steps.push({kind: 'host', id: b.name, status: 'present', detail: `fake host ${b.name} (${b.publicIp}): present`})
        }
        for (const r of plan.rules) {
          if (b.rules.some((x) => x.cidr === r.cidr)) continue
          b.rules.push(toRule(r, `rule-${this.next++}`))
          steps.push({kind: 'rule', status: 'created', detail: `SSH from ${r.cidr}: added`})
        }
        ctx.progress?.(`fake host ${b.name}: up`)
        const known = ctx.knownHostKeys?.(b.publicIp) ?? []
        const hostKeys: HostKeysRead =
          !launched && known.length > 0 ? {status: 'known', host: b.publicIp, keys: known} : {status: 'read', host: b.publicIp, keys: this.consoleKeys, ignored: 0}
        return {
          dryRun: false,
          cloud: 'fake',
          name: b.name,
          region: FAKE_REGION,
          steps,
          hostKeys,
          bootstrap: {status: 'absent', lines: []},
          ...(request.vendor ? {vendorForm: {sshHost: b.publicIp, sshPort: SSH_PORT, sshUser: request.vendor.vendor}} : {}),
          warnings: [],
        }
      },
      list: async (): Promise<BastionInfo[]> => {
        this.calls.push('list')
        return [...this.bastions.values()].map((b) => ({
          cloud: 'fake',
          name: b.name,
          location: FAKE_REGION,
          state: 'running',
          instanceType: 'fake.small',
          address: {publicIp: b.publicIp, stable: true},
          sshPort: SSH_PORT,
          vendors: vendorsOf(b.rules),
          adminCidrs: b.rules.filter((r) => r.role === 'admin').map((r) => r.cidr),
          rules: b.rules,
          resources: [{kind: 'host', id: b.name}],
        }))
      },
      whitelistList: async (name: string, expected: string[]): Promise<WhitelistView> => {
        this.calls.push('whitelistList')
        const b = this.bastion(name)
        return {name, securityGroupId: `fw-${name}`, sshPort: SSH_PORT, rules: b.rules.map((r) => ({...r, problems: judgeRule(r, {sshPort: SSH_PORT, expected})}))}
      },
      whitelistAdd: async (name: string, access: VendorAccess, opts: {dryRun?: boolean} = {}): Promise<WhitelistChange> => {
        this.calls.push('whitelistAdd')
        const b = this.bastion(name)
        const c = this.change(name, access.vendor, opts.dryRun === true)
        for (const cidr of access.cidrs) {
          const same = b.rules.find((r) => r.cidr === cidr)
          if (same) {
            c.unchanged.push({cidr, by: same.vendor ? `vendor ${same.vendor}` : 'the admin rule'})
            continue
          }
          const rule = toRule({cidr, description: vendorRuleDescription(access.vendor)}, `rule-${this.next++}`)
          c.added.push(rule)
          if (!opts.dryRun) b.rules.push(rule)
        }
        return c
      },
      whitelistRemove: async (name: string, vendor: string, cidrs: string[] | 'all', opts: {dryRun?: boolean} = {}): Promise<WhitelistChange> => {
        this.calls.push('whitelistRemove')
        const b = this.bastion(name)
        const c = this.change(name, vendor, opts.dryRun === true)
        const mine = b.rules.filter((r) => r.vendor === vendor)
        c.removed = cidrs === 'all' ? mine : mine.filter((r) => cidrs.includes(r.cidr))
        if (cidrs !== 'all') c.notFound = cidrs.filter((x) => !mine.some((r) => r.cidr === x))
        if (!opts.dryRun) b.rules = b.rules.filter((r) => !c.removed.includes(r))
        return c
      },
      destroy: async (name: string, ctx: {dryRun?: boolean} = {}): Promise<DestroyResult> => {
        this.calls.push('destroy')
        const b = this.bastions.get(name)
        const base = {cloud: 'fake', name, dryRun: ctx.dryRun === true, publicIps: b ? [b.publicIp] : [], region: FAKE_REGION}
        if (!b) return {...base, steps: [], nothingFound: true}
        if (!ctx.dryRun) this.bastions.delete(name)
        return {...base, steps: [{kind: 'host', id: name, status: ctx.dryRun ? 'skipped' : 'deleted', detail: `${ctx.dryRun ? 'would delete' : 'deleted'} fake host ${name}`}], nothingFound: false}
      },
      doctor: async (name: string): Promise<CloudDoctorSubject<FakeBastion>> => {
        this.calls.push('doctor')
        const b = this.bastions.get(name)
        if (!b) return {ran: false, error: {code: 'BASTION_NOT_FOUND', message: `no fake bastion named ${name}`, suggestions: ['bastion list --cloud fake']}}
        return {ran: true, about: `Fake Cloud ${FAKE_REGION}, ${b.publicIp}`, facts: b, checks: [vendorAdmitted]}
      },
    }
  }
}
