/**
 * The cloud commands as a user runs them (a child process, oclif's loader): create --dry-run without credentials needs
 * no AWS at all, with them it only reads; usage errors exit 2; list and whitelist reach an EC2-compatible endpoint
 * through AWS_ENDPOINT_URL, retrying throttled calls; destroy insists on --confirm.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {runBastion} from '../cloud/cli.js'
import {startEndpoint} from '../cloud/ec2-endpoint.js'

/** An environment with no AWS configuration at all: no credentials, no region, no profile files. */
function noAws(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'bastion-noaws-'))
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v
  return {...env, HOME: home, AWS_CONFIG_FILE: join(home, 'nope'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'nope'), AWS_EC2_METADATA_DISABLED: 'true', ...extra}
}

const ALL_AWS_KEYS = (env: NodeJS.ProcessEnv) => Object.keys(env).filter((k) => k.startsWith('AWS_'))

describe('bastion create (CLI)', () => {
  let ep: Awaited<ReturnType<typeof startEndpoint>>
  let keyFile: string
  before(async () => {
    ep = await startEndpoint()
    const dir = mkdtempSync(join(tmpdir(), 'bastion-create-'))
    keyFile = join(dir, 'hevo.pub')
    writeFileSync(keyFile, `${generateEd25519('hevo@prod').publicKey}\n`)
  })
  after(async () => {
    await ep.close()
  })

  it('--dry-run prints the full plan without credentials and without any AWS call', async () => {
    // the endpoint is there only to catch a call that must not happen
    const env = noAws({AWS_ENDPOINT_URL: ep.url})
    const r = await runBastion(
      ['create', '--cloud', 'aws', '--name', 'warehouse-jump', '--subnet', 'subnet-0abc1234def567890', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32',
        '--key-file', keyFile, '--db', '10.0.1.5:5432', '--db-security-group', 'sg-0123456789abcdef0', '--admin-cidr', '203.0.113.7', '--dry-run'],
      {env},
    )
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(ep.state.requests, [])
    for (const want of [
      'dry run: no AWS call was made',
      'tcp 22 from 52.6.1.1/32  "bastion:vendor=hevo"',
      'tcp 22 from 203.0.113.7/32  "bastion:admin"',
      'resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
      'IMDSv2 required',
      'sg-0123456789abcdef0: admit the bastion\'s security group on tcp 5432',
      'SSH user: hevo',
      '#!/bin/sh',
      'MaxStartups 50:30:100',
      'restrict,port-forwarding,permitopen="10.0.1.5:5432",command="/bin/false" ssh-ed25519 ',
    ])
      assert.ok(r.stdout.includes(want), `missing: ${want}`)
    assert.ok(ALL_AWS_KEYS(env).every((k) => !/KEY|TOKEN|REGION|PROFILE/.test(k)))
  })

  it('--dry-run --json returns the plan as data', async () => {
    const r = await runBastion(['create', '--cloud', 'aws', '--name', 'j', '--subnet', 'subnet-0abc1234def567890', '--region', 'eu-central-1', '--dry-run', '--json'], {env: noAws()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.dryRun, true)
    assert.equal(r.json.region, 'eu-central-1')
    assert.equal(r.json.plan.instance.metadataOptions.HttpTokens, 'required')
    assert.deepEqual(r.json.plan.ingress, [])
    assert.match(r.json.warnings.join('\n'), /no --admin-cidr/)
    assert.equal(r.stderr, '')
  })

  it('--disk-size shows in the --dry-run plan (human and --json); a size that is not whole GiB from 1 to 16384 exits 2 with the fix', async () => {
    const base = ['create', '--cloud', 'aws', '--name', 'j', '--subnet', 'subnet-0abc1234def567890', '--dry-run']
    const human = await runBastion([...base, '--disk-size', '20'], {env: noAws()})
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^ {4}root volume: 20 GiB \(--disk-size; at least the AMI's own root size\), gp3, encrypted, deleted with the instance$/m)
    const json = await runBastion([...base, '--disk-size', '20', '--json'], {env: noAws()})
    assert.equal(json.json.plan.instance.rootVolume.sizeGiB, 20)
    const dflt = await runBastion(base, {env: noAws()})
    assert.match(dflt.stdout, /root volume: the AMI's own root size \(8 GiB for this image family\); --disk-size to choose/)
    const bad = await runBastion([...base, '--disk-size', '100000', '--json'], {env: noAws()})
    assert.equal(bad.code, 2)
    assert.equal(bad.json.error.code, 'DISK_SIZE')
    assert.ok(bad.json.error.suggestions.some((s: string) => s.includes('--disk-size 20')))
  })

  it('refuses 0.0.0.0/0 without --allow-anywhere, with exit 2 and the fix', async () => {
    const r = await runBastion(['create', '--cloud', 'aws', '--name', 'j', '--subnet', 'subnet-0abc1234def567890', '--vendor', 'hevo', '--vendor-ip', '0.0.0.0/0', '--dry-run', '--json'], {env: noAws()})
    assert.equal(r.code, 2)
    assert.equal(r.json.error.code, 'CIDR_ANYWHERE')
    assert.ok(r.json.error.suggestions.some((s: string) => s.includes('--allow-anywhere')))
  })

  it('without credentials a real run fails with AWS_NO_CREDENTIALS (exit 4) and says how to configure them', async () => {
    const r = await runBastion(['list', '--cloud', 'aws', '--region', 'eu-west-1', '--json'], {env: noAws({AWS_ENDPOINT_URL: ep.url})})
    assert.equal(r.code, 4, r.stdout + r.stderr)
    assert.equal(r.json.error.code, 'AWS_NO_CREDENTIALS')
    assert.ok(r.json.error.suggestions.some((s: string) => s.includes('aws configure')))
  })

  it('without a region: AWS_REGION_MISSING, exit 2', async () => {
    const r = await runBastion(['list', '--cloud', 'aws', '--json'], {env: noAws({AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 's', AWS_ENDPOINT_URL: ep.url})})
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.equal(r.json.error.code, 'AWS_REGION_MISSING')
  })
})

describe('bastion list / whitelist / destroy (CLI, against a local EC2-compatible endpoint)', () => {
  let ep: Awaited<ReturnType<typeof startEndpoint>>
  const env = () => noAws({AWS_ENDPOINT_URL: ep.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1'})
  before(async () => {
    ep = await startEndpoint()
  })
  after(async () => {
    await ep.close()
  })

  it('list goes to AWS_ENDPOINT_URL, survives a throttled call, and reports state, address and vendors', async () => {
    ep.state.throttle = 1
    const r = await runBastion(['list', '--cloud', 'aws', '--json'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.region, 'eu-west-1')
    assert.deepEqual(r.json.bastions.map((b: any) => [b.name, b.state, b.address.publicIp, b.vendors]), [['jump', 'running', '3.3.3.3', [{vendor: 'hevo', cidrs: ['52.6.1.1/32']}]]])
    assert.ok(ep.state.requests.length >= 6, 'one throttled call was retried')
    const human = await runBastion(['list', '--cloud', 'aws'], {env: env()})
    assert.match(human.stdout, /^NAME\s+STATE\s+ADDRESS\s+TYPE\s+VENDORS/m)
    assert.match(human.stdout, /^jump\s+running\s+3\.3\.3\.3\s+t3\.micro\s+hevo \(1\)$/m)
  })

  it('create --dry-run with credentials reads what exists (Describe calls only) and says what create would change', async () => {
    ep.state.requests = []
    const r = await runBastion(
      ['create', '--cloud', 'aws', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32', '--vendor-ip', '52.6.1.2/32', '--dry-run'],
      {env: env()},
    )
    assert.equal(r.code, 0, r.stderr)
    assert.ok(ep.state.requests.length > 0)
    assert.deepEqual(ep.state.requests.filter((q) => !q.action.startsWith('Describe')), [])
    assert.match(r.stdout, /^Plan for bastion jump on AWS \(eu-west-1\) — dry run: compared with what exists, nothing was changed$/m)
    assert.match(r.stdout, /^ {2}~ security group bastion-jump \(sg-1\): exists, 1 rule to add\n {6}\+ tcp 22 from 52\.6\.1\.2\/32 {2}"bastion:vendor=hevo"$/m)
    assert.match(r.stdout, /^ {2}= instance i-0123456789abcdef0 \(t3\.micro\): exists, running$/m)
    assert.match(r.stdout, /^ {2}= Elastic IP 3\.3\.3\.3: exists, associated with i-0123456789abcdef0$/m)
    const json = await runBastion(['create', '--cloud', 'aws', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--dry-run', '--json'], {env: env()})
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual([json.json.dryRun, json.json.region, json.json.plan.securityGroup.groupName], [true, 'eu-west-1', 'bastion-jump'])
    assert.ok(json.json.changes.some((c: {change: string; detail: string}) => c.change === 'keep' && c.detail.startsWith('security group bastion-jump (sg-1)')))
  })

  it('whitelist list shows the rules per vendor', async () => {
    const r = await runBastion(['whitelist', 'list', '--cloud', 'aws', '--name', 'jump', '--json'], {env: env()})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.json.rules.map((x: any) => [x.vendor, x.cidr, x.problems]), [['hevo', '52.6.1.1/32', []]])
    assert.equal(r.json.flagged, 0)
  })

  it('whitelist remove needs --vendor-ip or --all; destroy needs --confirm to repeat the name', async () => {
    const w = await runBastion(['whitelist', 'remove', '--cloud', 'aws', '--name', 'jump', '--vendor', 'hevo', '--json'], {env: env()})
    assert.equal(w.code, 2)
    assert.equal(w.json.error.code, 'CIDR_MISSING')
    const d = await runBastion(['destroy', '--cloud', 'aws', '--name', 'jump', '--confirm', 'jum', '--json'], {env: env()})
    assert.equal(d.code, 2)
    assert.equal(d.json.error.code, 'CONFIRM_MISMATCH')
    const before = ep.state.requests.length
    const none = await runBastion(['destroy', '--cloud', 'aws', '--name', 'jump', '--json'], {env: env()})
    assert.equal(none.code, 2, 'missing --confirm is a usage error')
    assert.equal(ep.state.requests.length, before, 'no AWS call for a refused destroy')
  })
})
