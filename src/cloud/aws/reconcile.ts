/**
 * create's decision: the plan and what exists (observe.ts) in, the ordered actions that make the difference and the
 * warnings out. Pure — no SDK, no I/O — so every case is a unit test with plain data. What cannot be done (the
 * subnet is unknown, another key pair has the name, the Elastic IP is someone else's …) is refused here, before
 * anything is created. create.ts executes the actions; a dry run with credentials shows them (describeChanges).
 */
import {BastionError, Exit} from '../../errors.js'
import type {PlannedChange, Step} from '../provider.js'
import type {AddressInfo, InstanceInfo} from './inventory.js'
import {toWhitelistRule} from './inventory.js'
import {judgeDefaultRoute} from './network.js'
import type {AwsObservation} from './observe.js'
import {FAMILY_ROOT_GIB, type AwsCreatePlan, type IngressSpec} from './plan.js'

/** One thing create does, in order. `keep` reports what exists and is used as it is. */
export type CreateAction =
  | {op: 'keep'; step: Step}
  | {op: 'import-key-pair'}
  | {op: 'create-security-group'}
  | {op: 'authorize-ssh'; rules: IngressSpec[]}
  | {op: 'run-instance'}
  | {op: 'wait-running'}
  | {op: 'allocate-address'}
  | {op: 'associate-address'}
  | {op: 'authorize-db'}
  | {op: 'wait-status-ok'}
  /** launched: the instance is new (its console gets the full time to show the keys). */
  | {op: 'read-host-keys'; launched: boolean}

/** What exists and is used: the start of the execution, which fills in what the actions create. */
export interface Existing {
  vpcId: string
  availabilityZone?: string
  /** The bastion's security group. */
  group?: {id: string; name: string}
  instance?: InstanceInfo
  /** The bastion's address: its Elastic IP (with --eip), or one already associated with the instance. */
  address?: AddressInfo
  /** The key pair the instance is launched with. */
  keyName?: string
  /** The image's root device, for the encrypted root volume (absent: the account's default encryption applies). */
  rootDevice?: string
  /** The root volume's size in GiB, always sent (EC2 emulators refuse a mapping without it): see rootVolumeSize. */
  rootSizeGiB: number
}

export interface CreateDecision {
  existing: Existing
  actions: CreateAction[]
  warnings: string[]
}

/** States of an instance a re-run keeps (a terminated one is as good as gone). */
const REUSABLE = ['pending', 'running', 'stopping', 'stopped']

function normalizeKeyMaterial(text: string | undefined): string {
  return (text ?? '').trim().split(/\s+/).slice(0, 2).join(' ')
}

/**
 * The root volume's size: --disk-size when given (never below the AMI's own root size: EC2 cannot shrink a
 * snapshot), else the AMI's root size. When the AMI shows no size: --disk-size, else the families' 8 GiB, with a
 * warning.
 */
export function rootVolumeSize(plan: AwsCreatePlan, imageGiB: number | undefined, warnings: string[]): number {
  const asked = plan.instance.rootVolume.sizeGiB
  const which = plan.image.ssmParameter ? `the ${plan.image.description} image` : `AMI ${plan.image.imageId}`
  if (imageGiB !== undefined) {
    if (asked !== undefined && asked < imageGiB)
      throw new BastionError('AWS_DISK_TOO_SMALL', `--disk-size ${asked} is smaller than the root volume of ${which} (${imageGiB} GiB); a volume cannot be smaller than the snapshot it is made from`, {
        exit: Exit.USAGE,
        suggestions: [`--disk-size ${imageGiB} (or more), or leave --disk-size out to get ${imageGiB} GiB`],
      })
    return asked ?? imageGiB
  }
  if (asked !== undefined) return asked
  warnings.push(`${which} shows no root volume size: the root volume gets ${FAMILY_ROOT_GIB} GiB (choose with --disk-size)`)
  return FAMILY_ROOT_GIB
}

