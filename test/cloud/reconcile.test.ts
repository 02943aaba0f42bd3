/**
 * create's decision (reconcile.ts) on plain data: a plan and an observation in, the ordered actions and the warnings
 * out — no EC2, fake or real. Each case is one state of the world a run can find.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {AddressInfo, InstanceInfo, SgRuleInfo} from '../../src/cloud/aws/inventory.js'
import {emptyInventory} from '../../src/cloud/aws/inventory.js'
import type {AwsObservation} from '../../src/cloud/aws/observe.js'
import {describeChanges, reconcileCreate, rootVolumeSize, type CreateAction} from '../../src/cloud/aws/reconcile.js'
import {BastionError} from '../../src/errors.js'
import {adminKey, DB_SG, plan, SUBNET} from './helpers.js'

const VPC = 'vpc-0aaaaaaaaaaaaaaa1'
const SG = 'sg-0bbbbbbbbbbbbbbb1'
const IGW_ROUTES = {id: 'rtb-1', main: true, routes: [{destination: '0.0.0.0/0', target: 'igw-1', state: 'active'}]}

/** The newest Ubuntu 24.04 image, as observe reads it for its root volume size. */
const UBUNTU = {id: 'ami-0ccccccccccccccc1', architecture: 'x86_64', windows: false, rootDevice: '/dev/sda1', rootSizeGiB: 8} as const

/** Nothing of the bastion exists yet: the subnet (public), the database group, no key pair. */
function nothing(): AwsObservation {
  return {
    subnet: {id: SUBNET, vpcId: VPC, availabilityZone: 'eu-west-1a'},
    routeTable: IGW_ROUTES,
    db: {group: {id: DB_SG, name: 'db', vpcId: VPC, tags: []}, rules: []},
    image: UBUNTU,
    inventory: emptyInventory('jump'),
  }
}

/** EC2 shows no image of the family (an emulator without the public images). */
function withoutImage(): AwsObservation {
  const obs = nothing()
  delete obs.image
  return obs
}

function instance(over: Partial<InstanceInfo> = {}): InstanceInfo {
  return {id: 'i-0123', state: 'running', type: 't3.micro', subnetId: SUBNET, vpcId: VPC, publicIp: '3.3.3.10', securityGroupIds: [SG], ...over}
}

function sshRule(cidr: string, description: string): SgRuleInfo {
  return {id: `sgr-${cidr}`, groupId: SG, egress: false, protocol: 'tcp', fromPort: 22, toPort: 22, cidr, description, tags: []}
}

const EIP: AddressInfo = {allocationId: 'eipalloc-1', publicIp: '3.3.3.10', associationId: 'eipassoc-1', instanceId: 'i-0123', tags: []}

/** Everything the default plan asks for exists. */
function everything(): AwsObservation {
  const obs = nothing()
  obs.keyPair = {id: 'key-1', name: 'bastion-jump', publicKey: `${adminKey.type} ${adminKey.base64} bastion-jump`, tags: []}
  obs.db = {group: {id: DB_SG, name: 'db', vpcId: VPC, tags: []}, rules: [{id: 'sgr-db', groupId: DB_SG, egress: false, protocol: 'tcp', fromPort: 5432, toPort: 5432, referencedGroupId: SG, description: '', tags: []}]}
  obs.inventory = {
    ...emptyInventory('jump'),
    instances: [instance()],
    securityGroups: [{id: SG, name: 'bastion-jump', vpcId: VPC, tags: []}],
    rules: [sshRule('52.6.1.1/32', 'bastion:vendor=hevo'), sshRule('52.6.1.2/32', 'bastion:vendor=hevo'), sshRule('203.0.113.7/32', 'bastion:admin')],
    addresses: [EIP],
  }
  return obs
}

const ops = (actions: CreateAction[]) => actions.map((a) => (a.op === 'keep' ? `keep ${a.step.kind}` : a.op === 'authorize-ssh' ? `authorize-ssh ${a.rules.map((r) => r.cidr).join(',')}` : a.op))

function refuses(fn: () => unknown, code: string): BastionError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof BastionError, String(err))
    assert.equal(err.code, code, err.message)
    return err
  }
  assert.fail(`expected ${code}`)
}

