/** bastion doctor --cloud aws: the real SDK stack against a local EC2-compatible endpoint, beside a lab host's checks. */
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {startEndpoint} from '../cloud/ec2-endpoint.js'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli} from '../helpers/cli.js'

function fakeAws(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v
  const home = mkdtempSync(join(tmpdir(), 'bastion-aws-'))
  return {
    ...env, HOME: home, AWS_ENDPOINT_URL: url, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true',
  }
}

describe('bastion doctor --cloud aws', () => {
  let ep: Awaited<ReturnType<typeof startEndpoint>>
  let lab: LabHost
  before(async () => {
    ep = await startEndpoint()
    lab = await startLab()
  })
  after(async () => {
    await ep?.close()
    await lab?.stop()
  })

  it('judges the security group, address and instance through the EC2 API, in the same report as the host', async () => {
    const home = isolatedHome()
    const key = makeKey('ed25519', 'hevo')
    const conn = connectionArgs(lab)
    const add = await runCli(['add-vendor-key', ...conn, '--vendor', 'hevo', '--key-file', key.publicPath, '--db', `${lab.db.host}:${lab.db.port}`], {home})
    assert.equal(add.code, 0, add.stderr)
    const r = await runCli(
      ['doctor', '--cloud', 'aws', '--name', 'jump', ...conn, '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32', '--db', `${lab.db.host}:${lab.db.port}`, '--json'],
      {home, env: fakeAws(ep.url)},
    )
    assert.ok(r.json, r.stdout + r.stderr)
    const [cloud, host] = r.json.hosts
    assert.equal(cloud.host, 'aws:jump')
    assert.equal(cloud.ran, true, JSON.stringify(cloud.error))
    const status = (id: string) => cloud.findings.filter((f: {id: string}) => f.id === id).map((f: {status: string}) => f.status)
    assert.deepEqual(status('cloud.aws.instance.running'), ['pass'])
    assert.deepEqual(status('cloud.aws.sg.vendor_cidr'), ['pass'])
    assert.deepEqual(status('cloud.aws.address.stable'), ['pass'])
    assert.equal(host.host, `${lab.adminUser}@${lab.address}`)
    assert.equal(host.ran, true)
    assert.ok(ep.state.requests.some((q) => q.action === 'DescribeSecurityGroupRules'))
  })

  it('a vendor CIDR missing from the security group fails with the whitelist command that fixes it', async () => {
    const r = await runCli(['doctor', '--cloud', 'aws', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '35.234.176.144/29', '--json'], {env: fakeAws(ep.url)})
    assert.equal(r.code, 1, r.stdout + r.stderr)
    const f = r.json.hosts[0].findings.find((x: {id: string; status: string}) => x.id === 'cloud.aws.sg.vendor_cidr' && x.status === 'fail')
    assert.ok(f, JSON.stringify(r.json.hosts[0].findings))
    assert.match(f.fix.command, /bastion whitelist add .*--vendor-ip '?35\.234\.176\.144\/29/)
  })

  it('without credentials the cloud entry could not run: exit 2 with the reason', async () => {
    const env = fakeAws(ep.url)
    delete env.AWS_ACCESS_KEY_ID
    delete env.AWS_SECRET_ACCESS_KEY
    const r = await runCli(['doctor', '--cloud', 'aws', '--name', 'jump', '--vendor', 'hevo', '--json'], {env})
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.equal(r.json.hosts[0].ran, false)
    assert.match(r.json.hosts[0].error.message, /credential/i)
  })

  it('needs --name with --cloud, and something to check', async () => {
    assert.equal((await runCli(['doctor', '--vendor', 'hevo'])).code, 2)
    assert.equal((await runCli(['doctor', '--cloud', 'aws', '--vendor', 'hevo'])).code, 2)
  })
})