export function reconcileCreate(plan: AwsCreatePlan, obs: AwsObservation): CreateDecision {
  const name = plan.name
  const warnings: string[] = [...plan.warnings]
  const actions: CreateAction[] = []
  const keep = (step: Step) => actions.push({op: 'keep', step})

  // --- the subnet, its VPC, its route to the internet
  const subnet = obs.subnet
  if (!subnet)
    throw new BastionError('AWS_SUBNET_NOT_FOUND', `subnet ${plan.subnetId} not found`, {exit: Exit.USAGE, suggestions: ['check the subnet id and the region (--region)']})
  const vpcId = subnet.vpcId
  const existing: Existing = {vpcId, ...(subnet.availabilityZone ? {availabilityZone: subnet.availabilityZone} : {}), rootSizeGiB: FAMILY_ROOT_GIB}
  const route = judgeDefaultRoute(obs.routeTable)
  if (!route.ok)
    warnings.push(
      `${route.reason}. Vendors connect from the internet: use a public subnet, or add the route: ` +
        `aws ec2 create-route --route-table-id ${obs.routeTable?.id ?? '<rtb-…>'} --destination-cidr-block 0.0.0.0/0 --gateway-id <igw-… of ${vpcId}>`,
    )

  // --- what the plan refers to must exist before anything is created
  if (plan.db) {
    const db = obs.db?.group
    if (!db)
      throw new BastionError('AWS_SECURITY_GROUP_NOT_FOUND', `database security group ${plan.db.securityGroupId} not found`, {
        exit: Exit.USAGE,
        suggestions: ['check --db-security-group and the region'],
      })
    if (db.vpcId && db.vpcId !== vpcId) warnings.push(`database security group ${db.id} is in ${db.vpcId}, the bastion in ${vpcId}: the rule works only if the VPCs are peered`)
  }
  let rootDevice = plan.image.rootDevice
  if (!plan.image.ssmParameter) {
    const img = obs.image
    if (!img)
      throw new BastionError('AWS_IMAGE_NOT_FOUND', `AMI ${plan.image.imageId} not found in this region`, {
        exit: Exit.USAGE,
        suggestions: ['AMI ids are per region: check --ami and --region, or leave --ami out'],
      })
    if (img.architecture !== plan.arch)
      throw new BastionError('AWS_IMAGE_ARCH', `AMI ${plan.image.imageId} is for ${img.architecture}, instance type ${plan.instanceType} for ${plan.arch}`, {
        exit: Exit.USAGE,
        suggestions: [plan.arch === 'arm64' ? 'pick an arm64 AMI, or an x86 type such as t3.micro' : 'pick an x86_64 AMI, or a Graviton type such as t4g.micro'],
      })
    if (img.windows)
      throw new BastionError('AWS_IMAGE_PLATFORM', `AMI ${plan.image.imageId} is Windows; the bastion needs Linux with OpenSSH and cloud-init`, {
        exit: Exit.USAGE,
        suggestions: ['leave out --ami to use the Ubuntu 24.04 image, or pass --image al2023'],
      })
    rootDevice = img.rootDevice
    if (!rootDevice) warnings.push(`AMI ${plan.image.imageId} names no root device: the root volume is encrypted only if the account encrypts EBS by default`)
  }
  if (rootDevice) existing.rootDevice = rootDevice
  const sizeWarnings: string[] = [] // they matter only when the instance is launched
  existing.rootSizeGiB = rootVolumeSize(plan, obs.image?.rootSizeGiB, sizeWarnings)

  // --- key pair
  if (plan.keyPair?.action === 'use') {
    if (!obs.keyPair)
      throw new BastionError('AWS_KEY_PAIR_NOT_FOUND', `key pair ${plan.keyPair.name} not found in this region`, {
        exit: Exit.USAGE,
        suggestions: ['list them: aws ec2 describe-key-pairs', 'or give your public key: --public-key-file ~/.ssh/id_ed25519.pub'],
      })
    existing.keyName = plan.keyPair.name
    keep({kind: 'key-pair', id: obs.keyPair.id, status: 'present', detail: `key pair ${plan.keyPair.name}: existing, used`})
  } else if (plan.keyPair?.action === 'import') {
    const kp = plan.keyPair
    existing.keyName = kp.name
    const found = obs.keyPair
    if (found) {
      if (found.publicKey && normalizeKeyMaterial(found.publicKey) !== `${kp.key.type} ${kp.key.base64}`)
        throw new BastionError('AWS_KEY_PAIR_CONFLICT', `key pair ${kp.name} exists with another public key`, {
          exit: Exit.USAGE,
          suggestions: [`use it as is: --key-name ${kp.name} (instead of --public-key-file)`, `or delete it: aws ec2 delete-key-pair --key-name ${kp.name}`],
        })
      keep({kind: 'key-pair', id: found.id, status: 'present', detail: `key pair ${kp.name}: present`})
    } else {
      actions.push({op: 'import-key-pair'})
    }
  }

  // --- what exists already (a re-run, or a half-finished earlier run)
  const inv = obs.inventory
  const reusable = inv.instances.filter((i) => REUSABLE.includes(i.state))
  if (reusable.length > 1)
    throw new BastionError('AWS_DUPLICATE', `${reusable.length} instances are tagged bastion:name=${name}: ${reusable.map((i) => i.id).join(', ')}`, {
      exit: Exit.FAILED,
      suggestions: ['terminate the extra ones (aws ec2 terminate-instances --instance-ids …), then run again'],
    })
  const instance = reusable[0]
  const groups = inv.securityGroups.filter((g) => g.vpcId === vpcId)
  if (inv.securityGroups.length > groups.length)
    warnings.push(`security groups tagged for ${name} exist in other VPCs (${inv.securityGroups.filter((g) => g.vpcId !== vpcId).map((g) => g.id).join(', ')}); they are left alone`)
  if (instance && instance.vpcId && instance.vpcId !== vpcId)
    throw new BastionError('AWS_OTHER_VPC', `bastion ${name} exists already in ${instance.vpcId} (instance ${instance.id}), not in ${vpcId}`, {
      exit: Exit.USAGE,
      suggestions: [`pick another --name, or destroy it first: bastion destroy --cloud aws --name ${name} --confirm ${name}`],
    })
  if (instance && instance.subnetId !== plan.subnetId) warnings.push(`instance ${instance.id} runs in ${instance.subnetId}, not in ${plan.subnetId}; it is kept`)

  // --- security group and its SSH rules
  const groupId = instance?.securityGroupIds.find((id) => groups.some((g) => g.id === id)) ?? groups[0]?.id
  const group = groups.find((g) => g.id === groupId)
  if (group) {
    existing.group = {id: group.id, name: group.name}
    keep({kind: 'security-group', id: group.id, status: 'present', detail: `security group ${group.id}: present`})
  } else {
    actions.push({op: 'create-security-group'})
  }
  const existingRules = group ? inv.rules.filter((r) => r.groupId === group.id && !r.egress) : []
  if (plan.vendor) {
    const asked = new Set(plan.vendor.cidrs)
    for (const r of existingRules.map(toWhitelistRule)) {
      if (r.role === 'vendor' && r.vendor === plan.vendor.name && !asked.has(r.cidr))
        warnings.push(`${r.cidr} still admits ${r.vendor} but is not in --vendor-ip any more; remove it with: bastion whitelist remove --cloud aws --name ${name} --vendor ${r.vendor} --vendor-ip ${r.cidr}`)
    }
  }
  const missing: IngressSpec[] = []
  for (const spec of plan.ingress) {
    const same = existingRules.find((r) => r.cidr === spec.cidr && r.protocol === 'tcp' && r.fromPort === spec.port && r.toPort === spec.port)
    if (!same) missing.push(spec)
    else keep({kind: 'ingress-rule', id: same.id, status: 'present', detail: `SSH from ${spec.cidr}: present${same.description !== spec.description ? ` (as "${same.description}")` : ''}`})
  }
  if (missing.length > 0) actions.push({op: 'authorize-ssh', rules: missing})

  // --- the instance
  if (instance) {
    existing.instance = instance
    keep({kind: 'instance', id: instance.id, status: 'present', detail: `instance ${instance.id} (${instance.type ?? '?'}): ${instance.state}`})
    if (instance.state === 'stopped' || instance.state === 'stopping')
      warnings.push(`instance ${instance.id} is ${instance.state}; bastion does not start it by itself: aws ec2 start-instances --instance-ids ${instance.id}`)
  } else {
    actions.push({op: 'run-instance'})
    warnings.push(...plan.launchWarnings, ...sizeWarnings)
  }
  if (!instance || instance.state === 'pending') actions.push({op: 'wait-running'})

  // --- the address the vendor allowlists and pins
  if (plan.eip) {
    const [addr, ...extra] = inv.addresses
    if (extra.length > 0) warnings.push(`several Elastic IPs are tagged for ${name}: ${inv.addresses.map((a) => a.publicIp).join(', ')}; using ${addr?.publicIp}`)
    if (addr) {
      existing.address = addr
      keep({kind: 'elastic-ip', id: addr.allocationId, status: 'present', detail: `Elastic IP ${addr.publicIp}: present`})
    } else {
      actions.push({op: 'allocate-address'})
    }
    if (addr && instance && addr.instanceId === instance.id) {
      keep({kind: 'eip-association', id: addr.associationId ?? '', status: 'present', detail: `Elastic IP ${addr.publicIp} → ${instance.id}: present`})
    } else if (addr?.associationId) {
      throw new BastionError('AWS_EIP_IN_USE', `Elastic IP ${addr.publicIp} (tagged for ${name}) is associated with ${addr.instanceId ?? addr.networkInterfaceId ?? 'another resource'}`, {
        exit: Exit.FAILED,
        suggestions: [`disassociate it (aws ec2 disassociate-address --association-id ${addr.associationId}), then run again`],
      })
    } else {
      actions.push({op: 'associate-address'})
    }
  } else if (instance && inv.addresses[0]?.instanceId === instance.id) {
    existing.address = inv.addresses[0]
  }

  // --- the database's security group admits the bastion's
  if (plan.db) {
    const db = plan.db
    const present = group
      ? obs.db?.rules.find((r) => r.referencedGroupId === group.id && (r.protocol === 'all' || (r.protocol === 'tcp' && r.fromPort <= db.port && r.toPort >= db.port)))
      : undefined
    if (present && group) keep({kind: 'db-rule', id: present.id, status: 'present', detail: `${db.securityGroupId} admits ${group.id} on ${db.port}: present`})
    else actions.push({op: 'authorize-db'})
  }

  // --- healthy, and its host keys known (a stopped instance is left as it is)
  if (!instance || instance.state === 'pending' || instance.state === 'running') actions.push({op: 'wait-status-ok'}, {op: 'read-host-keys', launched: !instance})

  return {existing, actions, warnings}
}

