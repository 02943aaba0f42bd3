/**
 * docs/aws-iam-policy.json stays in step with the code: every EC2 call the code makes (collected from the mock over
 * a full life cycle: create, re-run, failure and rollback, --ami, dry run, whitelist, list, doctor, destroy) is
 * allowed by the policy, and the policy allows nothing the code never calls.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {applyCreate, previewCreate} from '../../src/cloud/aws/create.js'
import {listBastions} from '../../src/cloud/aws/describe.js'
import {applyDestroy} from '../../src/cloud/aws/destroy.js'
import {gatherAwsFacts} from '../../src/cloud/aws/doctor.js'
import {whitelistAdd, whitelistList, whitelistRemove} from '../../src/cloud/aws/whitelist.js'
import {packageRoot} from '../../src/paths.js'
import {awsError, FAST, installFake, type FakeSetup} from './fake-ec2.js'
import {plan} from './helpers.js'

interface Statement {
  Sid?: string
  Effect: string
  Action: string | string[]
  Resource: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

const policy = JSON.parse(readFileSync(join(packageRoot, 'docs', 'aws-iam-policy.json'), 'utf8')) as {Version: string; Statement: Statement[]}
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v])
const allowed = new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)))

describe('docs/aws-iam-policy.json', () => {
  let s: FakeSetup
  const sent = new Set<string>()
  const tagging = new Set<string>()

  before(async () => {
    s = installFake()
    const opts = FAST
    // a failed create (rollback), a full create, a re-run, an --ami create
    s.fake.failNext('AssociateAddress', awsError('AddressLimitExceeded'))
    await applyCreate(s.client, plan(), opts).catch(() => {})
    await applyCreate(s.client, plan(), opts)
    await applyCreate(s.client, plan(), opts)
    await previewCreate(s.client, plan({vendor: {vendor: 'hevo', cidrs: ['52.6.1.9/32']}}), opts)
    await applyCreate(s.client, plan({name: 'amijump', image: {kind: 'ami', id: 'ami-0bbbbbbbbbbbbbbb1'}, keyPair: {kind: 'existing', name: 'bastion-jump'}, db: undefined}), opts)
    await whitelistAdd(s.client, 'jump', {vendor: 'fivetran', cidrs: ['35.234.176.144/29']})
    await whitelistRemove(s.client, 'jump', 'fivetran', 'all')
    await whitelistList(s.client, 'jump')
    await listBastions(s.client)
    await gatherAwsFacts(s.client, 'jump')
    await applyDestroy(s.client, 'jump', FAST)
    await applyDestroy(s.client, 'amijump', FAST)
    for (const c of s.mock.calls()) {
      const cmd = c.args[0] as {constructor: {name: string}; input: {TagSpecifications?: unknown[]}}
      const op = cmd.constructor.name.replace(/Command$/, '')
      sent.add(`ec2:${op}`)
      if (cmd.input.TagSpecifications?.length) tagging.add(op)
    }
  })
  after(() => s.restore())

  it('is a valid policy document', () => {
    assert.equal(policy.Version, '2012-10-17')
    for (const st of policy.Statement) {
      assert.equal(st.Effect, 'Allow')
      assert.ok(st.Sid && /^[A-Za-z0-9]+$/.test(st.Sid), `Sid ${st.Sid}`)
      for (const a of list(st.Action)) assert.match(a, /^(ec2|ssm):[A-Z][A-Za-z]+$/)
      for (const r of list(st.Resource)) assert.match(r, /^(\*|arn:aws:(ec2|ssm):\*:(\*)?:[a-z-]+\/\*|arn:aws:ssm:\*::parameter\/aws\/service\/.+\/\*)$/)
    }
  })

  it('allows every EC2 call the code makes', () => {
    assert.ok(sent.size >= 20, `collected ${[...sent].join(', ')}`)
    const missing = [...sent].filter((a) => !allowed.has(a))
    assert.deepEqual(missing, [], `add to docs/aws-iam-policy.json: ${missing.join(', ')}`)
  })

  it('allows nothing the code does not call (least privilege)', () => {
    const implied = new Set(['ec2:CreateTags', 'ssm:GetParameters'])
    const unused = [...allowed].filter((a) => !sent.has(a) && !implied.has(a))
    assert.deepEqual(unused, [], `not called by the code: ${unused.join(', ')}`)
  })

  it('tags may be written only while creating, by exactly the calls that send TagSpecifications', () => {
    const st = policy.Statement.find((x) => list(x.Action).includes('ec2:CreateTags'))
    assert.ok(st)
    assert.deepEqual([...list(st.Condition?.StringEquals?.['ec2:CreateAction'] ?? [])].sort(), [...tagging].sort())
  })

  it('ssm:GetParameters covers exactly the public parameters the plans resolve', () => {
    const st = policy.Statement.find((x) => list(x.Action).includes('ssm:GetParameters'))
    assert.ok(st)
    const patterns = list(st.Resource).map((r) => new RegExp(`^${r.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*/g, '[^:]*?').replace(/\[\^:\]\*\?$/, '.*')}$`))
    for (const p of [plan(), plan({image: {kind: 'al2023'}}), plan({instanceType: 't4g.micro'})]) {
      const arn = `arn:aws:ssm:eu-west-1::parameter${p.image.ssmParameter}`
      assert.ok(patterns.some((re) => re.test(arn)), arn)
    }
  })

  it('changes are confined to resources tagged managed-by=bastion (but the database group, which is yours)', () => {
    const manage = policy.Statement.find((x) => x.Sid === 'ManageOnlyResourcesTaggedManagedByBastion')
    assert.equal(manage?.Condition?.StringEquals?.['aws:ResourceTag/managed-by'], 'bastion')
    const create = policy.Statement.find((x) => x.Sid === 'CreateOnlyResourcesTaggedManagedByBastion')
    assert.equal(create?.Condition?.StringEquals?.['aws:RequestTag/managed-by'], 'bastion')
    for (const a of ['ec2:TerminateInstances', 'ec2:DeleteSecurityGroup', 'ec2:ReleaseAddress', 'ec2:DeleteKeyPair']) {
      const grants = policy.Statement.filter((x) => list(x.Action).includes(a))
      assert.ok(grants.every((g) => g.Condition?.StringEquals?.['aws:ResourceTag/managed-by'] === 'bastion'), `${a} only on tagged resources`)
    }
  })
})
