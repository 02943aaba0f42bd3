/**
 * The cloud commands in-process, end to end against the in-memory EC2 (the mock patches the SDK's client class, which
 * the commands load lazily): flags → provider → human output and --json, as a user sees them.
 */
import assert from 'node:assert/strict'
import {afterEach, beforeEach, describe, it} from 'node:test'
import Create from '../../src/commands/create.js'
import Destroy from '../../src/commands/destroy.js'
import List from '../../src/commands/list.js'
import WhitelistAdd from '../../src/commands/whitelist/add.js'
import WhitelistList from '../../src/commands/whitelist/list.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {installFake, type FakeSetup} from '../cloud/fake-ec2.js'
import {runCommand} from '../cloud/in-process.js'
import {tempKnownHosts} from '../cloud/helpers.js'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

let s: FakeSetup

describe('cloud commands in-process (fake EC2)', () => {
  beforeEach(async () => {
    s = installFake()
    Object.assign(s.fake, {pendingPolls: 0, statusPolls: 0, terminatePolls: 0, sgBusyPolls: 0})
  })
  afterEach(() => s.restore())

  it('create prints what it made, the host keys and the vendor form; re-running creates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-run-'))
    const vendorKey = join(dir, 'hevo.pub')
    writeFileSync(vendorKey, generateEd25519('hevo@prod').publicKey + '\n')
    const kh = tempKnownHosts()
    const args = ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32',
      '--key-file', vendorKey, '--db', '10.0.1.5:5432', '--db-security-group', 'sg-0dddddddddddddd01', '--admin-cidr', '203.0.113.7', '--known-hosts', kh]
    const r = await runCommand(Create, args)
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /^✔ bastion jump on AWS \(eu-west-1\): \d+ resource\(s\) created$/m)
    assert.match(r.out, /instance i-\S+ \(t3\.micro, latest Ubuntu 24\.04 LTS \(x86_64\), 8 GiB root\): launched/)
    assert.match(r.out, /SSH host keys: recorded 2 host key\(s\) for 3\.3\.3\.\d+ in /)
    assert.match(r.out, /user-data: done; vendor user hevo created \(uid 1001\), key added/)
    assert.match(r.out, /For hevo's "SSH tunnel" form:\n {2}SSH host: 3\.3\.3\.\d+\n {2}SSH port: 22\n {2}SSH user: hevo\n {2}Database \(host:port in the form\): 10\.0\.1\.5:5432/)
    assert.match(r.out, /warning: no --public-key-file or --key-name/)
    const again = await runCommand(Create, [...args, '--json'])
    assert.equal(again.code, 0)
    const json = JSON.parse(again.out)
    assert.ok(json.steps.every((x: {status: string}) => x.status === 'present' || x.status === 'ok'))
    assert.equal(json.vendorForm.sshUser, 'hevo')
    assert.equal(again.err, '', 'nothing on stderr under --json')
  })

  it('create --disk-size 30 sends VolumeSize 30 in the root mapping; --disk-size 4 (below the image\'s 8 GiB) exits 2 with the fix and creates nothing', async () => {
    const args = ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--admin-cidr', '203.0.113.7', '--known-hosts', tempKnownHosts()]
    const small = await runCommand(Create, [...args, '--disk-size', '4', '--json'])
    assert.equal(small.code, 2, small.out)
    const e = JSON.parse(small.out).error
    assert.equal(e.code, 'AWS_DISK_TOO_SMALL')
    assert.match(e.message, /--disk-size 4 is smaller than the root volume of the latest Ubuntu 24\.04 LTS \(x86_64\) image \(8 GiB\)/)
    assert.ok(e.suggestions.some((x: string) => x.includes('--disk-size 8')))
    assert.deepEqual(s.fake.tagged('jump'), [])
    const r = await runCommand(Create, [...args, '--disk-size', '30'])
    assert.equal(r.code, 0, r.err)
    const runs = s.mock.calls().map((c) => c.args[0] as {constructor: {name: string}; input: {BlockDeviceMappings?: unknown}}).filter((c) => c.constructor.name === 'RunInstancesCommand')
    assert.deepEqual(runs.map((c) => c.input.BlockDeviceMappings), [[{DeviceName: '/dev/sda1', Ebs: {VolumeSize: 30, Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true}}]])
    assert.match(r.out, /instance i-\S+ \(t3\.micro, latest Ubuntu 24\.04 LTS \(x86_64\), 30 GiB root\): launched/)
  })

  it('a failing create exits with the mapped error and what was rolled back (--json)', async () => {
    s.fake.failNext('RunInstances', Object.assign(new Error('You have requested more vCPU capacity than your current vCPU limit of 0 allows'), {name: 'VcpuLimitExceeded'}))
    const r = await runCommand(Create, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--admin-cidr', '203.0.113.7', '--json'])
    assert.equal(r.code, 1)
    const e = JSON.parse(r.out).error
    assert.equal(e.code, 'AWS_QUOTA')
    assert.match(e.message, /VcpuLimitExceeded[\s\S]*rolled back what this run created: security-group sg-/)
    assert.ok(e.suggestions.some((x: string) => x.includes('vCPU quota')))
    assert.deepEqual(s.fake.tagged('jump'), [])
  })

  it('create --dry-run with credentials compares with what exists and changes nothing', async () => {
    const saved = {id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY}
    process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKE'
    process.env.AWS_SECRET_ACCESS_KEY = 'fake'
    try {
      const base = ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1']
      const fresh = await runCommand(Create, [...base, '--dry-run'])
      assert.equal(fresh.code, 0, fresh.err)
      assert.match(fresh.out, /^ {2}\+ security group bastion-jump: to create, with 1 rule\n {6}\+ tcp 22 from 52\.6\.1\.1\/32 {2}"bastion:vendor=hevo"$/m)
      assert.match(fresh.out, /^ {2}\+ instance: to create \(t3\.micro, latest Ubuntu 24\.04 LTS \(x86_64\), root volume 8 GiB\)$/m)
      assert.deepEqual(s.fake.tagged('jump'), [], 'a dry run creates nothing')

      await runCommand(Create, [...base, '--known-hosts', tempKnownHosts(), '--json'])
      s.mock.resetHistory()
      const again = await runCommand(Create, [...base, '--vendor-ip', '52.6.1.2', '--dry-run', '--json'])
      assert.equal(again.code, 0, again.err)
      const changes = JSON.parse(again.out).changes as {change: string; detail: string; items?: string[]}[]
      assert.deepEqual(changes.map((c) => c.change), ['update', 'keep', 'keep'])
      assert.deepEqual(changes[0]?.items, ['tcp 22 from 52.6.1.2/32  "bastion:vendor=hevo"'])
      assert.deepEqual(s.sent().filter((op) => !op.startsWith('Describe')), [], 'only reads')
    } finally {
      for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
  })

  it('list, whitelist add, whitelist list and destroy print their results', async () => {
    await runCommand(Create, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--subnet', 'subnet-0aaaaaaaaaaaaaaa1', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--known-hosts', tempKnownHosts(), '--json'])
    const l = await runCommand(List, ['--cloud', 'aws', '--region', 'eu-west-1'])
    assert.match(l.out, /^jump\s+running\s+3\.3\.3\.\d+\s+t3\.micro\s+hevo \(1\)$/m)
    const add = await runCommand(WhitelistAdd, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.2,52.6.1.1'])
    assert.match(add.out, /\+ admit 52\.6\.1\.2\/32 on tcp 22\n {2}= 52\.6\.1\.1\/32: already admitted by vendor hevo/)
    const wl = await runCommand(WhitelistList, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--vendor-ip', '52.6.1.1'])
    assert.match(wl.out, /vendor hevo:\n {4}✔ 52\.6\.1\.1\/32 +tcp 22 {2}sgr-/)
    assert.match(wl.out, /No rule is wider than a vendor needs\./)
    const d = await runCommand(Destroy, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--confirm', 'jump'])
    assert.match(d.out, /✔ bastion jump destroyed\n {2}\+ detach Elastic IP[\s\S]*terminate instance[\s\S]*delete security group/)
    const none = await runCommand(Destroy, ['--cloud', 'aws', '--region', 'eu-west-1', '--name', 'jump', '--confirm', 'jump'])
    assert.match(none.out, /nothing to destroy/)
    assert.deepEqual(s.fake.tagged('jump'), [])
  })
})