function rulesCount(n: number): string {
  return `${n} rule${n === 1 ? '' : 's'}`
}

function ingressLine(r: IngressSpec): string {
  return `tcp ${r.port} from ${r.cidr}  "${r.description}"`
}

/** The decision for people, one line per resource: what exists, what create would add to it, what it would make. */
export function describeChanges(plan: AwsCreatePlan, decision: CreateDecision): PlannedChange[] {
  const does = (op: CreateAction['op']) => decision.actions.some((a) => a.op === op)
  const {existing} = decision
  const out: PlannedChange[] = []
  if (plan.keyPair?.action === 'import')
    out.push(
      does('import-key-pair')
        ? {change: 'create', detail: `key pair ${plan.keyPair.name}: to import (${plan.keyPair.key.algorithm} ${plan.keyPair.key.fingerprint})`}
        : {change: 'keep', detail: `key pair ${plan.keyPair.name}: exists, with this key`},
    )
  if (plan.keyPair?.action === 'use') out.push({change: 'keep', detail: `key pair ${plan.keyPair.name}: exists, used as is`})

  const rules = decision.actions.flatMap((a) => (a.op === 'authorize-ssh' ? a.rules : []))
  const items = rules.length > 0 ? {items: rules.map(ingressLine)} : {}
  if (existing.group) {
    const which = `security group ${existing.group.name} (${existing.group.id})`
    out.push(rules.length > 0 ? {change: 'update', detail: `${which}: exists, ${rulesCount(rules.length)} to add`, ...items} : {change: 'keep', detail: `${which}: exists, with every rule asked for`})
  } else {
    out.push({change: 'create', detail: `security group ${plan.securityGroup.groupName}: to create, with ${rulesCount(rules.length)}`, ...items})
  }

  const instance = existing.instance
  out.push(
    instance
      ? {change: 'keep', detail: `instance ${instance.id} (${instance.type ?? '?'}): exists, ${instance.state}`}
      : {change: 'create', detail: `instance: to create (${plan.instanceType}, ${plan.image.description}, root volume ${existing.rootSizeGiB} GiB)`},
  )

  if (plan.eip) {
    const addr = existing.address
    if (!addr) out.push({change: 'create', detail: 'Elastic IP: to allocate and associate with the instance'})
    else if (does('associate-address')) out.push({change: 'update', detail: `Elastic IP ${addr.publicIp}: exists, to associate with the instance`})
    else out.push({change: 'keep', detail: `Elastic IP ${addr.publicIp}: exists, associated with ${addr.instanceId ?? 'the instance'}`})
  }

  if (plan.db) {
    out.push(
      does('authorize-db')
        ? {change: 'update', detail: `database security group ${plan.db.securityGroupId}: a rule to add admitting the bastion's group on tcp ${plan.db.port}`}
        : {change: 'keep', detail: `database security group ${plan.db.securityGroupId}: admits the bastion's group on ${plan.db.port} already`},
    )
  }
  return out
}
