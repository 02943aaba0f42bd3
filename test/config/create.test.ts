/**
 * bastion create --config <file> --bastion <name> as a user runs it (the CLI, a child process): without cloud
 * credentials --dry-run calls no cloud, so its plan can be compared with the plan of the same create given the explicit
 * flags the file stands for: they must be equal, on AWS and on Azure. Flags the file decides, a plain host, a bastion
 * with several vendors and no --vendor, and an unknown bastion are refused with exit 2 and say what to do.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {runBastion} from '../cloud/cli.js'

describe('bastion create --config --bastion', () => {
  let dir: string
  let file: string
  let hevoKey: string
  let adminKey: string
  let fivetranKey: string
  let env: NodeJS.ProcessEnv

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-create-config-'))
    hevoKey = join(dir, 'hevo.pub')
    writeFileSync(hevoKey, `${generateEd25519('hevo@prod').publicKey.trim()}\n`)
    fivetranKey = generateEd25519('fivetran@prod').publicKey.trim()
    adminKey = join(dir, 'admin.pub')
    writeFileSync(adminKey, `${generateEd25519('admin').publicKey.trim()}\n`)
    file = join(dir, 'bastion.yml')
    writeFileSync(
      file,
      `version: 1
databases:
  warehouse: {host: 10.0.1.5, port: 5432}
  events: {host: 10.0.1.6, port: 5439}
vendors:
  hevo:
    cidrs: [52.6.1.1/32, 52.6.1.2]
    keys: [{file: hevo.pub, expires: 2099-06-30}]
    databases: [warehouse, events]
  fivetran: {cidrs: [35.1.1.0/24], keys: ['${fivetranKey}'], databases: [warehouse]}
bastions:
  jump:
    cloud: {provider: aws, region: eu-west-1, name: warehouse-jump}
    vendors: [hevo]
  hub:
    cloud: {provider: azure, resourceGroup: rg-data, location: westeurope, firewall: {name: fw-hub, resourceGroup: rg-hub, publicPort: 2222}}
    vendors: [hevo, fivetran]
  edge:
    cloud: {provider: azure, resourceGroup: rg-edge}
    vendors: [fivetran]
  onprem:
    ssh: {host: 192.0.2.10, user: ops}
    vendors: [hevo]
`,
    )
    // no cloud credentials, region or profile at all: --dry-run shows the plan and calls nothing
    const home = mkdtempSync(join(tmpdir(), 'bastion-create-config-home-'))
    env = {HOME: home, AWS_CONFIG_FILE: join(home, 'nope'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'nope'), AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:9'}
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_') || k.startsWith('AZURE_') || k === 'BASTION_CONFIG') env[k] = env[k] ?? undefined
  })
  after(() => {
    rmSync(dir, {recursive: true, force: true})
  })

  const run = (args: string[]) => runBastion(args, {env})

  it('on AWS, the --dry-run plan (human and --json) equals that of create with the explicit flags the file stands for', async () => {
    const fromFile = ['create', '--config', file, '--bastion', 'jump', '--subnet', 'subnet-0abc1234def567890', '--admin-cidr', '203.0.113.7', '--dry-run']
    const explicit = ['create', '--cloud', 'aws', '--name', 'warehouse-jump', '--region', 'eu-west-1', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32,52.6.1.2/32',
      '--key-file', hevoKey, '--expires', '2099-06-30', '--db', '10.0.1.5:5432', '--db', '10.0.1.6:5439', '--subnet', 'subnet-0abc1234def567890', '--admin-cidr', '203.0.113.7', '--dry-run']
    const [a, b, aj, bj] = await Promise.all([run(fromFile), run(explicit), run([...fromFile, '--json']), run([...explicit, '--json'])])
    for (const r of [a, b, aj, bj]) assert.equal(r.code, 0, r.stderr)
    assert.equal(a.stdout, b.stdout)
    assert.deepEqual(aj.json, bj.json)
    assert.equal(aj.json.cloud, 'aws')
    assert.equal(aj.json.name, 'warehouse-jump')
    assert.equal(aj.json.region, 'eu-west-1')
    for (const want of ['tcp 22 from 52.6.1.1/32  "bastion:vendor=hevo"', 'tcp 22 from 52.6.1.2/32  "bastion:vendor=hevo"', 'permitopen="10.0.1.5:5432",permitopen="10.0.1.6:5439"', 'expiry-time="20990630"'])
      assert.ok(a.stdout.includes(want), `missing: ${want}\n${a.stdout}`)
  })

  it('on Azure, --vendor chooses among the bastion\'s vendors, and the plan equals that of the explicit flags (firewall mode)', async () => {
    const fromFile = ['create', '--config', file, '--bastion', 'hub', '--vendor', 'hevo', '--subnet', 'vnet-data/snet-bastion', '--public-key-file', adminKey, '--dry-run']
    const explicit = ['create', '--cloud', 'azure', '--name', 'hub', '--resource-group', 'rg-data', '--location', 'westeurope', '--firewall', 'fw-hub',
      '--firewall-resource-group', 'rg-hub', '--public-port', '2222', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32,52.6.1.2/32', '--key-file', hevoKey,
      '--expires', '2099-06-30', '--db', '10.0.1.5:5432,10.0.1.6:5439', '--subnet', 'vnet-data/snet-bastion', '--public-key-file', adminKey, '--dry-run']
    const [a, b, aj, bj] = await Promise.all([run(fromFile), run(explicit), run([...fromFile, '--json']), run([...explicit, '--json'])])
    for (const r of [a, b, aj, bj]) assert.equal(r.code, 0, r.stderr)
    assert.equal(a.stdout, b.stdout)
    assert.deepEqual(aj.json, bj.json)
    assert.equal(aj.json.cloud, 'azure')
    assert.deepEqual(aj.json.plan.mode, {kind: 'firewall', name: 'fw-hub', resourceGroup: 'rg-hub', publicPort: 2222})
    assert.equal(aj.json.plan.resourceGroup, 'rg-data')
    assert.equal(aj.json.region, 'westeurope')
  })

  it('on Azure, a bastion without firewall: is a public-IP bastion, and its only vendor is the one set up', async () => {
    const fromFile = ['create', '--config', file, '--bastion', 'edge', '--subnet', 'vnet-data/snet-bastion', '--public-key-file', adminKey, '--dry-run', '--json']
    const [a, b] = await Promise.all([
      run(fromFile),
      run(['create', '--cloud', 'azure', '--name', 'edge', '--resource-group', 'rg-edge', '--public-ip', '--vendor', 'fivetran', '--vendor-ip', '35.1.1.0/24',
        '--key', fivetranKey, '--db', '10.0.1.5:5432',
        '--subnet', 'vnet-data/snet-bastion', '--public-key-file', adminKey, '--dry-run', '--json']),
    ])
    assert.equal(a.code, 0, a.stderr)
    assert.equal(b.code, 0, b.stderr)
    assert.deepEqual(a.json, b.json)
    assert.equal(a.json.plan.mode.kind, 'public-ip')
  })

  it('flags the file decides (--cloud, --name, --region, --vendor-ip, --key-file, --db, --resource-group …) are refused beside --config (exit 2, CONFIG_AND_FLAGS)', async () => {
    for (const extra of [
      ['--cloud', 'aws'],
      ['--name', 'other'],
      ['--region', 'eu-central-1'],
      ['--vendor-ip', '52.6.1.9/32'],
      ['--key-file', hevoKey],
      ['--db', '10.0.1.5:5432'],
      ['--resource-group', 'rg-x'],
    ]) {
      const r = await run(['create', '--config', file, '--bastion', 'jump', '--subnet', 'subnet-0abc1234def567890', ...extra, '--dry-run', '--json'])
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stdout}${r.stderr}`)
      assert.equal(r.json.error.code, 'CONFIG_AND_FLAGS', extra.join(' '))
      assert.ok(r.json.error.message.includes(extra[0]), r.json.error.message)
    }
  })

  it('a plain host of the file is refused: create makes cloud bastions only (exit 2)', async () => {
    const r = await run(['create', '--config', file, '--bastion', 'onprem', '--dry-run', '--json'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.json.error.code, 'CONFIG_NOT_CLOUD')
    assert.match(r.json.error.message, /onprem.*no cloud: section; create makes cloud bastions only/)
  })

  it('a bastion with several vendors and no --vendor is refused, listing them; a --vendor the bastion does not list too (exit 2)', async () => {
    const r = await run(['create', '--config', file, '--bastion', 'hub', '--subnet', 'vnet-data/snet-bastion', '--public-key-file', adminKey, '--dry-run', '--json'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.json.error.code, 'CONFIG_VENDOR_CHOICE')
    assert.match(r.json.error.message, /2 vendors \(hevo, fivetran\)/)
    assert.ok(r.json.error.suggestions.includes('--vendor hevo') && r.json.error.suggestions.includes('--vendor fivetran'), JSON.stringify(r.json.error))
    const other = await run(['create', '--config', file, '--bastion', 'jump', '--vendor', 'fivetran', '--subnet', 'subnet-0abc1234def567890', '--dry-run', '--json'])
    assert.equal(other.code, 2, other.stderr)
    assert.equal(other.json.error.code, 'CONFIG_VENDOR')
    assert.match(other.json.error.suggestions.join('\n'), /vendors of jump: hevo/)
  })

  it('an unknown --bastion is refused naming the bastions the file has (exit 2)', async () => {
    const r = await run(['create', '--config', file, '--bastion', 'jumpp', '--dry-run', '--json'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.json.error.code, 'CONFIG_BASTION')
    assert.match(r.json.error.suggestions.join('\n'), /bastions in the file: jump, hub, edge, onprem/)
  })

  it('an invalid config file refuses create before anything, with line and column (exit 2)', async () => {
    const bad = join(dir, 'bad.yml')
    writeFileSync(bad, 'version: 1\nbastions:\n  jump:\n    cloud: {provider: aws, region: nowhere}\n    vendors: []\n')
    const r = await run(['create', '--config', bad, '--bastion', 'jump', '--subnet', 'subnet-0abc1234def567890', '--dry-run', '--json'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.json.error.code, 'CONFIG_INVALID')
    assert.match(r.json.error.message, /bad\.yml:4:\d+: /)
  })

  it('without --config, create still needs --cloud and --name (exit 2, saying --config is the other way)', async () => {
    const r = await run(['create', '--subnet', 'subnet-0abc1234def567890', '--dry-run', '--json'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.json.error.code, 'CREATE_TARGET_MISSING')
    assert.match(r.json.error.message, /--cloud and --name.*--config with --bastion/)
  })
})
