/** destroy, list and whitelist add|remove|list against the in-memory EC2. */
import assert from 'node:assert/strict'
import {afterEach, beforeEach, describe, it} from 'node:test'
import {applyCreate} from '../../src/cloud/aws/create.js'
import {findBastion, listBastions} from '../../src/cloud/aws/describe.js'
import {applyDestroy} from '../../src/cloud/aws/destroy.js'
import {whitelistAdd, whitelistList, whitelistRemove} from '../../src/cloud/aws/whitelist.js'
import {BastionError} from '../../src/errors.js'
import {awsError, FAST, installFake, type FakeSetup} from './fake-ec2.js'
import {DB_SG, plan} from './helpers.js'

let s: FakeSetup

async function created(over = {}): Promise<void> {
  await applyCreate(s.client, plan(over), FAST)
  s.mock.resetHistory()
}

const MUTATING = new Set(['DisassociateAddress', 'TerminateInstances', 'ReleaseAddress', 'RevokeSecurityGroupIngress', 'DeleteSecurityGroup', 'DeleteKeyPair', 'AuthorizeSecurityGroupIngress'])

describe('destroy --cloud aws', () => {
  beforeEach(() => {
    s = installFake()
  })
  afterEach(() => s.restore())

  it('removes everything in the order AWS allows, reporting each step; a second run finds nothing', async () => {
    await created()
    const r = await applyDestroy(s.client, 'jump', FAST)
    assert.equal(r.nothingFound, false)
    assert.deepEqual(r.steps.map((x) => `${x.kind}:${x.status}`), [
      'eip-association:deleted',
      'instance:deleted',
      'elastic-ip:deleted',
      'db-rule:deleted',
      'security-group:deleted',
      'key-pair:deleted',
    ])
    assert.deepEqual(s.fake.tagged('jump'), [])
    assert.ok(s.fake.groups.has(DB_SG), 'the database group itself is never touched')
    assert.equal([...s.fake.rules.values()].filter((x) => x.GroupId === DB_SG).length, 1, 'only the bastion\'s rule left the database group')
    const again = await applyDestroy(s.client, 'jump', FAST)
    assert.equal(again.nothingFound, true)
    assert.deepEqual(again.steps, [])
  })

  it('destroys a half-created bastion: a security group, an unassociated Elastic IP and a key pair, no instance', async () => {
    s.fake.failNext('RunInstances', awsError('InstanceLimitExceeded', 'You have requested more instances than your current instance limit allows'))
    // make the rollback fail for the group and the key pair, so they are left behind
    s.fake.failNext('DeleteSecurityGroup', awsError('UnauthorizedOperation', 'nope'), 10)
    s.fake.failNext('DeleteKeyPair', awsError('UnauthorizedOperation', 'nope'))
    await assert.rejects(applyCreate(s.client, plan(), FAST), (e: BastionError) => {
      assert.equal(e.code, 'AWS_QUOTA')
      assert.match(e.message, /could NOT remove/)
      assert.ok(e.suggestions.some((x) => x.includes('bastion destroy --cloud aws --name jump --confirm jump')))
      return true
    })
    s.fake.failures.clear()
    // and an Elastic IP an even earlier run allocated but never associated
    s.fake.addresses.set('eipalloc-left', {AllocationId: 'eipalloc-left', PublicIp: '3.3.3.99', Tags: [{Key: 'bastion:name', Value: 'jump'}, {Key: 'managed-by', Value: 'bastion'}]})
    assert.equal(s.fake.liveInstances().length, 0)
    const r = await applyDestroy(s.client, 'jump', FAST)
    assert.deepEqual(r.steps.map((x) => x.kind), ['elastic-ip', 'security-group', 'key-pair'])
    assert.deepEqual(s.fake.tagged('jump'), [])
  })

  it('retries deleting the security group while the instance\'s network interface detaches', async () => {
    await created()
    s.fake.sgBusyPolls = 3
    const progress: string[] = []
    await applyDestroy(s.client, 'jump', {...FAST, progress: (m) => progress.push(m)})
    assert.equal(s.sent().filter((x) => x === 'DeleteSecurityGroup').length, 4)
    assert.ok(progress.some((m) => m.includes('still in use; retrying')))
    assert.deepEqual(s.fake.tagged('jump'), [])
  })

  it('a failure part-way says what was done; running it again finishes the job', async () => {
    await created()
    s.fake.failNext('ReleaseAddress', awsError('UnauthorizedOperation', 'You are not authorized to perform this operation. User: x is not authorized to perform: ec2:ReleaseAddress on resource: y'))
    await assert.rejects(applyDestroy(s.client, 'jump', FAST), (e: BastionError) => {
      assert.equal(e.code, 'AWS_UNAUTHORIZED')
      assert.match(e.message, /ec2:ReleaseAddress/)
      assert.match(e.message, /done before the failure: .*terminate instance/)
      assert.ok(e.suggestions.some((x) => x.includes('run the same command again')))
      return true
    })
    const r = await applyDestroy(s.client, 'jump', FAST)
    assert.deepEqual(r.steps.map((x) => x.kind), ['elastic-ip', 'db-rule', 'security-group', 'key-pair'])
    assert.deepEqual(s.fake.tagged('jump'), [])
  })

  it('--dry-run lists the steps and changes nothing', async () => {
    await created()
    const r = await applyDestroy(s.client, 'jump', {...FAST, dryRun: true})
    assert.ok(r.steps.length >= 6 && r.steps.every((x) => x.status === 'skipped' && x.detail.startsWith('would ')))
    assert.deepEqual(s.sent().filter((x) => MUTATING.has(x)), [])
  })
})

