/** doctor's AWS checks: pure functions of AwsFacts, judged on fixtures (pass and fail); the gatherer on the fake EC2. */
import assert from 'node:assert/strict'
import {afterEach, beforeEach, describe, it} from 'node:test'
import {applyCreate} from '../../src/cloud/aws/create.js'
import {awsChecks, freeRuleNumber, gatherAwsFacts, type AwsFacts} from '../../src/cloud/aws/doctor.js'
import {runChecks} from '../../src/doctor/report.js'
import type {CheckContext, DoctorInput, Finding} from '../../src/doctor/types.js'
import {awsError, FAST, installFake, type FakeSetup} from './fake-ec2.js'
import {DB_SG, plan} from './helpers.js'

const input: DoctorInput = {vendor: 'hevo', dbs: [{host: '10.0.1.5', port: 5432, text: '10.0.1.5:5432'}], vendorIps: ['52.6.1.1/32'], sshPort: 22}

/** A healthy bastion's facts; each test breaks one thing. */
function healthy(): AwsFacts {
  return {
    name: 'jump',
    region: 'eu-west-1',
    instances: [],
    instance: {
      id: 'i-0123',
      state: 'running',
      type: 't3.micro',
      subnetId: 'subnet-1',
      vpcId: 'vpc-1',
      publicIp: '3.3.3.3',
      privateIp: '10.0.0.10',
      securityGroupIds: ['sg-bastion'],
      httpTokens: 'required',
      httpEndpoint: 'enabled',
    },
    addresses: [{allocationId: 'eipalloc-1', publicIp: '3.3.3.3', associationId: 'eipassoc-1', instanceId: 'i-0123', tags: []}],
    securityGroups: [{id: 'sg-bastion', name: 'bastion-jump', vpcId: 'vpc-1', tags: []}],
    attachedGroupIds: ['sg-bastion'],
    rules: [
      {id: 'sgr-1', role: 'vendor', vendor: 'hevo', cidr: '52.6.1.1/32', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'bastion:vendor=hevo'},
      {id: 'sgr-2', role: 'admin', cidr: '203.0.113.7/32', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'bastion:admin'},
    ],
    subnetId: 'subnet-1',
    vpcId: 'vpc-1',
    networkAcl: {
      id: 'acl-1',
      entries: [
        {ruleNumber: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0'},
        {ruleNumber: 32767, egress: false, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0'},
        {ruleNumber: 100, egress: true, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0'},
        {ruleNumber: 32767, egress: true, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0'},
      ],
    },
    routeTable: {id: 'rtb-1', main: false, routes: [{destination: '10.0.0.0/16', target: 'local', state: 'active'}, {destination: '0.0.0.0/0', target: 'igw-1', state: 'active'}]},
    internetGatewayId: 'igw-1',
    dbGroups: [{groupId: 'sg-db', port: 5432, exists: true, rules: [{id: 'sgr-db', groupId: 'sg-db', egress: false, protocol: 'tcp', fromPort: 5432, toPort: 5432, referencedGroupId: 'sg-bastion', description: '', tags: []}]}],
    errors: [],
  }
}

function judge(facts: AwsFacts, inp: DoctorInput = input): Map<string, Finding[]> {
  const ctx: CheckContext<AwsFacts> = {input: inp, facts, now: new Date('2026-11-24T12:00:00Z')}
  const out = new Map<string, Finding[]>()
  for (const f of runChecks(awsChecks, ctx)) out.set(f.id, [...(out.get(f.id) ?? []), f])
  return out
}

function one(m: Map<string, Finding[]>, id: string): Finding {
  const f = m.get(id)?.[0]
  assert.ok(f, `no finding ${id}`)
  return f
}

describe('doctor AWS checks (pure)', () => {
  it('a healthy bastion passes every check, area cloud, ids as documented', () => {
    const m = judge(healthy())
    assert.deepEqual([...m.keys()], awsChecks.flatMap((c) => c.ids))
    assert.deepEqual([...m.keys()], [
      'cloud.aws.instance.running', 'cloud.aws.imdsv2', 'cloud.aws.address.stable', 'cloud.aws.sg.vendor_cidr', 'cloud.aws.sg.too_wide',
      'cloud.aws.nacl.ssh_in', 'cloud.aws.nacl.ephemeral_out', 'cloud.aws.route.igw', 'cloud.aws.db_sg.admits_bastion',
    ])
    for (const [id, fs] of m) for (const f of fs) {
      assert.equal(f.status, 'pass', `${id}: ${f.seen}`)
      assert.equal(f.area, 'cloud')
      assert.equal(f.fix, undefined)
    }
  })

  it('instance.running: missing → fail with create; stopped → fail with start-instances; pending → warn', () => {
    const none = healthy()
    delete none.instance
    let f = one(judge(none), 'cloud.aws.instance.running')
    assert.equal(f.status, 'fail')
    assert.match(f.fix?.command ?? '', /^bastion create --cloud aws --name jump /)
    const stopped = healthy()
    stopped.instance!.state = 'stopped'
    f = one(judge(stopped), 'cloud.aws.instance.running')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix?.command, 'aws ec2 start-instances --instance-ids i-0123 --region eu-west-1')
    const pending = healthy()
    pending.instance!.state = 'pending'
    assert.equal(one(judge(pending), 'cloud.aws.instance.running').status, 'warn')
    // without an instance the instance-level checks are skipped, not failed
    const m = judge(none)
    assert.equal(one(m, 'cloud.aws.imdsv2').status, 'skip')
    assert.equal(one(m, 'cloud.aws.address.stable').status, 'skip')
  })

  it('imdsv2: HttpTokens optional → warn with modify-instance-metadata-options', () => {
    const f0 = healthy()
    f0.instance!.httpTokens = 'optional'
    const f = one(judge(f0), 'cloud.aws.imdsv2')
    assert.equal(f.status, 'warn')
    assert.equal(f.fix?.command, 'aws ec2 modify-instance-metadata-options --instance-id i-0123 --http-tokens required --http-endpoint enabled --region eu-west-1')
  })

  it('address.stable: automatic public IP → warn; no public IP → fail; both fixed with an Elastic IP', () => {
    const auto = healthy()
    auto.addresses = []
    let f = one(judge(auto), 'cloud.aws.address.stable')
    assert.equal(f.status, 'warn')
    assert.match(f.fix?.command ?? '', /aws ec2 allocate-address --domain vpc .* && aws ec2 associate-address --instance-id i-0123/)
    const none = healthy()
    none.addresses = [{allocationId: 'eipalloc-9', publicIp: '3.3.3.9', tags: []}]
    delete none.instance!.publicIp
    f = one(judge(none), 'cloud.aws.address.stable')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix?.command, 'aws ec2 associate-address --instance-id i-0123 --allocation-id eipalloc-9 --region eu-west-1')
  })

  it('sg.vendor_cidr: a vendor address no rule admits → fail with bastion whitelist add', () => {
    const f = one(judge(healthy(), {...input, vendorIps: ['52.6.1.1/32', '52.6.1.2/32', '52.6.1.3']}), 'cloud.aws.sg.vendor_cidr')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /52\.6\.1\.2\/32, 52\.6\.1\.3/)
    assert.equal(f.fix?.command, 'bastion whitelist add --cloud aws --name jump --vendor hevo --vendor-ip 52.6.1.2/32 --vendor-ip 52.6.1.3 --region eu-west-1')
    // a wider rule of someone else admits it: pass, but says so
    const wide = healthy()
    wide.rules.push({id: 'sgr-9', role: 'unmanaged', cidr: '52.6.0.0/16', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'office'})
    const g = one(judge(wide, {...input, vendorIps: ['52.6.9.9/32']}), 'cloud.aws.sg.vendor_cidr')
    assert.equal(g.status, 'pass')
    assert.match(g.seen, /by office/)
  })

  it('sg.too_wide: 0.0.0.0/0 on SSH → fail; a /16 → warn; fixes name the rule', () => {
    const open = healthy()
    open.rules.push({id: 'sgr-any', role: 'unmanaged', cidr: '0.0.0.0/0', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'launch-wizard'})
    let f = one(judge(open), 'cloud.aws.sg.too_wide')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix?.command, 'aws ec2 revoke-security-group-ingress --group-id sg-bastion --security-group-rule-ids sgr-any --region eu-west-1')
    const wide = healthy()
    wide.rules.push({id: 'sgr-w', role: 'vendor', vendor: 'segment', cidr: '52.0.0.0/16', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'bastion:vendor=segment'})
    f = one(judge(wide), 'cloud.aws.sg.too_wide')
    assert.equal(f.status, 'warn')
    assert.equal(f.fix?.command, 'bastion whitelist remove --cloud aws --name jump --vendor segment --vendor-ip 52.0.0.0/16 --region eu-west-1')
    // a rule on another port is none of SSH's business
    const db = healthy()
    db.rules.push({id: 'sgr-x', role: 'unmanaged', cidr: '0.0.0.0/0', protocol: 'tcp', fromPort: 443, toPort: 443, description: 'https'})
    assert.equal(one(judge(db), 'cloud.aws.sg.too_wide').status, 'pass')
  })

  it('nacl.ssh_in: a deny before the allow → fail with an allow entry numbered just below it', () => {
    const f0 = healthy()
    f0.networkAcl!.entries.unshift({ruleNumber: 90, egress: false, protocol: '6', action: 'deny', cidr: '52.6.0.0/16', fromPort: 22, toPort: 22})
    const f = one(judge(f0), 'cloud.aws.nacl.ssh_in')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /52\.6\.1\.1\/32: denied \(decided by rule 90\)/)
    assert.equal(f.fix?.command, 'aws ec2 create-network-acl-entry --network-acl-id acl-1 --ingress --rule-number 89 --protocol tcp --port-range From=22,To=22 --cidr-block 52.6.1.1/32 --rule-action allow --region eu-west-1')
    // the default deny only: fail too
    const bare = healthy()
    bare.networkAcl!.entries = bare.networkAcl!.entries.filter((e) => e.ruleNumber === 32767)
    assert.match(one(judge(bare), 'cloud.aws.nacl.ssh_in').seen, /by the default \* rule/)
  })

  it('nacl.ephemeral_out: replies allowed only to 32768-60999 → warn (partial); none → fail', () => {
    const part = healthy()
    part.networkAcl!.entries = part.networkAcl!.entries.filter((e) => !e.egress || e.ruleNumber === 32767)
    part.networkAcl!.entries.push({ruleNumber: 100, egress: true, protocol: '6', action: 'allow', cidr: '0.0.0.0/0', fromPort: 32768, toPort: 60999})
    let f = one(judge(part), 'cloud.aws.nacl.ephemeral_out')
    assert.equal(f.status, 'warn')
    assert.match(f.seen, /partly denied \(ports 1024-32767, 61000-65535/)
    assert.match(f.fix?.command ?? '', /--egress --rule-number 99 --protocol tcp --port-range From=1024,To=65535 --cidr-block 52\.6\.1\.1\/32/)
    const none = healthy()
    none.networkAcl!.entries = none.networkAcl!.entries.filter((e) => !e.egress || e.ruleNumber === 32767)
    f = one(judge(none), 'cloud.aws.nacl.ephemeral_out')
    assert.equal(f.status, 'fail')
  })

  it('route.igw: 0.0.0.0/0 to a NAT gateway → fail with replace-route to the VPC\'s internet gateway; no route → create-route', () => {
    const nat = healthy()
    nat.routeTable!.routes[1] = {destination: '0.0.0.0/0', target: 'nat-1', state: 'active'}
    let f = one(judge(nat), 'cloud.aws.route.igw')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix?.command, 'aws ec2 replace-route --route-table-id rtb-1 --destination-cidr-block 0.0.0.0/0 --gateway-id igw-1 --region eu-west-1')
    const none = healthy()
    none.routeTable!.routes.pop()
    delete none.internetGatewayId
    f = one(judge(none), 'cloud.aws.route.igw')
    assert.equal(f.status, 'fail')
    assert.match(f.fix?.command ?? '', /aws ec2 create-internet-gateway/)
  })

  it('db_sg.admits_bastion: no rule for the bastion → fail with authorize-security-group-ingress; unknown → skip', () => {
    const f0 = healthy()
    f0.dbGroups[0]!.rules = []
    const f = one(judge(f0), 'cloud.aws.db_sg.admits_bastion')
    assert.equal(f.status, 'fail')
    assert.equal(f.fix?.command, 'aws ec2 authorize-security-group-ingress --group-id sg-db --protocol tcp --port 5432 --source-group sg-bastion --region eu-west-1')
    const byIp = healthy()
    byIp.dbGroups[0]!.rules = [{id: 'sgr-c', groupId: 'sg-db', egress: false, protocol: 'tcp', fromPort: 5432, toPort: 5432, cidr: '10.0.0.0/24', description: '', tags: []}]
    assert.equal(one(judge(byIp), 'cloud.aws.db_sg.admits_bastion').status, 'pass')
    const unknown = healthy()
    unknown.dbGroups = []
    assert.equal(one(judge(unknown), 'cloud.aws.db_sg.admits_bastion').status, 'skip')
  })

  it('a read that failed skips the checks that need it, with the reason', () => {
    const f0 = healthy()
    delete f0.networkAcl
    f0.errors.push({what: 'network ACL', code: 'AWS_UNAUTHORIZED', message: 'AWS refused DescribeNetworkAcls: the identity lacks the IAM permission ec2:DescribeNetworkAcls'})
    const f = one(judge(f0), 'cloud.aws.nacl.ssh_in')
    assert.equal(f.status, 'skip')
    assert.match(f.seen, /ec2:DescribeNetworkAcls/)
  })

  it('freeRuleNumber picks the closest free number below', () => {
    assert.equal(freeRuleNumber([{ruleNumber: 99, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0'}], false, 100), 98)
    assert.equal(freeRuleNumber([], false, 1), 1)
  })
})

describe('doctor AWS facts (gathered from the fake EC2)', () => {
  let s: FakeSetup
  beforeEach(() => {
    s = installFake()
  })
  afterEach(() => s.restore())

  it('gathers what a created bastion looks like, and every check passes', async () => {
    await applyCreate(s.client, plan(), FAST)
    const facts = await gatherAwsFacts(s.client, 'jump')
    assert.equal(facts.region, 'eu-west-1')
    assert.equal(facts.instance?.httpTokens, 'required')
    assert.deepEqual(facts.dbGroups.map((d) => [d.groupId, d.port, d.exists]), [[DB_SG, 5432, true]])
    assert.equal(facts.internetGatewayId, 'igw-0aaaaaaaaaaaaaaa1')
    assert.deepEqual(facts.errors, [])
    const findings = runChecks(awsChecks, {input, facts, now: new Date()})
    assert.deepEqual(findings.filter((f) => f.status !== 'pass').map((f) => `${f.id} ${f.seen}`), [])
  })

  it('a missing permission is recorded, not thrown; other facts are still gathered', async () => {
    await applyCreate(s.client, plan(), FAST)
    s.fake.failNext('DescribeNetworkAcls', awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    const facts = await gatherAwsFacts(s.client, 'jump')
    assert.equal(facts.networkAcl, undefined)
    assert.ok(facts.routeTable)
    assert.match(facts.errors[0]?.message ?? '', /ec2:DescribeNetworkAcls/)
  })

  it('no bastion: the running check fails, the others skip', async () => {
    const facts = await gatherAwsFacts(s.client, 'ghost')
    const findings = runChecks(awsChecks, {input, facts, now: new Date()})
    assert.equal(findings.find((f) => f.id === 'cloud.aws.instance.running')?.status, 'fail')
    assert.ok(findings.filter((f) => f.id !== 'cloud.aws.instance.running').every((f) => f.status === 'skip'), JSON.stringify(findings.map((f) => [f.id, f.status])))
  })
})
