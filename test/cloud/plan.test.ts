/** Pure parts: the create plan, the user-data, the console parser, whitelist judgement, ACL evaluation, error mapping. */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {describe, it} from 'node:test'
import {archOf, familyImageLookup, planCreate, renderPlanHuman, ssmImageParameter} from '../../src/cloud/aws/plan.js'
import {encodedAuthorizationMessage, mapAwsError, missingAction} from '../../src/cloud/aws/errors.js'
import {evaluateNacl, judgeDefaultRoute, type NaclEntry} from '../../src/cloud/aws/network.js'
import {parseConsoleOutput} from '../../src/cloud/console.js'
import {encodeUserData, renderUserData, sshdDropIn, SSHD_SETTINGS, USER_DATA_LIMIT} from '../../src/cloud/user-data.js'
import {cidrContains, judgeRule, parseBastionName, parseWhitelistCidrs, ruleOwner} from '../../src/cloud/whitelist.js'
import {BastionError} from '../../src/errors.js'
import {templatesDir} from '../../src/paths.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {addScript} from '../../src/access/service.js'
import type {Style} from '../../src/ui/style.js'
import {awsCreateRequest, request} from './helpers.js'

const plain: Style = {ok: (t) => t, bad: (t) => t, warn: (t) => t, dim: (t) => t, bold: (t) => t, code: (t) => t}

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as BastionError).code
  }
  return 'no error'
}