describe('list --cloud aws', () => {
  beforeEach(() => {
    s = installFake()
  })
  afterEach(() => s.restore())

  it('lists bastions by tag with state, address, vendors; a half-created one shows as missing', async () => {
    await created()
    await applyCreate(s.client, plan({name: 'other', eip: false, vendor: {vendor: 'fivetran', cidrs: ['35.234.176.144/29']}, vendorKey: undefined, keyPair: undefined, db: undefined}), FAST)
    s.fake.groups.set('sg-0half', {GroupId: 'sg-0half', GroupName: 'bastion-half', VpcId: 'vpc-0aaaaaaaaaaaaaaa1', Description: 'x', Tags: [{Key: 'bastion:name', Value: 'half'}, {Key: 'managed-by', Value: 'bastion'}]})
    const list = await listBastions(s.client, 'eu-west-1')
    assert.deepEqual(list.map((b) => [b.name, b.state, b.address.stable]), [['half', 'missing', false], ['jump', 'running', true], ['other', 'running', false]])
    const jump = list.find((b) => b.name === 'jump')
    assert.deepEqual(jump?.vendors, [{vendor: 'hevo', cidrs: ['52.6.1.1/32', '52.6.1.2/32']}])
    assert.deepEqual(jump?.adminCidrs, ['203.0.113.7/32'])
    assert.equal(jump?.location, 'eu-west-1')
    assert.deepEqual(list.find((b) => b.name === 'other')?.vendors, [{vendor: 'fivetran', cidrs: ['35.234.176.144/29']}])
    assert.equal(await findBastion(s.client, 'nope'), undefined)
    assert.equal((await findBastion(s.client, 'jump'))?.instanceType, 't3.micro')
  })
})

