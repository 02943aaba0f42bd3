/**
 * One seam per cloud: a cloud registered at run time (test/cloud/fake-provider.ts, nothing in src/ changed for it)
 * drives the real commands — create, list, whitelist add|remove|list, destroy, doctor --cloud — in-process; --cloud
 * refuses unknown and unbuilt clouds and flags of another cloud with exit 2; no module outside a cloud's folder and the
 * registry imports one.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative, sep} from 'node:path'
import {afterEach, before, beforeEach, describe, it} from 'node:test'
import Create from '../../src/commands/create.js'
import Destroy from '../../src/commands/destroy.js'
import Doctor from '../../src/commands/doctor.js'
import List from '../../src/commands/list.js'
import WhitelistAdd from '../../src/commands/whitelist/add.js'
import WhitelistList from '../../src/commands/whitelist/list.js'
import WhitelistRemove from '../../src/commands/whitelist/remove.js'
import {registerCloud} from '../../src/cloud/registry.js'
import {parseKnownHosts} from '../../src/ssh/known-hosts.js'
import {BastionError} from '../../src/errors.js'
import {packageRoot} from '../../src/paths.js'
import {FAKE_REGION, FakeCloud} from './fake-provider.js'
import {tempKnownHosts} from './helpers.js'
import {runCommand} from './in-process.js'

describe('a cloud registered through the seam drives the real commands', () => {
  let fake: FakeCloud
  let unregister: () => void
  beforeEach(() => {
    fake = new FakeCloud()
    unregister = fake.register()
  })
  afterEach(() => unregister())

  it('create makes the bastion, and the host keys the provider read are recorded in known_hosts by the command, not the provider', async () => {
    const kh = tempKnownHosts()
    const args = ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--admin-cidr', '203.0.113.7', '--known-hosts', kh]
    const r = await runCommand(Create, args)
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /^✔ bastion jump on Fake Cloud \(fake-region-1\): 3 resource\(s\) created$/m)
    assert.match(r.out, /\+ SSH from 52\.6\.1\.1\/32: added/)
    assert.match(r.out, /SSH host keys: recorded 2 host key\(s\) for 198\.51\.100\.1 in /)
    assert.match(r.out, /For hevo's "SSH tunnel" form:\n {2}SSH host: 198\.51\.100\.1\n {2}SSH port: 22\n {2}SSH user: hevo/)
    const entries = parseKnownHosts(readFileSync(kh, 'utf8'))
    assert.deepEqual(entries.map((e) => [e.hosts, e.fingerprint]), fake.consoleKeys.map((k) => ['198.51.100.1', k.fingerprint]))

    const again = await runCommand(Create, [...args, '--json'])
    assert.equal(again.code, 0, again.err)
    assert.equal(again.json.hostKeys.status, 'present', 'a re-run finds the keys in known_hosts and does not add them twice')
    assert.equal(parseKnownHosts(readFileSync(kh, 'utf8')).length, 2)
    assert.deepEqual(again.json.steps.map((s: {status: string}) => s.status), ['present'])
  })

  it('list, whitelist add, whitelist list, whitelist remove and destroy print the provider\'s results', async () => {
    await runCommand(Create, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--known-hosts', tempKnownHosts(), '--json'])
    const l = await runCommand(List, ['--cloud', 'fake'])
    assert.match(l.out, /^jump\s+running\s+198\.51\.100\.1\s+fake\.small\s+hevo \(1\)$/m)
    const lj = await runCommand(List, ['--cloud', 'fake', '--json'])
    assert.deepEqual([lj.json.cloud, lj.json.region, lj.json.bastions.length], ['fake', FAKE_REGION, 1])

    const add = await runCommand(WhitelistAdd, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.2,52.6.1.1'])
    assert.match(add.out, /bastion jump \(fw-jump\), vendor hevo\n {2}\+ admit 52\.6\.1\.2\/32 on tcp 22\n {2}= 52\.6\.1\.1\/32: already admitted by vendor hevo/)
    const wl = await runCommand(WhitelistList, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo'])
    assert.match(wl.out, /vendor hevo:\n {4}✔ 52\.6\.1\.1\/32 +tcp 22 {2}rule-\d+\n {4}✔ 52\.6\.1\.2\/32/)
    const rm = await runCommand(WhitelistRemove, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--json'])
    assert.deepEqual(rm.json.removed.map((x: {cidr: string}) => x.cidr), ['52.6.1.1/32'])
    assert.deepEqual(fake.bastions.get('jump')?.rules.map((x) => x.cidr), ['52.6.1.2/32'])

    const d = await runCommand(Destroy, ['--cloud', 'fake', '--name', 'jump', '--confirm', 'jump'])
    assert.match(d.out, /✔ bastion jump destroyed\n {2}\+ deleted fake host jump\n\nIts host keys stay in known_hosts; remove them with: ssh-keygen -R 198\.51\.100\.1/)
    const none = await runCommand(Destroy, ['--cloud', 'fake', '--name', 'jump', '--confirm', 'jump'])
    assert.equal(none.out.trim(), 'Nothing tagged bastion:name=jump on Fake Cloud (fake-region-1): nothing to destroy.')
    const empty = await runCommand(List, ['--cloud', 'fake'])
    assert.equal(empty.out.trim(), 'No bastions on Fake Cloud in fake-region-1 (nothing tagged managed-by=bastion).')
  })

  it('doctor --cloud runs the provider\'s checks on its facts and reports them as the entry <cloud>:<name>', async () => {
    await runCommand(Create, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--known-hosts', tempKnownHosts(), '--json'])
    const ok = await runCommand(Doctor, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32', '--json'])
    assert.equal(ok.code, 0, ok.out)
    assert.deepEqual([ok.json.hosts[0].host, ok.json.hosts[0].about, ok.json.hosts[0].findings.map((f: {status: string}) => f.status)], ['fake:jump', 'Fake Cloud fake-region-1, 198.51.100.1', ['pass']])
    const bad = await runCommand(Doctor, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '35.234.176.144/29', '--json'])
    assert.equal(bad.code, 1)
    assert.equal(bad.json.hosts[0].findings[0].fix.command, 'bastion whitelist add --cloud fake --name jump --vendor hevo --vendor-ip 35.234.176.144/29')
    const ghost = await runCommand(Doctor, ['--cloud', 'fake', '--name', 'ghost', '--vendor', 'hevo', '--json'])
    assert.equal(ghost.code, 2, 'a cloud side that could not be read is not a pass')
    assert.deepEqual([ghost.json.hosts[0].ran, ghost.json.hosts[0].error.code], [false, 'BASTION_NOT_FOUND'])
  })

  it('create --dry-run without credentials shows the intent and opens no provider; with them, what would change', async () => {
    fake.credentials = false
    const intent = await runCommand(Create, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--dry-run'])
    assert.equal(intent.out.trim(), 'Fake plan for jump in fake-region-1:\n  admit 52.6.1.1/32 "bastion:vendor=hevo"')
    assert.deepEqual(fake.calls, [])
    const intentJson = await runCommand(Create, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--dry-run', '--json'])
    assert.deepEqual(Object.keys(intentJson.json), ['schemaVersion', 'dryRun', 'cloud', 'name', 'region', 'plan', 'warnings'])

    fake.credentials = true
    fake.bastions.set('jump', {name: 'jump', publicIp: '198.51.100.9', rules: []})
    const preview = await runCommand(Create, ['--cloud', 'fake', '--name', 'jump', '--vendor', 'hevo', '--vendor-ip', '52.6.1.1', '--dry-run'])
    assert.match(preview.out, /^Plan for bastion jump on Fake Cloud \(fake-region-1\) — dry run: compared with what exists, nothing was changed\n\n {2}~ fake bastion jump: exists, 1 rule\(s\) to add\n {6}\+ 52\.6\.1\.1\/32\n/)
    assert.match(preview.out, /Without --dry-run, create makes the \+ and ~ changes/)
    assert.deepEqual(fake.calls, ['preview'])
    assert.deepEqual(fake.bastions.get('jump')?.rules, [], 'nothing changed')
  })

  it('a flag only another cloud reads is refused with exit 2, naming the cloud that reads it', async () => {
    const list = await runCommand(List, ['--cloud', 'fake', '--region', 'eu-west-1', '--json'])
    assert.equal(list.code, 2)
    assert.equal(list.json.error.code, 'CLOUD_FLAG')
    assert.equal(list.json.error.message, '--region is a flag of --cloud aws; --cloud fake does not read it')
    const create = await runCommand(Create, ['--cloud', 'fake', '--name', 'jump', '--no-eip', '--dry-run', '--json'])
    assert.equal(create.json.error.code, 'CLOUD_FLAG')
    assert.match(create.json.error.message, /^--eip is a flag of --cloud aws/)
    assert.deepEqual(fake.calls, [])
  })

  it('a cloud may read only flags the commands have, and a name is registered once', () => {
    const entry = {name: 'odd', title: 'Odd', flags: {}, createFlags: {}, load: async () => fake.module()}
    assert.throws(() => registerCloud({...entry, name: 'fake'}), (e: BastionError) => e.code === 'CLOUD_REGISTERED')
    assert.throws(() => registerCloud({...entry, flags: {project: {} as never}}), (e: BastionError) => e.code === 'CLOUD_FLAGS' && /project/.test(e.message))
  })
})

describe('--cloud names a cloud bastion has, or says what to do', () => {
  for (const [cloud, title] of [['gcp', 'Google Cloud']] as const) {
    it(`--cloud ${cloud} is not built yet: exit 2, what, why and what to do, on every cloud command`, async () => {
      for (const [cmd, args] of [
        [Create, ['--name', 'jump', '--dry-run']],
        [List, []],
        [Destroy, ['--name', 'jump', '--confirm', 'jump']],
        [WhitelistList, ['--name', 'jump']],
        [Doctor, ['--name', 'jump', '--vendor', 'hevo']],
      ] as const) {
        const r = await runCommand(cmd, ['--cloud', cloud, ...args, '--json'])
        assert.equal(r.code, 2, `${cloud}: ${r.out}`)
        assert.equal(r.json.error.code, 'CLOUD_NOT_BUILT')
        assert.equal(r.json.error.message, `--cloud ${cloud}: bastion cannot create or manage bastions on ${title} yet: no ${title} provider is built in (bastion knows aws, azure)`)
        assert.deepEqual(r.json.error.suggestions.slice(0, 2), ['--cloud aws', '--cloud azure'])
        assert.match(r.json.error.suggestions[2], /bastion add-vendor-key --host <host>/)
      }
    })
  }

  it('a flag of another cloud is refused: --region (AWS) with --cloud azure, --resource-group (Azure) with --cloud aws', async () => {
    const a = await runCommand(List, ['--cloud', 'azure', '--region', 'eu-west-1', '--json'])
    assert.equal(a.code, 2, a.out)
    assert.deepEqual([a.json.error.code, a.json.error.message], ['CLOUD_FLAG', '--region is a flag of --cloud aws; --cloud azure does not read it'])
    const b = await runCommand(Create, ['--cloud', 'aws', '--name', 'jump', '--resource-group', 'rg', '--dry-run', '--json'])
    assert.equal(b.code, 2, b.out)
    assert.equal(b.json.error.code, 'CLOUD_FLAG')
  })

  it('an unknown --cloud lists the clouds bastion knows', async () => {
    const r = await runCommand(List, ['--cloud', 'digitalocean', '--json'])
    assert.equal(r.code, 2)
    assert.deepEqual([r.json.error.code, r.json.error.message], ['CLOUD_UNKNOWN', '--cloud "digitalocean" is not a cloud bastion knows (aws, azure; not built yet: gcp)'])
  })
})

describe('the seam is the only way to a cloud', () => {
  const src = join(packageRoot, 'src')
  const files: string[] = []
  before(() => {
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, {withFileTypes: true})) {
        const p = join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (e.name.endsWith('.ts')) files.push(p)
      }
    }
    walk(src)
  })

  it('no source module outside src/cloud/<cloud>/ but the registry imports from a cloud\'s folder, not even its types', () => {
    const cloudDirs = readdirSync(join(src, 'cloud'), {withFileTypes: true}).filter((e) => e.isDirectory()).map((e) => e.name)
    assert.ok(cloudDirs.includes('aws') && files.length > 50, `${cloudDirs.join(', ')}; ${files.length} files`)
    const offenders: string[] = []
    for (const f of files) {
      const rel = relative(src, f)
      if (rel === join('cloud', 'registry.ts') || cloudDirs.some((d) => rel.startsWith(join('cloud', d) + sep))) continue
      const text = readFileSync(f, 'utf8')
      for (const d of cloudDirs) if (new RegExp(`(from\\s*|import\\s*\\(\\s*)['"][./]*(cloud/)?${d}/`).test(text)) offenders.push(`${rel} → ${d}/`)
    }
    assert.deepEqual(offenders, [])
  })
})