describe('create plan', () => {
  it('plans SSH rules per vendor CIDR and admin CIDR, IMDSv2, an encrypted root volume, tags, and the image by SSM parameter', () => {
    const p = planCreate(request())
    assert.deepEqual(p.ingress.map((r) => `${r.cidr} ${r.description}`), ['52.6.1.1/32 bastion:vendor=hevo', '52.6.1.2/32 bastion:vendor=hevo', '203.0.113.7/32 bastion:admin'])
    assert.deepEqual(p.instance.metadataOptions, {HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1})
    assert.equal(p.instance.rootVolume.encrypted, true)
    assert.deepEqual(p.tags, {'bastion:name': 'jump', 'managed-by': 'bastion', Name: 'bastion-jump'})
    assert.equal(p.image.imageId, 'resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id')
    assert.equal(p.image.rootDevice, '/dev/sda1')
    assert.equal(p.db?.description, 'bastion:db-access name=jump')
    assert.deepEqual(p.warnings, [])
  })

  it('picks arm64 images for Graviton types and Amazon Linux 2023 on request', () => {
    for (const t of ['t4g.micro', 'm7gd.large', 'c7gn.xlarge', 'a1.medium', 'im4gn.large']) assert.equal(archOf(t), 'arm64', t)
    for (const t of ['t3.micro', 't3a.small', 'g4dn.xlarge', 'g5.xlarge', 'm5zn.large']) assert.equal(archOf(t), 'x86_64', t)
    assert.equal(ssmImageParameter('al2023', 'arm64'), '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64')
    const p = planCreate(request({image: {kind: 'al2023'}, instanceType: 't4g.micro'}))
    assert.equal(p.image.imageId, 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64')
    assert.equal(p.image.rootDevice, '/dev/xvda')
    assert.equal(p.image.loginUser, 'ec2-user')
  })

  it('finds each family\'s image for its root size by the owner and name of the images its SSM parameter points at', () => {
    assert.deepEqual(familyImageLookup('ubuntu-24.04', 'x86_64'), {owner: '099720109477', name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*'})
    assert.deepEqual(familyImageLookup('ubuntu-24.04', 'arm64'), {owner: '099720109477', name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*'})
    assert.deepEqual(familyImageLookup('al2023', 'arm64'), {owner: 'amazon', name: 'al2023-ami-2023.*-kernel-*-arm64'})
    assert.deepEqual(planCreate(request({instanceType: 't4g.micro'})).image.lookup, familyImageLookup('ubuntu-24.04', 'arm64'))
    assert.equal(planCreate(request({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}})).image.lookup, undefined)
  })

  it('--disk-size goes into the plan and the dry run shows the root volume size (default: the image\'s own)', () => {
    const sized = planCreate(request({diskSize: 20}))
    assert.equal(sized.instance.rootVolume.sizeGiB, 20)
    assert.match(renderPlanHuman(sized, plain), /^ {4}root volume: 20 GiB \(--disk-size; at least the AMI's own root size\), gp3, encrypted, deleted with the instance$/m)
    const dflt = planCreate(request())
    assert.equal(dflt.instance.rootVolume.sizeGiB, undefined)
    assert.match(renderPlanHuman(dflt, plain), /root volume: the AMI's own root size \(8 GiB for this image family\); --disk-size to choose/)
    assert.match(renderPlanHuman(planCreate(request({image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}})), plain), /root volume: the AMI's own root size; --disk-size to choose/)
  })

  it('--disk-size takes whole GiB from 1 to 16384 and refuses anything else with exit 2', async () => {
    const base = {name: 'j', subnet: 'subnet-0abc1234def567890'}
    assert.equal((await awsCreateRequest({...base, 'disk-size': '30'})).request.diskSize, 30)
    assert.equal((await awsCreateRequest({...base, 'disk-size': '16384'})).request.diskSize, 16384)
    assert.equal((await awsCreateRequest({...base, 'disk-size': '20GiB'})).request.diskSize, 20)
    assert.equal((await awsCreateRequest(base)).request.diskSize, undefined)
    for (const bad of ['0', '-5', '8.5', 'ten', '16385', '']) {
      await assert.rejects(awsCreateRequest({...base, 'disk-size': bad}), (e: BastionError) => e.code === 'DISK_SIZE' && e.exit === 2 && /whole number of GiB from 1 to 16384/.test(e.message), bad)
    }
  })

  it('warns about what the operator will miss: no admin CIDR, no admin key, no EIP, no vendor key', () => {
    const p = planCreate(request({adminCidrs: [], keyPair: undefined, eip: false, vendorKey: undefined}))
    assert.equal(p.warnings.length, 2)
    assert.match(p.warnings.join('\n'), /--admin-cidr[\s\S]*--no-eip/)
    // these two matter only when the instance is launched (a re-run that finds it does not repeat them)
    assert.match(p.launchWarnings.join('\n'), /--public-key-file[\s\S]*add-vendor-key/)
  })

  it('the printed plan lists resources, rules, the vendor form and the whole user-data', () => {
    const p = planCreate(request())
    const text = renderPlanHuman(p, plain, 'eu-west-1')
    for (const want of ['dry run: no AWS call was made', 'tcp 22 from 52.6.1.1/32  "bastion:vendor=hevo"', 'IMDSv2 required', 'encrypted', 'a new Elastic IP', 'SSH user: hevo', 'sg-0dddddddddddddd01', '#!/bin/sh', 'BASTION_EOF_VENDOR_SCRIPT'])
      assert.ok(text.includes(want), want)
  })
})

describe('create flags', () => {
  const base = {name: 'jump', subnet: 'subnet-0abc1234def567890'}
  it('refuses the whole internet unless --allow-anywhere, and half-given vendor input', async () => {
    await assert.rejects(awsCreateRequest({...base, vendor: 'hevo', 'vendor-ip': ['0.0.0.0/0']}), (e: BastionError) => e.code === 'CIDR_ANYWHERE' && e.exit === 2)
    await assert.rejects(awsCreateRequest({...base, 'admin-cidr': ['::/0']}), (e: BastionError) => e.code === 'CIDR_ANYWHERE')
    const ok = await awsCreateRequest({...base, vendor: 'hevo', 'vendor-ip': ['0.0.0.0/0'], 'allow-anywhere': true})
    assert.deepEqual(ok.request.vendor?.cidrs, ['0.0.0.0/0'])
    assert.match(ok.warnings.join('\n'), /--vendor-ip 0\.0\.0\.0\/0 admits the whole internet: allowed by --allow-anywhere/)
    await assert.rejects(awsCreateRequest({...base, vendor: 'hevo'}), (e: BastionError) => e.code === 'VENDOR_IP_MISSING')
    await assert.rejects(awsCreateRequest({...base, 'vendor-ip': ['52.6.1.1']}), (e: BastionError) => e.code === 'VENDOR_MISSING')
    await assert.rejects(awsCreateRequest({...base, vendor: 'hevo', 'vendor-ip': ['52.6.1.1'], key: generateEd25519().publicKey}), (e: BastionError) => e.code === 'PERMIT_OPEN_MISSING')
    await assert.rejects(awsCreateRequest({...base, 'db-port': 5432}), (e: BastionError) => e.code === 'DB_SG_MISSING')
    await assert.rejects(awsCreateRequest({...base, 'db-security-group': 'sg-0abc1234def567890'}), (e: BastionError) => e.code === 'DB_PORT_MISSING')
    await assert.rejects(awsCreateRequest({...base, subnet: 'vpc-123'}), (e: BastionError) => e.code === 'AWS_ID')
    await assert.rejects(awsCreateRequest({...base, name: 'Warehouse Jump'}), (e: BastionError) => e.code === 'BASTION_NAME' && e.suggestions[0] === '--name warehouse-jump')
  })

  it('refuses --vendor-ip or --admin-cidr 0.0.0.0/1 (half the internet) like 0.0.0.0/0, and warns about a /16', async () => {
    await assert.rejects(awsCreateRequest({...base, vendor: 'hevo', 'vendor-ip': ['0.0.0.0/1']}), (e: BastionError) =>
      e.code === 'CIDR_ANYWHERE' && e.exit === 2 && /shorter than \/8/.test(e.message) && e.suggestions.some((s) => s.includes('--allow-anywhere')))
    await assert.rejects(awsCreateRequest({...base, 'admin-cidr': ['128.0.0.0/1']}), (e: BastionError) => e.code === 'CIDR_ANYWHERE')
    const r = await awsCreateRequest({...base, vendor: 'hevo', 'vendor-ip': ['52.6.0.0/16']})
    assert.match(r.warnings.join('\n'), /--vendor-ip 52\.6\.0\.0\/16 admits 65536 addresses/)
  })

  it('refuses a --key-file or --public-key-file that is not a regular file (e.g. /dev/zero), naming the flag', async () => {
    const vendorKey = {...base, vendor: 'hevo', 'vendor-ip': ['52.6.1.1'], db: ['10.0.1.5:5432']}
    await assert.rejects(awsCreateRequest({...vendorKey, 'key-file': '/dev/zero'}), (e: BastionError) =>
      e.code === 'FILE_TYPE' && e.exit === 2 && /^--key-file \/dev\/zero is a character device/.test(e.message))
    await assert.rejects(awsCreateRequest({...base, 'public-key-file': '/dev/zero'}), (e: BastionError) =>
      e.code === 'FILE_TYPE' && e.exit === 2 && /^--public-key-file \/dev\/zero is a character device/.test(e.message))
  })

  it('takes the database port from --db, makes addresses /32, and refuses ECDSA admin keys (EC2 cannot import them)', async () => {
    const r = await awsCreateRequest({
      ...base,
      vendor: 'hevo',
      'vendor-ip': ['52.6.1.1', '52.6.1.2/32,52.6.1.3'],
      key: generateEd25519('hevo').publicKey,
      db: ['10.0.1.5:5432'],
      'db-security-group': 'sg-0abc1234def567890',
    })
    assert.deepEqual(r.request.vendor?.cidrs, ['52.6.1.1/32', '52.6.1.2/32', '52.6.1.3/32'])
    assert.deepEqual(r.request.db, {securityGroupId: 'sg-0abc1234def567890', port: 5432})
    assert.match(r.request.vendorKey?.line ?? '', /^restrict,port-forwarding,permitopen="10\.0\.1\.5:5432",command="\/bin\/false" ssh-ed25519 /)
    const ecdsa = spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', `/tmp/bastion-ecdsa-${process.pid}`], {input: 'y\n'})
    assert.equal(ecdsa.status, 0)
    await assert.rejects(awsCreateRequest({...base, 'public-key-file': `/tmp/bastion-ecdsa-${process.pid}.pub`}), (e: BastionError) => e.code === 'KEY_PAIR_TYPE')
  })
})

describe('user-data', () => {
  it('is a POSIX sh script carrying the drop-in and the very script add-vendor-key runs', () => {
    const req = request()
    const text = renderUserData({name: 'jump', vendor: req.vendorKey!})
    assert.ok(text.startsWith('#!/bin/sh\n'))
    assert.ok(text.includes(`\n${sshdDropIn()}`), 'the drop-in, verbatim')
    assert.ok(text.includes(addScript(req.vendorKey!)), 'the vendor script, verbatim')
    const syntax = spawnSync('sh', ['-n'], {input: text})
    assert.equal(syntax.status, 0, syntax.stderr.toString())
    const dash = spawnSync('dash', ['-n'], {input: text})
    if (!dash.error) assert.equal(dash.status, 0, dash.stderr.toString())
  })

  it('without a vendor key sets up sshd only', () => {
    const text = renderUserData({name: 'jump'})
    assert.ok(text.includes("VENDOR=''"))
    assert.ok(!text.includes('vendor-add.sh" <<'))
  })

  it('the drop-in sets every hardening value the checks expect', () => {
    const dropIn = sshdDropIn()
    for (const [k, v] of Object.entries(SSHD_SETTINGS)) {
      const line = dropIn.split('\n').find((l) => l.toLowerCase().startsWith(`${k} `))
      assert.equal(line?.split(/\s+/)[1]?.toLowerCase(), v, k)
    }
  })

  it('the script checks the effective values against the same list (SSHD_SETTINGS)', () => {
    const script = readFileSync(join(templatesDir, 'cloud-init', 'bastion-init.sh'), 'utf8')
    const want = /^WANT='([^']*)'$/m.exec(script)?.[1]
    assert.ok(want)
    assert.deepEqual(Object.fromEntries(want.split('\n').map((l) => l.split(' ') as [string, string])), SSHD_SETTINGS)
  })

  it('goes out gzip-compressed when above 16 KB, and cloud-init gets the same script back', () => {
    const big = renderUserData({name: 'jump', vendor: request().vendorKey!})
    const wire = encodeUserData(big)
    assert.equal(wire.gzip, Buffer.byteLength(big) > USER_DATA_LIMIT)
    assert.ok(wire.data.length <= USER_DATA_LIMIT)
    assert.equal(wire.gzip ? gunzipSync(wire.data).toString() : wire.data.toString(), big)
    const small = encodeUserData(renderUserData({name: 'jump'}))
    assert.equal(small.gzip, false)
  })
})

describe('console output', () => {
  const keys = [generateEd25519('root@ip'), generateEd25519('root@ip')]
  const text = [
    '[   10.1] cloud-init[812]: bastion-init: start jump',
    '[   10.2] cloud-init[812]: bastion-init: @bastion user created',
    '[   10.3] cloud-init[812]: bastion-init: @bastion done',
    '[   10.4] cloud-init[812]: bastion-init: done jump',
    'ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----',
    ...keys.map((k) => `ec2: 256 ${k.fingerprint} root@ip (ED25519)\r`),
    'ec2: -----END SSH HOST KEY FINGERPRINTS-----',
    '-----BEGIN SSH HOST KEY KEYS-----',
    keys[0]!.publicKey,
    '[   11.0] random: crng init done',
    `${keys[1]!.publicKey}\r`,
    '-----END SSH HOST KEY KEYS-----',
  ].join('\n')

  it('reads the host keys (tolerating prefixes, CRs and interleaved kernel lines) and the user-data\'s report', () => {
    const r = parseConsoleOutput(text)
    assert.deepEqual(r.hostKeys.map((k) => k.fingerprint), keys.map((k) => k.fingerprint))
    assert.deepEqual(r.fingerprints.map((f) => f.algorithm), ['ED25519', 'ED25519'])
    assert.equal(r.init.status, 'done')
    assert.deepEqual(r.init.facts.map((f) => f.key), ['user', 'done'])
    assert.deepEqual(r.init.lines, ['start jump', 'done jump'])
  })

  it('drops a key the fingerprint block does not list, and reports nothing before cloud-init printed the blocks', () => {
    const odd = generateEd25519('x')
    const r = parseConsoleOutput(text.replace(keys[1]!.publicKey, odd.publicKey))
    assert.deepEqual(r.hostKeys.map((k) => k.fingerprint), [keys[0]!.fingerprint])
    assert.equal(r.mismatched.length, 1)
    const early = parseConsoleOutput('[ 1.0] Linux version\n-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 AAAA')
    assert.deepEqual(early.hostKeys, [])
    assert.equal(early.init.status, 'absent')
  })
})

describe('whitelist judgement', () => {
  const rule = (cidr: string, over = {}) => ({role: 'vendor' as const, vendor: 'hevo', cidr, protocol: 'tcp', fromPort: 22, toPort: 22, description: 'bastion:vendor=hevo', ...over})
  it('reads owners from descriptions', () => {
    assert.deepEqual(ruleOwner('bastion:vendor=hevo'), {role: 'vendor', vendor: 'hevo'})
    assert.deepEqual(ruleOwner('bastion:admin'), {role: 'admin'})
    assert.deepEqual(ruleOwner('launch-wizard-1'), {role: 'unmanaged'})
    assert.deepEqual(ruleOwner('bastion:vendor=Hevo'), {role: 'unmanaged'})
  })
  it('flags /0 as fail, prefixes below /24 (v4) and /64 (v6) as wide, extra ports, and wider than asked', () => {
    const codes = (cidr: string, over = {}, expected?: string[]) => judgeRule(rule(cidr, over), {sshPort: 22, ...(expected ? {expected} : {})}).map((p) => `${p.code}:${p.severity}`)
    assert.deepEqual(codes('0.0.0.0/0'), ['anywhere:fail'])
    assert.deepEqual(codes('::/0'), ['anywhere:fail'])
    assert.deepEqual(codes('52.6.0.0/23'), ['wide:warn'])
    assert.deepEqual(codes('52.6.1.0/24'), [])
    assert.deepEqual(codes('2001:db8::/56'), ['wide:warn'])
    assert.deepEqual(codes('2001:db8::/64'), [])
    assert.deepEqual(codes('52.6.1.0/28', {}, ['52.6.1.1/32']), ['wide:warn'])
    assert.deepEqual(codes('52.6.1.1/32', {fromPort: 0, toPort: 65535}), ['ports:warn'])
    assert.deepEqual(codes('52.6.1.1/32', {protocol: 'all'}), ['ports:warn'])
    assert.deepEqual(codes('0.0.0.0/0', {fromPort: 443, toPort: 443}), [], 'another port is not the SSH whitelist')
    assert.deepEqual(codes('52.6.1.1/32', {role: 'unmanaged', description: 'office'}), ['unmanaged:warn'])
  })
  it('judges existing rules by the same width rule as the flags: 0.0.0.0/1 and 2000::/3 fail like 0.0.0.0/0, a /8 warns', () => {
    const codes = (cidr: string) => judgeRule(rule(cidr), {sshPort: 22}).map((p) => `${p.code}:${p.severity}`)
    assert.deepEqual(codes('0.0.0.0/1'), ['anywhere:fail'])
    assert.deepEqual(codes('2000::/3'), ['anywhere:fail'])
    assert.deepEqual(codes('10.0.0.0/8'), ['wide:warn'])
    assert.match(judgeRule(rule('0.0.0.0/1'), {sshPort: 22})[0]?.message ?? '', /2147483648 addresses \(1\/2 of all IPv4 addresses\) to port 22/)
  })
  it('refuses anywhere-wide --vendor-ip values by the rule add-vendor-key --vendor-ip uses, and warns about wide ones', () => {
    assert.equal(code(() => parseWhitelistCidrs(['0.0.0.0/1'], '--vendor-ip', false)), 'CIDR_ANYWHERE')
    assert.equal(code(() => parseWhitelistCidrs(['52.6.1.1/32,::/0'], '--vendor-ip', false)), 'CIDR_ANYWHERE')
    const wide = parseWhitelistCidrs(['52.6.0.0/16'], '--vendor-ip', false)
    assert.deepEqual(wide.cidrs, ['52.6.0.0/16'])
    assert.match(wide.warnings.join('\n'), /--vendor-ip 52\.6\.0\.0\/16 admits 65536 addresses/)
  })
  it('parses CIDRs as sshd would, and names', () => {
    assert.deepEqual(parseWhitelistCidrs(['52.6.1.1', '2001:db8::1', '52.6.1.0/24'], '--vendor-ip', false), {cidrs: ['52.6.1.1/32', '2001:db8::1/128', '52.6.1.0/24'], warnings: []})
    assert.equal(code(() => parseWhitelistCidrs(['52.6.1.1/24'], '--vendor-ip', false)), 'CIDR_HOST_BITS')
    assert.equal(code(() => parseWhitelistCidrs(['52.6.1'], '--vendor-ip', false)), 'CIDR')
    assert.ok(cidrContains('52.6.0.0/16', '52.6.1.0/24'))
    assert.ok(!cidrContains('52.6.1.0/24', '52.6.0.0/16'))
    assert.ok(!cidrContains('::/0', '52.6.1.1/32'))
    assert.equal(parseBastionName('warehouse-jump'), 'warehouse-jump')
    assert.equal(code(() => parseBastionName('-x')), 'BASTION_NAME')
  })
})

describe('network ACLs and routes', () => {
  const e = (ruleNumber: number, action: 'allow' | 'deny', cidr: string, ports?: [number, number], egress = false): NaclEntry => ({
    ruleNumber, egress, protocol: ports ? '6' : '-1', action, cidr, ...(ports ? {fromPort: ports[0], toPort: ports[1]} : {}),
  })
  it('evaluates rules in number order, first match wins, the rest is denied', () => {
    const entries = [e(200, 'allow', '0.0.0.0/0'), e(100, 'deny', '52.6.1.0/24', [22, 22]), e(32767, 'deny', '0.0.0.0/0')]
    assert.equal(evaluateNacl(entries, {egress: false, cidr: '52.6.1.1/32', ports: [22, 22]}).verdict, 'deny')
    assert.equal(evaluateNacl(entries, {egress: false, cidr: '52.6.2.1/32', ports: [22, 22]}).verdict, 'allow')
    const partial = evaluateNacl(entries, {egress: false, cidr: '52.6.0.0/16', ports: [22, 22]})
    assert.equal(partial.verdict, 'partial')
    assert.deepEqual(partial.partialDenies, [100])
    const ports = evaluateNacl([e(100, 'allow', '0.0.0.0/0', [32768, 60999], true)], {egress: true, cidr: '52.6.1.1/32', ports: [1024, 65535]})
    assert.deepEqual(ports.allowed, [[32768, 60999]])
    assert.deepEqual(ports.denied, [[1024, 32767], [61000, 65535]])
  })
  it('judges the default route: igw ok; NAT, blackhole or none not', () => {
    const t = (target: string, state = 'active') => ({id: 'rtb-1', main: true, routes: [{destination: '0.0.0.0/0', target, state}]})
    assert.equal(judgeDefaultRoute(t('igw-1')).ok, true)
    assert.equal(judgeDefaultRoute(t('nat-1')).ok, false)
    assert.equal(judgeDefaultRoute(t('igw-1', 'blackhole')).ok, false)
    assert.match(judgeDefaultRoute({id: 'rtb-1', main: true, routes: []}).reason, /main table.*no 0\.0\.0\.0\/0 route/)
  })
})

describe('AWS errors', () => {
  const err = (name: string, message: string, extra = {}) => Object.assign(new Error(message), {name, $metadata: {requestId: 'r-1'}, ...extra})
  it('UnauthorizedOperation names the missing action (from the message, else the operation) and the decode command', () => {
    const msg = 'You are not authorized to perform this operation. User: arn:aws:iam::1:user/x is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:eu-west-1::parameter/aws/service/canonical/x. Encoded authorization failure message: Zm9v-bar_baz'
    assert.equal(missingAction(msg), 'ssm:GetParameters')
    assert.equal(encodedAuthorizationMessage(msg), 'Zm9v-bar_baz')
    const e = mapAwsError(err('UnauthorizedOperation', msg), 'RunInstances')
    assert.equal(e.code, 'AWS_UNAUTHORIZED')
    assert.equal(e.exit, 4)
    assert.match(e.message, /ssm:GetParameters/)
    assert.ok(e.suggestions.some((s) => s.includes('docs/aws-iam-policy.json')))
    assert.ok(e.suggestions.some((s) => s.includes('aws sts decode-authorization-message --encoded-message Zm9v-bar_baz')))
    const bare = mapAwsError(err('UnauthorizedOperation', 'You are not authorized to perform this operation.'), 'AllocateAddress')
    assert.match(bare.message, /ec2:AllocateAddress/)
    assert.equal(bare.detail?.action, 'ec2:AllocateAddress')
  })
  it('maps quotas, unknown ids, credentials, region, throttling and the network to codes and exits', () => {
    const cases: [Error, string, number][] = [
      [err('InstanceLimitExceeded', 'x'), 'AWS_QUOTA', 1],
      [err('VcpuLimitExceeded', 'x'), 'AWS_QUOTA', 1],
      [err('AddressLimitExceeded', 'x'), 'AWS_QUOTA', 1],
      [err('InvalidSubnetID.NotFound', "The subnet ID 'subnet-1' does not exist"), 'AWS_SUBNET_NOT_FOUND', 2],
      [err('InvalidGroup.NotFound', 'x'), 'AWS_SECURITY_GROUP_NOT_FOUND', 2],
      [err('InvalidKeyPair.NotFound', 'x'), 'AWS_KEY_PAIR_NOT_FOUND', 2],
      [err('CredentialsProviderError', 'Could not load credentials from any providers'), 'AWS_NO_CREDENTIALS', 4],
      [err('AuthFailure', 'AWS was not able to validate the provided access credentials'), 'AWS_CREDENTIALS', 4],
      [err('ExpiredToken', 'The security token included in the request is expired'), 'AWS_CREDENTIALS', 4],
      [new Error('Region is missing'), 'AWS_REGION_MISSING', 2],
      [err('RequestLimitExceeded', 'Request limit exceeded.', {$metadata: {attempts: 8}}), 'AWS_THROTTLED', 1],
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'}), 'AWS_UNREACHABLE', 6],
      [err('SomethingNew', 'x'), 'AWS_ERROR', 1],
    ]
    for (const [e, c, exit] of cases) {
      const m = mapAwsError(e, 'RunInstances')
      assert.equal(m.code, c, e.name)
      assert.equal(m.exit, exit, e.name)
      assert.ok(m.suggestions.length > 0 || c === 'AWS_ERROR', `${c} has suggestions`)
    }
  })
})