describe('whitelist --cloud aws', () => {
  beforeEach(async () => {
    s = installFake()
    await created()
  })
  afterEach(() => s.restore())

  it('add admits only new addresses, described with the vendor, tagged; existing ones are left alone', async () => {
    const c = await whitelistAdd(s.client, 'jump', {vendor: 'hevo', cidrs: ['52.6.1.1/32', '52.6.1.3/32', '2001:db8::/64']})
    assert.deepEqual(c.added.map((r) => r.cidr), ['52.6.1.3/32', '2001:db8::/64'])
    assert.deepEqual(c.unchanged, [{cidr: '52.6.1.1/32', by: 'vendor hevo'}])
    const [auth] = s.mock.calls().filter((x) => (x.args[0] as object).constructor.name === 'AuthorizeSecurityGroupIngressCommand').map((x) => (x.args[0] as {input: any}).input)
    assert.deepEqual(auth.IpPermissions, [
      {IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{CidrIp: '52.6.1.3/32', Description: 'bastion:vendor=hevo'}]},
      {IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{CidrIpv6: '2001:db8::/64', Description: 'bastion:vendor=hevo'}]},
    ])
    assert.ok(auth.TagSpecifications[0].Tags.some((t: any) => t.Key === 'bastion:name' && t.Value === 'jump'))
    assert.ok(c.added.every((r) => r.id?.startsWith('sgr-')))
  })

  it('add reports an address another rule admits already, instead of failing on the duplicate', async () => {
    const c = await whitelistAdd(s.client, 'jump', {vendor: 'fivetran', cidrs: ['203.0.113.7/32']})
    assert.deepEqual(c.added, [])
    assert.deepEqual(c.unchanged, [{cidr: '203.0.113.7/32', by: 'the admin rule'}])
    assert.match(c.warnings[0] ?? '', /cuts fivetran off/)
  })

  it('--dry-run adds nothing', async () => {
    const c = await whitelistAdd(s.client, 'jump', {vendor: 'hevo', cidrs: ['52.6.1.9/32']}, {dryRun: true})
    assert.deepEqual(c.added.map((r) => r.cidr), ['52.6.1.9/32'])
    assert.equal(s.sent().includes('AuthorizeSecurityGroupIngress'), false)
  })

  it('remove revokes only that vendor\'s rules; other vendors, the admin rule and unmanaged rules stay', async () => {
    await whitelistAdd(s.client, 'jump', {vendor: 'fivetran', cidrs: ['35.234.176.144/29']})
    const sg = [...s.fake.groups.values()].find((g) => g.GroupName === 'bastion-jump')!.GroupId
    s.fake.addRule({GroupId: sg, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '198.51.100.0/24', Description: 'office', Tags: []})
    const c = await whitelistRemove(s.client, 'jump', 'hevo', ['52.6.1.1/32', '198.51.100.0/24', '9.9.9.9/32'])
    assert.deepEqual(c.removed.map((r) => r.cidr), ['52.6.1.1/32'])
    assert.deepEqual(c.notFound, ['198.51.100.0/24', '9.9.9.9/32'])
    assert.match(c.warnings.join(' '), /198\.51\.100\.0\/24 is admitted by an unmanaged rule \("office"\)/)
    const left = (await whitelistList(s.client, 'jump')).rules.map((r) => `${r.cidr}=${r.vendor ?? r.role}`).sort()
    assert.deepEqual(left, ['198.51.100.0/24=unmanaged', '203.0.113.7/32=admin', '35.234.176.144/29=fivetran', '52.6.1.2/32=hevo'])
    const all = await whitelistRemove(s.client, 'jump', 'hevo', 'all')
    assert.deepEqual(all.removed.map((r) => r.cidr), ['52.6.1.2/32'])
    assert.match(all.warnings.join(' '), /hevo has no SSH rule left/)
  })

  it('list flags the whole internet (fail), wide prefixes and extra ports (warn), and rules wider than asked', async () => {
    const sg = [...s.fake.groups.values()].find((g) => g.GroupName === 'bastion-jump')!.GroupId
    s.fake.addRule({GroupId: sg, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '0.0.0.0/0', Description: 'bastion:vendor=stitch', Tags: []})
    s.fake.addRule({GroupId: sg, IsEgress: false, IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, CidrIpv4: '10.0.0.0/16', Description: 'bastion:admin', Tags: []})
    s.fake.addRule({GroupId: sg, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '52.6.0.0/23', Description: 'bastion:vendor=segment', Tags: []})
    const v = await whitelistList(s.client, 'jump', ['52.6.0.7/32'])
    const by = (cidr: string) => v.rules.find((r) => r.cidr === cidr)?.problems.map((p) => `${p.code}:${p.severity}`)
    assert.deepEqual(by('0.0.0.0/0'), ['anywhere:fail'])
    assert.deepEqual(by('10.0.0.0/16'), ['wide:warn', 'ports:warn'])
    assert.deepEqual(by('52.6.0.0/23'), ['wide:warn'])
    assert.match(v.rules.find((r) => r.cidr === '52.6.0.0/23')?.problems[0]?.message ?? '', /wider than asked \(52\.6\.0\.7\/32\)/)
    assert.deepEqual(by('52.6.1.1/32'), [])
  })

  it('an unknown bastion name is a usage error that says how to list them', async () => {
    await assert.rejects(whitelistList(s.client, 'nope'), (e: BastionError) => e.code === 'BASTION_NOT_FOUND' && e.exit === 2 && e.suggestions.some((x) => x.includes('bastion list')))
  })
})