describe('reconcile: what create does, decided from the plan and what exists', () => {
  it('nothing exists: every resource is made, in the order AWS needs, then the waits and the host keys', () => {
    const d = reconcileCreate(plan(), nothing())
    assert.deepEqual(ops(d.actions), [
      'import-key-pair',
      'create-security-group',
      'authorize-ssh 52.6.1.1/32,52.6.1.2/32,203.0.113.7/32',
      'run-instance',
      'wait-running',
      'allocate-address',
      'associate-address',
      'authorize-db',
      'wait-status-ok',
      'read-host-keys',
    ])
    assert.deepEqual(d.actions.at(-1), {op: 'read-host-keys', launched: true})
    assert.deepEqual(d.existing, {vpcId: VPC, availabilityZone: 'eu-west-1a', rootDevice: '/dev/sda1', rootSizeGiB: 8, keyName: 'bastion-jump'})
    assert.deepEqual(d.warnings, [], 'the plan asks for a key, a vendor key and an admin CIDR: nothing to warn about')
  })

  it('everything exists as asked: only keeps, then the status checks and the host keys of the running instance', () => {
    const d = reconcileCreate(plan(), everything())
    assert.deepEqual(ops(d.actions), [
      'keep key-pair',
      'keep security-group',
      'keep ingress-rule',
      'keep ingress-rule',
      'keep ingress-rule',
      'keep instance',
      'keep elastic-ip',
      'keep eip-association',
      'keep db-rule',
      'wait-status-ok',
      'read-host-keys',
    ])
    assert.deepEqual(d.actions.at(-1), {op: 'read-host-keys', launched: false})
    assert.deepEqual(describeChanges(plan(), d).map((c) => c.change), ['keep', 'keep', 'keep', 'keep', 'keep'])
  })

  it('a group missing one rule: exactly that rule is added, and the change says so', () => {
    const obs = everything()
    obs.inventory.rules = obs.inventory.rules.filter((r) => r.cidr !== '52.6.1.2/32')
    const d = reconcileCreate(plan(), obs)
    assert.deepEqual(ops(d.actions).filter((o) => !o.startsWith('keep')), ['authorize-ssh 52.6.1.2/32', 'wait-status-ok', 'read-host-keys'])
    const sg = describeChanges(plan(), d).find((c) => c.detail.startsWith('security group'))
    assert.deepEqual(sg, {change: 'update', detail: `security group bastion-jump (${SG}): exists, 1 rule to add`, items: ['tcp 22 from 52.6.1.2/32  "bastion:vendor=hevo"']})
  })

  it('a rule bastion did not describe still counts as present, and the report says how it is described', () => {
    const obs = everything()
    obs.inventory.rules = obs.inventory.rules.map((r) => (r.cidr === '203.0.113.7/32' ? {...r, description: 'office'} : r))
    const d = reconcileCreate(plan(), obs)
    const step = d.actions.find((a) => a.op === 'keep' && a.step.detail.startsWith('SSH from 203.0.113.7/32'))
    assert.equal(step?.op === 'keep' && step.step.detail, 'SSH from 203.0.113.7/32: present (as "office")')
  })

  it('a stopped instance is kept as it is and warned about: no waits, no host keys', () => {
    const obs = everything()
    obs.inventory.instances = [instance({state: 'stopped'})]
    const d = reconcileCreate(plan(), obs)
    assert.ok(!d.actions.some((a) => ['wait-running', 'wait-status-ok', 'read-host-keys', 'run-instance'].includes(a.op)))
    assert.match(d.warnings.join('\n'), /instance i-0123 is stopped; bastion does not start it by itself: aws ec2 start-instances --instance-ids i-0123/)
  })

  it('a pending instance is waited for before its address is associated', () => {
    const obs = everything()
    obs.inventory.instances = [instance({state: 'pending'})]
    const {associationId: _association, instanceId: _instance, ...free} = EIP
    obs.inventory.addresses = [free]
    const d = reconcileCreate(plan(), obs)
    const order = ops(d.actions).filter((o) => !o.startsWith('keep'))
    assert.deepEqual(order, ['wait-running', 'associate-address', 'wait-status-ok', 'read-host-keys'])
    assert.equal(describeChanges(plan(), d).find((c) => c.detail.startsWith('Elastic IP'))?.detail, 'Elastic IP 3.3.3.10: exists, to associate with the instance')
  })

  it('launch warnings come only when the instance is launched', () => {
    const p = plan({keyPair: undefined, vendorKey: undefined})
    assert.match(reconcileCreate(p, nothing()).warnings.join('\n'), /no --public-key-file or --key-name[\s\S]*add-vendor-key/)
    const obs = everything()
    delete obs.keyPair
    assert.deepEqual(reconcileCreate(p, obs).warnings, [])
  })

  it('warns about what it will not fix: no route to the internet, a database group in another VPC, groups in other VPCs, a vendor address no longer asked for, extra Elastic IPs', () => {
    const obs = everything()
    obs.routeTable = {id: 'rtb-9', main: false, routes: [{destination: '0.0.0.0/0', target: 'nat-1', state: 'active'}]}
    obs.db = {...obs.db!, group: {id: DB_SG, name: 'db', vpcId: 'vpc-other', tags: []}}
    obs.inventory.securityGroups.push({id: 'sg-elsewhere', name: 'bastion-jump', vpcId: 'vpc-other', tags: []})
    obs.inventory.rules.push(sshRule('52.6.9.9/32', 'bastion:vendor=hevo'))
    obs.inventory.addresses.push({allocationId: 'eipalloc-2', publicIp: '3.3.3.11', tags: []})
    const w = reconcileCreate(plan(), obs).warnings
    assert.equal(w.length, 5, w.join('\n'))
    assert.match(w[0]!, /^route table rtb-9 sends 0\.0\.0\.0\/0 to nat-1, not to an internet gateway.*aws ec2 create-route --route-table-id rtb-9/)
    assert.match(w[1]!, /database security group sg-0dddddddddddddd01 is in vpc-other/)
    assert.match(w[2]!, /security groups tagged for jump exist in other VPCs \(sg-elsewhere\)/)
    assert.match(w[3]!, /52\.6\.9\.9\/32 still admits hevo but is not in --vendor-ip any more; remove it with: bastion whitelist remove --cloud aws --name jump --vendor hevo --vendor-ip 52\.6\.9\.9\/32/)
    assert.match(w[4]!, /several Elastic IPs are tagged for jump: 3\.3\.3\.10, 3\.3\.3\.11; using 3\.3\.3\.10/)
  })

  it('--no-eip keeps an address already associated with the instance, and allocates none', () => {
    const d = reconcileCreate(plan({eip: false}), everything())
    assert.equal(d.existing.address?.allocationId, 'eipalloc-1')
    assert.ok(!d.actions.some((a) => a.op === 'allocate-address' || a.op === 'associate-address' || (a.op === 'keep' && ['elastic-ip', 'eip-association'].includes(a.step.kind))))
  })

  it('refuses, before anything is made, what cannot be done', () => {
    refuses(() => reconcileCreate(plan(), {inventory: emptyInventory('jump')}), 'AWS_SUBNET_NOT_FOUND')
    refuses(() => reconcileCreate(plan(), {...nothing(), db: {rules: []}}), 'AWS_SECURITY_GROUP_NOT_FOUND')
    const ami = plan({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}})
    refuses(() => reconcileCreate(ami, withoutImage()), 'AWS_IMAGE_NOT_FOUND')
    refuses(() => reconcileCreate(ami, {...nothing(), image: {architecture: 'arm64', windows: false, rootDevice: '/dev/xvda'}}), 'AWS_IMAGE_ARCH')
    refuses(() => reconcileCreate(ami, {...nothing(), image: {architecture: 'x86_64', windows: true, rootDevice: '/dev/sda1'}}), 'AWS_IMAGE_PLATFORM')
    const conflict = refuses(() => reconcileCreate(plan(), {...nothing(), keyPair: {id: 'key-9', name: 'bastion-jump', publicKey: 'ssh-ed25519 AAAAother', tags: []}}), 'AWS_KEY_PAIR_CONFLICT')
    assert.ok(conflict.suggestions.some((s) => s.includes('--key-name bastion-jump')))
    refuses(() => reconcileCreate(plan({keyPair: {kind: 'existing', name: 'ops'}}), nothing()), 'AWS_KEY_PAIR_NOT_FOUND')
    const two = everything()
    two.inventory.instances.push(instance({id: 'i-0456'}))
    refuses(() => reconcileCreate(plan(), two), 'AWS_DUPLICATE')
    const elsewhere = everything()
    elsewhere.inventory.instances = [instance({vpcId: 'vpc-other'})]
    refuses(() => reconcileCreate(plan(), elsewhere), 'AWS_OTHER_VPC')
    const taken = nothing()
    taken.inventory.addresses = [{...EIP, instanceId: 'i-someone-else'}]
    const e = refuses(() => reconcileCreate(plan(), taken), 'AWS_EIP_IN_USE')
    assert.match(e.suggestions[0]!, /aws ec2 disassociate-address --association-id eipassoc-1/)
  })

  it('an --ami without a root device name: the root volume is left to the account default, with a warning', () => {
    const d = reconcileCreate(plan({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}}), {...nothing(), image: {architecture: 'x86_64', windows: false}})
    assert.equal(d.existing.rootDevice, undefined)
    assert.match(d.warnings.join('\n'), /AMI ami-0bbbbbbbbbbbbbbb1 names no root device/)
  })

  it('the root volume gets the image\'s own root size by default, and --disk-size when it is at least that', () => {
    assert.equal(reconcileCreate(plan(), nothing()).existing.rootSizeGiB, 8)
    assert.equal(reconcileCreate(plan({diskSize: 8}), nothing()).existing.rootSizeGiB, 8)
    assert.equal(reconcileCreate(plan({diskSize: 30}), nothing()).existing.rootSizeGiB, 30)
    const ami = plan({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}})
    const golden = {...nothing(), image: {id: 'ami-0bbbbbbbbbbbbbbb1', architecture: 'x86_64', windows: false, rootDevice: '/dev/sda1', rootSizeGiB: 12} as const}
    assert.equal(reconcileCreate(ami, golden).existing.rootSizeGiB, 12)
    assert.equal(rootVolumeSize(plan({diskSize: 16384}), 8, []), 16384)
  })

  it('--disk-size below the image\'s root size is refused with exit 2, the sizes and the fix, before anything is made', () => {
    const e = refuses(() => reconcileCreate(plan({diskSize: 4}), nothing()), 'AWS_DISK_TOO_SMALL')
    assert.equal(e.exit, 2)
    assert.match(e.message, /--disk-size 4 is smaller than the root volume of the latest Ubuntu 24\.04 LTS \(x86_64\) image \(8 GiB\)/)
    assert.ok(e.suggestions.some((x) => x.includes('--disk-size 8')))
    const ami = plan({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}, diskSize: 11})
    const golden = {...nothing(), image: {architecture: 'x86_64', windows: false, rootDevice: '/dev/sda1', rootSizeGiB: 12} as const}
    assert.match(refuses(() => reconcileCreate(ami, golden), 'AWS_DISK_TOO_SMALL').message, /AMI ami-0bbbbbbbbbbbbbbb1 \(12 GiB\)/)
  })

  it('an image that shows no root size gets 8 GiB (or --disk-size), with a warning only when the instance is launched', () => {
    const d = reconcileCreate(plan(), withoutImage())
    assert.equal(d.existing.rootSizeGiB, 8)
    assert.match(d.warnings.join('\n'), /shows no root volume size: the root volume gets 8 GiB \(choose with --disk-size\)/)
    assert.equal(reconcileCreate(plan({diskSize: 20}), withoutImage()).existing.rootSizeGiB, 20)
    const rerun = {...everything()}
    delete rerun.image
    assert.ok(!reconcileCreate(plan(), rerun).warnings.some((w) => w.includes('root volume size')))
    assert.ok(!reconcileCreate(plan(), nothing()).warnings.some((w) => w.includes('root volume size')))
  })

  it('describeChanges says, per resource, what exists and what create would make', () => {
    const d = reconcileCreate(plan(), nothing())
    assert.deepEqual(
      describeChanges(plan(), d).map((c) => `${c.change} ${c.detail}`),
      [
        `create key pair bastion-jump: to import (ED25519 ${adminKey.fingerprint})`,
        'create security group bastion-jump: to create, with 3 rules',
        'create instance: to create (t3.micro, latest Ubuntu 24.04 LTS (x86_64), root volume 8 GiB)',
        'create Elastic IP: to allocate and associate with the instance',
        `update database security group ${DB_SG}: a rule to add admitting the bastion's group on tcp 5432`,
      ],
    )
  })
})
