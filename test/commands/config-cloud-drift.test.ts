/**
 * An AWS bastion in bastion.yml: doctor --config compares its security group (the provider's whitelist view, from the
 * in-memory EC2) with the vendors' CIDRs in the file, beside the host's checks on a lab host; apply adds the missing
 * rule, --prune removes the stale bastion rule, and rules bastion did not write (and the admin rule) stay.
 */
import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {applyCreate} from '../../src/cloud/aws/create.js'
import Apply from '../../src/commands/apply.js'
import Doctor from '../../src/commands/doctor.js'
import {FAST, installFake, type FakeSetup} from '../cloud/fake-ec2.js'
import {plan} from '../cloud/helpers.js'
import {runCommand} from '../cloud/in-process.js'
import {startLab, type LabHost} from '../lab/lab.js'
import {makeKey} from '../helpers/cli.js'
import {writeDriftConfig} from '../helpers/drift-config.js'

interface F {
  id: string
  status: string
  title: string
}

describe('bastion.yml with an AWS bastion: allowlist drift through the provider', () => {
  let s: FakeSetup
  let lab: LabHost
  let dir: string
  let file: string
  const hevo = makeKey('ed25519', 'hevo@prod')

  before(async () => {
    s = installFake()
    await applyCreate(s.client, plan(), FAST) // rules: hevo 52.6.1.1/32 and 52.6.1.2/32, admin 203.0.113.7/32
    const sg = [...s.fake.rules.values()].find((r) => r.Description === 'bastion:vendor=hevo')?.GroupId ?? ''
    s.fake.rules.set('sgr-byhand', {SecurityGroupRuleId: 'sgr-byhand', GroupId: sg, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '198.51.100.0/24', Description: 'office', Tags: []})
    lab = await startLab({db: 'tcp'})
    ;({dir, file} = writeDriftConfig(lab, hevo.publicPath, ['cloud: {provider: aws, region: eu-west-1}']))
  })
  after(async () => {
    s?.restore()
    await lab?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  const ruleCidrs = () => [...s.fake.rules.values()].filter((r) => !r.IsEgress && r.FromPort === 22).map((r) => `${r.CidrIpv4} ${r.Description ?? ''}`).sort()

  it('doctor --config reports the missing rule, the stale bastion rule and the unmanaged rule, beside the host and cloud checks', async () => {
    const r = await runCommand(Doctor, ['--config', file, '--json'])
    assert.equal(r.code, 1, r.out)
    assert.deepEqual(r.json.hosts.map((h: {host: string}) => h.host), ['jump', 'jump/hevo', 'aws:jump'])
    const drift = (r.json.hosts[0].findings as F[]).filter((f) => f.id.startsWith('drift.rule.') && f.status !== 'pass').map((f) => `${f.id} ${f.status} ${f.title}`)
    assert.deepEqual(drift.sort(), [
      'drift.rule.missing fail the allowlist admits hevo from 52.6.1.9/32',
      'drift.rule.stale fail rule hevo 52.6.1.2/32 is in the file',
      'drift.rule.unmanaged warn rule 198.51.100.0/24 in front of the SSH port is managed',
    ])
    assert.equal(r.json.hosts[2].ran, true, JSON.stringify(r.json.hosts[2].error))
  })

  it('apply --dry-run shows + for the missing rule, and - for the stale one only with --prune; nothing changes', async () => {
    const before = ruleCidrs()
    const plain = await runCommand(Apply, ['--config', file, '--dry-run'])
    assert.match(plain.out, /^ {2}allowlist \(sg-\S+\)\n {4}\+ rule hevo 52\.6\.1\.9\/32$/m)
    assert.match(plain.out, /rule hevo 52\.6\.1\.2\/32 was written by bastion and is not in the file: kept \(--prune removes it\)/)
    assert.match(plain.out, /rule 198\.51\.100\.0\/24 \(office\) was not written by bastion: never touched/)
    const pruning = await runCommand(Apply, ['--config', file, '--dry-run', '--prune', '--json'])
    const rules = pruning.json.bastions[0].changes.filter((c: {target: string}) => c.target === 'allowlist').map((c: {text: string}) => c.text)
    assert.deepEqual(rules, ['+ rule hevo 52.6.1.9/32', '- rule hevo 52.6.1.2/32'])
    assert.deepEqual(ruleCidrs(), before)
  })

  it('apply --prune converges the rules (never the unmanaged or admin rule) and the host; doctor --config then finds no drift', async () => {
    const r = await runCommand(Apply, ['--config', file, '--prune', '--json'])
    assert.equal(r.code, 0, r.out)
    assert.deepEqual(r.json.bastions[0].changes.map((c: {text: string; status: string}) => `${c.text.split('  ')[0]} ${c.status}`).map((t: string) => t.replace(/SHA256:\S+ /, '')), [
      '+ hevo key (ED25519 hevo@prod) done',
      '+ rule hevo 52.6.1.9/32 done',
      '- rule hevo 52.6.1.2/32 done',
    ])
    assert.deepEqual(ruleCidrs(), ['198.51.100.0/24 office', '203.0.113.7/32 bastion:admin', '52.6.1.1/32 bastion:vendor=hevo', '52.6.1.9/32 bastion:vendor=hevo'])
    const d = await runCommand(Doctor, ['--config', file, '--json'])
    const drift = (d.json.hosts[0].findings as F[]).filter((f) => f.status !== 'pass').map((f) => f.id)
    assert.deepEqual(drift, ['drift.rule.unmanaged'])
  })
})
