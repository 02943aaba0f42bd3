/**
 * create --cloud aws against an in-memory EC2 (aws-sdk-client-mock): what is sent, tags on everything, re-runs that
 * create nothing twice, failures and Ctrl-C that roll back exactly what the run created.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {afterEach, beforeEach, describe, it} from 'node:test'
import {applyCreate} from '../../src/cloud/aws/create.js'
import {BastionError} from '../../src/errors.js'
import {parseKnownHosts} from '../../src/ssh/known-hosts.js'
import {awsError, FAST, FakeEc2, installFake, type FakeSetup} from './fake-ec2.js'
import {createRecorded, DB_SG, plan, SUBNET, tempKnownHosts} from './helpers.js'

let s: FakeSetup
const MUTATING = ['ImportKeyPair', 'CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'RunInstances', 'AllocateAddress', 'AssociateAddress']

function inputsOf(op: string): any[] {
  return s.mock.calls().filter((c) => (c.args[0] as object).constructor.name === `${op}Command`).map((c) => (c.args[0] as {input: unknown}).input)
}

function hasBastionTags(tags: {Key?: string; Value?: string}[] | undefined, name = 'jump'): boolean {
  return !!tags?.some((t) => t.Key === 'bastion:name' && t.Value === name) && !!tags.some((t) => t.Key === 'managed-by' && t.Value === 'bastion')
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<BastionError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof BastionError, `not a BastionError: ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return err
  }
  assert.fail(`expected ${code}`)
}

describe('create --cloud aws', () => {
  beforeEach(() => {
    s = installFake()
  })
  afterEach(() => s.restore())

  it('creates key pair, security group, rules, instance, Elastic IP and the database rule, and records the host keys', async () => {
    const kh = tempKnownHosts()
    const p = plan()
    const r = await createRecorded(s.client, p, {...FAST, knownHostsFile: kh, region: 'eu-west-1'})

    assert.deepEqual(
      r.steps.map((x) => `${x.kind}:${x.status}`),
      ['key-pair:created', 'security-group:created', 'ingress-rule:created', 'ingress-rule:created', 'ingress-rule:created', 'instance:created', 'elastic-ip:created', 'eip-association:created', 'db-rule:created', 'status-checks:ok'],
    )
    // the instance as asked: latest Ubuntu via SSM, IMDSv2, encrypted root volume of the image's size, user-data, tags on instance/volume/ENI
    const [run] = inputsOf('RunInstances')
    assert.equal(run.ImageId, 'resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id')
    assert.equal(run.InstanceType, 't3.micro')
    assert.deepEqual(run.MetadataOptions, {HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1})
    assert.deepEqual(run.BlockDeviceMappings, [{DeviceName: '/dev/sda1', Ebs: {VolumeSize: 8, Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true}}])
    assert.equal(run.KeyName, 'bastion-jump')
    assert.equal(run.NetworkInterfaces[0].AssociatePublicIpAddress, false)
    assert.ok(run.ClientToken, 'RunInstances carries an idempotency token')
    assert.deepEqual(run.TagSpecifications.map((t: {ResourceType: string}) => t.ResourceType).sort(), ['instance', 'network-interface', 'volume'])
    for (const t of run.TagSpecifications) assert.ok(hasBastionTags(t.Tags), `tags on ${t.ResourceType}`)
    const inst = [...s.fake.instances.values()][0]
    assert.equal(inst?.userData, p.instance.userData, 'user-data arrives intact (gzip-compressed on the wire)')
    assert.equal(p.instance.userDataGzip, true)

    // every resource carries the tags
    for (const g of s.fake.groups.values()) if (g.GroupId !== DB_SG) assert.ok(hasBastionTags(g.Tags), 'security group tagged')
    for (const a of s.fake.addresses.values()) assert.ok(hasBastionTags(a.Tags), 'EIP tagged')
    for (const k of s.fake.keyPairs.values()) assert.ok(hasBastionTags(k.Tags), 'key pair tagged')
    for (const i of inputsOf('AuthorizeSecurityGroupIngress')) assert.ok(hasBastionTags(i.TagSpecifications[0].Tags), 'rules tagged')

    // SSH from each vendor CIDR, described with the vendor; the admin CIDR; nothing else
    const ssh = r.rules.filter((x) => x.fromPort === 22)
    assert.deepEqual(ssh.map((x) => `${x.cidr} ${x.description}`).sort(), ['203.0.113.7/32 bastion:admin', '52.6.1.1/32 bastion:vendor=hevo', '52.6.1.2/32 bastion:vendor=hevo'])
    // the database group admits the bastion's group
    const dbRule = [...s.fake.rules.values()].find((x) => x.GroupId === DB_SG && x.ReferencedGroupInfo)
    assert.equal(dbRule?.ReferencedGroupInfo?.GroupId, r.securityGroupId)
    assert.equal(dbRule?.FromPort, 5432)

    assert.equal(r.address.elastic, true)
    assert.match(r.address.publicIp ?? '', /^3\.3\.3\./)
    assert.deepEqual(r.vendorForm, {sshHost: r.address.publicIp, sshPort: 22, sshUser: 'hevo', database: '10.0.1.5:5432'})
    assert.deepEqual(r.admin, {user: 'ubuntu', ssh: `ssh ubuntu@${r.address.publicIp}`})

    // host keys from the console, in known_hosts under the Elastic IP
    assert.equal(r.hostKeys.status, 'recorded')
    const entries = parseKnownHosts(readFileSync(kh, 'utf8'))
    assert.deepEqual(entries.map((e) => e.hosts), [r.address.publicIp, r.address.publicIp])
    assert.deepEqual(entries.map((e) => e.fingerprint), s.fake.hostKeys.map((k) => k.fingerprint))
    // what the user-data reported at boot
    assert.equal(r.bootstrap.status, 'done')
    assert.equal(r.vendorSetup?.user, 'created')
    assert.equal(r.vendorSetup?.key.status, 'added')
    assert.deepEqual(r.warnings, [])
  })

  it('a re-run finds everything by its tags and creates nothing', async () => {
    const kh = tempKnownHosts()
    const first = await createRecorded(s.client, plan(), {...FAST, knownHostsFile: kh})
    const before = s.fake.tagged('jump').sort()
    s.mock.resetHistory()
    const again = await createRecorded(s.client, plan(), {...FAST, knownHostsFile: kh})
    assert.deepEqual(s.fake.tagged('jump').sort(), before)
    for (const op of MUTATING) assert.deepEqual(inputsOf(op), [], `${op} not sent on a re-run`)
    assert.ok(again.steps.every((x) => x.status === 'present' || x.status === 'ok'), JSON.stringify(again.steps))
    assert.equal(again.instance.id, first.instance.id)
    assert.equal(again.address.publicIp, first.address.publicIp)
    assert.equal(again.hostKeys.status, 'present', 'known_hosts is not appended twice')
    assert.equal(parseKnownHosts(readFileSync(kh, 'utf8')).length, 2)
  })

  it('a re-run after a half-finished run creates only what is missing', async () => {
    // an earlier run got as far as the security group (and one vendor rule)
    await createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()}).catch(() => {})
    const sgBefore = [...s.fake.groups.keys()]
    for (const i of s.fake.instances.values()) i.State = {Name: 'terminated'}
    for (const a of [...s.fake.addresses.keys()]) s.fake.addresses.delete(a)
    const adminRule = [...s.fake.rules.values()].find((r) => r.Description === 'bastion:admin')
    if (adminRule) s.fake.rules.delete(adminRule.SecurityGroupRuleId)
    s.mock.resetHistory()
    const r = await createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.deepEqual([...s.fake.groups.keys()], sgBefore, 'no second security group')
    assert.deepEqual(inputsOf('CreateSecurityGroup'), [])
    assert.deepEqual(inputsOf('AuthorizeSecurityGroupIngress').map((i) => i.IpPermissions.map((p: any) => p.IpRanges?.[0]?.CidrIp)), [['203.0.113.7/32']])
    assert.equal(inputsOf('RunInstances').length, 1)
    assert.equal(inputsOf('AllocateAddress').length, 1)
    assert.equal(s.fake.liveInstances().length, 1)
    assert.ok(r.steps.some((x) => x.kind === 'db-rule' && x.status === 'present'))
  })

  it('a failure part-way removes what this run created, newest first, and reports it', async () => {
    s.fake.failNext('AllocateAddress', awsError('AddressLimitExceeded', 'The maximum number of addresses has been reached.'))
    const err = await rejectsWith(createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()}), 'AWS_QUOTA')
    assert.match(err.message, /AllocateAddress/)
    assert.match(err.message, /rolled back what this run created/)
    assert.ok(err.suggestions.some((x) => /release Elastic IPs|--no-eip/.test(x)))
    assert.deepEqual(s.fake.tagged('jump'), [], 'nothing tagged for the bastion is left')
    const undo = s.sent().filter((op) => ['TerminateInstances', 'RevokeSecurityGroupIngress', 'DeleteSecurityGroup', 'DeleteKeyPair'].includes(op))
    assert.deepEqual(undo, ['TerminateInstances', 'DeleteSecurityGroup', 'DeleteSecurityGroup', 'DeleteKeyPair'], 'instance, then group (retried while in use), then key pair')
    assert.deepEqual((err.detail?.rollback as {left: string[]}).left, [])
  })

  it('a failure after the database rule revokes it too, but never touches what existed before the run', async () => {
    // the security group and the key pair exist from an earlier run; this run creates the rest and fails at the end
    await createRecorded(s.client, plan({eip: false, db: undefined}), {...FAST, knownHostsFile: tempKnownHosts()})
    for (const i of s.fake.instances.values()) i.State = {Name: 'terminated'}
    const sg = [...s.fake.groups.values()].find((g) => g.GroupId !== DB_SG)?.GroupId
    const kp = [...s.fake.keyPairs.keys()]
    s.fake.failNext('DescribeInstanceStatus', awsError('UnauthorizedOperation', 'You are not authorized to perform this operation. User: arn:aws:iam::1:user/x is not authorized to perform: ec2:DescribeInstanceStatus because no identity-based policy allows it. Encoded authorization failure message: AbC123_-x'))
    const err = await rejectsWith(createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()}), 'AWS_UNAUTHORIZED')
    assert.match(err.message, /ec2:DescribeInstanceStatus/)
    assert.ok(err.suggestions.some((x) => x.includes('aws sts decode-authorization-message --encoded-message AbC123_-x')))
    assert.ok([...s.fake.groups.keys()].includes(sg as string), 'the earlier security group stays')
    assert.deepEqual([...s.fake.keyPairs.keys()], kp, 'the earlier key pair stays')
    assert.equal(s.fake.liveInstances().length, 0, 'the instance of this run is terminated')
    assert.equal(s.fake.addresses.size, 0, 'the Elastic IP of this run is released')
    assert.ok(![...s.fake.rules.values()].some((r) => r.GroupId === DB_SG && r.ReferencedGroupInfo), 'the database rule is revoked')
  })

  it('Ctrl-C while waiting stops, rolls everything back and exits 130', async () => {
    s.fake.statusPolls = 1000
    const ac = new AbortController()
    const err = await rejectsWith(
      createRecorded(s.client, plan(), {
        ...FAST,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        signal: ac.signal,
        knownHostsFile: tempKnownHosts(),
        progress: (m) => {
          if (m.startsWith('status checks')) ac.abort()
        },
      }),
      'INTERRUPTED',
    )
    assert.equal(err.exit, 130)
    assert.deepEqual(s.fake.tagged('jump'), [])
    assert.ok(![...s.fake.rules.values()].some((r) => r.GroupId === DB_SG && r.ReferencedGroupInfo))
  })

  it('an unknown subnet is a usage error before anything is created', async () => {
    const err = await rejectsWith(applyCreate(s.client, plan({subnetId: 'subnet-0ffffffffffffffff'}), FAST), 'AWS_SUBNET_NOT_FOUND')
    assert.equal(err.exit, 2)
    assert.ok(err.suggestions.some((x) => x.includes('describe-subnets')))
    for (const op of MUTATING) assert.deepEqual(inputsOf(op), [])
  })

  it('an unknown database security group, an AMI for the wrong architecture, a conflicting key pair: refused before creating anything', async () => {
    await rejectsWith(applyCreate(s.client, plan({db: {securityGroupId: 'sg-0eeeeeeeeeeeeeee1', port: 5432}}), FAST), 'AWS_SECURITY_GROUP_NOT_FOUND')
    await rejectsWith(applyCreate(s.client, plan({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}, instanceType: 't4g.micro'}), FAST), 'AWS_IMAGE_ARCH')
    s.fake.keyPairs.set('key-1', {KeyPairId: 'key-1', KeyName: 'bastion-jump', KeyType: 'ed25519', PublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyMaterialxxxxxxxxxxxxxxxxxxxxxxxxxxx other', Tags: []})
    const err = await rejectsWith(applyCreate(s.client, plan(), FAST), 'AWS_KEY_PAIR_CONFLICT')
    assert.ok(err.suggestions.some((x) => x.includes('--key-name bastion-jump')))
    for (const op of MUTATING) assert.deepEqual(inputsOf(op), [])
  })

  it('--ami uses the image\'s root device name and the size of the mapping it names for the encrypted root volume', async () => {
    s.fake.images[0]!.RootDeviceName = '/dev/xvda'
    s.fake.images[0]!.BlockDeviceMappings[0]!.DeviceName = '/dev/xvda'
    await createRecorded(s.client, plan({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}}), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.deepEqual(inputsOf('RunInstances')[0].BlockDeviceMappings, [{DeviceName: '/dev/xvda', Ebs: {VolumeSize: 12, Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true}}])
    assert.equal(inputsOf('RunInstances')[0].ImageId, 'ami-0bbbbbbbbbbbbbbb1')
  })

  it('the fake EC2 refuses, as moto and LocalStack do, a root mapping with neither VolumeSize nor SnapshotId', async () => {
    const {RunInstancesCommand} = await import('@aws-sdk/client-ec2')
    const err = await s.client
      .send(new RunInstancesCommand({ImageId: 'ami-0bbbbbbbbbbbbbbb1', MinCount: 1, MaxCount: 1, BlockDeviceMappings: [{DeviceName: '/dev/sda1', Ebs: {Encrypted: true, VolumeType: 'gp3'}}],
        NetworkInterfaces: [{DeviceIndex: 0, SubnetId: 'subnet-0aaaaaaaaaaaaaaa1'}]}))
      .then(() => undefined, (e: Error) => e)
    assert.equal(err?.name, 'MissingParameter')
    assert.equal(err?.message, 'The request must contain the parameter size or snapshotId')
  })

  it('the family image\'s root size comes from the newest image DescribeImages finds for its SSM parameter (owner, name, architecture)', async () => {
    await createRecorded(s.client, plan({instanceType: 't4g.micro', image: {kind: 'al2023'}}), {...FAST, knownHostsFile: tempKnownHosts()})
    const [lookup] = inputsOf('DescribeImages')
    assert.deepEqual(lookup.Owners, ['amazon'])
    assert.deepEqual(lookup.Filters, [{Name: 'name', Values: ['al2023-ami-2023.*-kernel-*-arm64']}, {Name: 'architecture', Values: ['arm64']}, {Name: 'state', Values: ['available']}])
    assert.deepEqual(inputsOf('RunInstances')[0].BlockDeviceMappings, [{DeviceName: '/dev/xvda', Ebs: {VolumeSize: 8, Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true}}])
    // of two Ubuntu images (7 and 8 GiB), the newer one's size
    s.fake.images.find((i) => i.ImageId === 'ami-0ccccccccccccccc1')!.BlockDeviceMappings[0]!.Ebs!.VolumeSize = 10
    await createRecorded(s.client, plan({name: 'jump2', keyPair: undefined, db: undefined}), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.equal(inputsOf('RunInstances')[1].BlockDeviceMappings[0].Ebs.VolumeSize, 10)
  })

  it('--disk-size is sent as the root VolumeSize; one below the image\'s size is refused before anything is made', async () => {
    await createRecorded(s.client, plan({diskSize: 40}), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.equal(inputsOf('RunInstances')[0].BlockDeviceMappings[0].Ebs.VolumeSize, 40)
    s.restore()
    s = installFake()
    const err = await rejectsWith(applyCreate(s.client, plan({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}, diskSize: 10}), FAST), 'AWS_DISK_TOO_SMALL')
    assert.equal(err.exit, 2)
    assert.match(err.message, /--disk-size 10 is smaller than the root volume of AMI ami-0bbbbbbbbbbbbbbb1 \(12 GiB\)/)
    for (const op of MUTATING) assert.deepEqual(inputsOf(op), [])
  })

  it('an EC2 that shows no image of the family (an emulator without the public images) still gets a sized root mapping', async () => {
    s.fake.images = s.fake.images.filter((i) => !i.Name.startsWith('ubuntu/'))
    const r = await createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.equal(inputsOf('RunInstances')[0].BlockDeviceMappings[0].Ebs.VolumeSize, 8)
    assert.ok(r.warnings.some((w) => /shows no root volume size: the root volume gets 8 GiB/.test(w)), r.warnings.join('\n'))
  })

  it('--no-eip asks for a public IP at launch and says the address is not stable', async () => {
    const r = await createRecorded(s.client, plan({eip: false}), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.equal(inputsOf('RunInstances')[0].NetworkInterfaces[0].AssociatePublicIpAddress, true)
    assert.deepEqual(inputsOf('AllocateAddress'), [])
    assert.equal(r.address.elastic, false)
    assert.equal(r.address.publicIp, '54.1.2.3')
    assert.ok(r.warnings.some((w) => w.includes('--no-eip')))
  })

  it('warns when the subnet has no route to an internet gateway', async () => {
    s.fake.routeTables[0]!.Routes = s.fake.routeTables[0]!.Routes.filter((x) => x.DestinationCidrBlock !== '0.0.0.0/0')
    const r = await createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.ok(r.warnings.some((w) => /no 0\.0\.0\.0\/0 route/.test(w) && w.includes('aws ec2 create-route --route-table-id rtb-')), r.warnings.join('\n'))
  })

  it('says plainly when the host keys are not on the console, and writes no known_hosts', async () => {
    s.fake.consolePolls = 1_000_000
    const kh = tempKnownHosts()
    const r = await createRecorded(s.client, plan(), {...FAST, waits: {...FAST.waits, consoleTimeoutSec: 0.05}, knownHostsFile: kh})
    assert.equal(r.hostKeys.status, 'unavailable')
    assert.match(r.hostKeys.note, /NOT updated/)
    assert.match(r.hostKeys.note, /aws ec2 get-console-output --instance-id i-/)
    assert.ok(r.warnings.includes(r.hostKeys.note))
    assert.equal(existsSync(kh), false)
  })

  it('a console it may not read leaves the bastion standing and says why the keys were not recorded', async () => {
    s.fake.failNext('GetConsoleOutput', awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'), 2)
    const r = await createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.equal(r.hostKeys.status, 'unavailable')
    assert.match(r.hostKeys.note, /could not be read \(AWS refused GetConsoleOutput: .*ec2:GetConsoleOutput\)/)
    assert.equal(s.fake.liveInstances().length, 1, 'not rolled back')
  })

  it('a re-run with fewer vendor addresses keeps the old rule and says how to remove it', async () => {
    await createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()})
    const r = await createRecorded(s.client, plan({vendor: {vendor: 'hevo', cidrs: ['52.6.1.1/32']}}), {...FAST, knownHostsFile: tempKnownHosts()})
    assert.ok(r.warnings.some((w) => w.includes('52.6.1.2/32 still admits hevo') && w.includes('bastion whitelist remove --cloud aws --name jump --vendor hevo --vendor-ip 52.6.1.2/32')), r.warnings.join('\n'))
    assert.ok(r.rules.some((x) => x.cidr === '52.6.1.2/32'))
  })

  it('refuses to go on when two instances carry the name', async () => {
    await createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()})
    const [one] = s.fake.instances.values()
    s.fake.instances.set('i-copy', {...one!, InstanceId: 'i-copy'})
    await rejectsWith(applyCreate(s.client, plan(), FAST), 'AWS_DUPLICATE')
  })

  it('a launch that ends terminated fails with AWS\'s reason and is rolled back', async () => {
    const fake = s.fake
    const orig = fake.handle.bind(fake)
    fake.handle = (op: string, input: any) => {
      const out = orig(op, input) as any
      if (op === 'DescribeInstances' && input.InstanceIds) {
        for (const i of fake.instances.values()) if (i.State.Name === 'running' && !fake.addresses.size) i.State = {Name: 'terminated'}
        for (const r of out.Reservations ?? []) for (const i of r.Instances) if (i.State.Name === 'running') {
          i.State = {Name: 'terminated'}
          i.StateReason = {Message: 'Server.InsufficientInstanceCapacity: Insufficient capacity.'}
        }
      }
      return out
    }
    const err = await rejectsWith(createRecorded(s.client, plan(), {...FAST, knownHostsFile: tempKnownHosts()}), 'AWS_INSTANCE_FAILED')
    assert.match(err.message, /InsufficientInstanceCapacity/)
    assert.deepEqual(fake.tagged('jump'), [])
  })
})

describe('create --cloud aws: fake sanity', () => {
  it('the fake refuses unknown subnets like EC2 does', () => {
    const f = new FakeEc2()
    assert.throws(() => f.handle('DescribeSubnets', {SubnetIds: ['subnet-0ffffffffffffffff']}), /InvalidSubnetID.NotFound|does not exist/)
    assert.equal(f.handle('DescribeSubnets', {SubnetIds: [SUBNET]}) !== undefined, true)
  })
})
