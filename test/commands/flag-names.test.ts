/**
 * One flag name per meaning on every command, and one way to give a list: --vendor-ip (the vendor's source addresses),
 * --db (the database destinations), --key-file/--key (the vendor's public key), --known-hosts (repeatable). The old
 * names (--from, --permit-open, --cidr, --vendor-key-file, --vendor-key) still work, hidden, with a deprecation
 * warning. Nothing here connects anywhere: add-vendor-key runs with --dry-run, create --dry-run without credentials,
 * doctor and whitelist stop at bad input.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {isolatedHome, makeKey, runCli, type CliRun, type TestKey} from '../helpers/cli.js'

/** An environment with no AWS configuration at all: no credentials, no region, no profile files. */
function noAws(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v
  return {...env, HOME: home, AWS_CONFIG_FILE: join(home, 'nope'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'nope'), AWS_EC2_METADATA_DISABLED: 'true'}
}

const deprecation = (old: string, now: string) => `--${old} is deprecated and will be removed in the next release: use --${now} (the same flag)`
const oneLine = (r: CliRun) => r.stderr.replace(/\s*\n\s*›?\s*/g, ' ')

describe('flag names: one name per meaning, lists repeated or comma-separated everywhere', () => {
  let home: string
  let dir: string
  const key: TestKey = makeKey('ed25519', 'hevo@prod')
  const add = (...args: string[]) => ['add-vendor-key', '--host', 'admin@127.0.0.1', '--vendor', 'hevo', '--key-file', key.publicPath, '--dry-run', ...args]
  const create = (...args: string[]) => ['create', '--cloud', 'aws', '--name', 'jump', '--subnet', 'subnet-0abc1234def567890', '--vendor', 'hevo', '--dry-run', ...args]

  before(() => {
    home = isolatedHome()
    dir = mkdtempSync(join(tmpdir(), 'bastion-flag-names-'))
  })
  after(() => {
    rmSync(home, {recursive: true, force: true})
    rmSync(dir, {recursive: true, force: true})
  })

  it('add-vendor-key --vendor-ip and --db take a comma list and repeats alike, and write the same key line', async () => {
    const comma = await runCli(add('--vendor-ip', '52.6.1.1,52.6.1.2/32', '--db', '10.0.1.5:5432,[fd00::5]:5432', '--json'), {home})
    const repeated = await runCli(add('--vendor-ip', '52.6.1.1', '--vendor-ip', '52.6.1.2/32', '--db', '10.0.1.5:5432', '--db', '[fd00::5]:5432', '--json'), {home})
    assert.equal(comma.code, 0, comma.stderr + comma.stdout)
    assert.equal(repeated.code, 0, repeated.stderr + repeated.stdout)
    assert.match(comma.json.line, /^restrict,port-forwarding,permitopen="10\.0\.1\.5:5432",permitopen="\[fd00::5\]:5432",from="52\.6\.1\.1,52\.6\.1\.2\/32",command="\/bin\/false" /)
    assert.equal(comma.json.line, repeated.json.line)
    assert.deepEqual(comma.json.warnings, [])
  })

  it('add-vendor-key --from and --permit-open still work, write the same line as the new names and warn on stderr and in --json warnings', async () => {
    const now = await runCli(add('--vendor-ip', '52.6.1.1', '--db', '10.0.1.5:5432', '--json'), {home})
    const old = await runCli(add('--from', '52.6.1.1', '--permit-open', '10.0.1.5:5432', '--json'), {home})
    assert.equal(old.code, 0, old.stderr + old.stdout)
    assert.equal(old.json.line, now.json.line)
    assert.deepEqual(old.json.warnings, [deprecation('permit-open', 'db'), deprecation('from', 'vendor-ip')])
    const human = await runCli(add('--from=52.6.1.1', '--permit-open', '10.0.1.5:5432'), {home})
    assert.equal(human.code, 0, human.stderr)
    assert.match(oneLine(human), /Warning: --permit-open is deprecated and will be removed in the next release: use --db \(the same flag\)/)
    assert.match(oneLine(human), /Warning: --from is deprecated and will be removed in the next release: use --vendor-ip \(the same flag\)/)
  })

  it('create --dry-run takes --key-file, --db and a comma list of --vendor-ip, with the same plan as repeats', async () => {
    const env = noAws(home)
    const comma = await runCli(create('--vendor-ip', '52.6.1.1,52.6.1.2', '--key-file', key.publicPath, '--db', '10.0.1.5:5432', '--json'), {env})
    const repeated = await runCli(create('--vendor-ip', '52.6.1.1', '--vendor-ip', '52.6.1.2', '--key-file', key.publicPath, '--db', '10.0.1.5:5432', '--json'), {env})
    assert.equal(comma.code, 0, comma.stderr + comma.stdout)
    assert.deepEqual(comma.json.plan.ingress.map((r: {cidr: string}) => r.cidr), ['52.6.1.1/32', '52.6.1.2/32'])
    assert.deepEqual(comma.json.plan, repeated.json.plan)
    assert.ok(!comma.json.warnings.some((w: string) => w.includes('deprecated')), comma.json.warnings.join('\n'))
  })

  it('create --vendor-key-file, --vendor-key and --permit-open still work, with the plan of the new names and a deprecation warning each', async () => {
    const env = noAws(home)
    const now = await runCli(create('--vendor-ip', '52.6.1.1', '--key-file', key.publicPath, '--db', '10.0.1.5:5432', '--json'), {env})
    const old = await runCli(create('--vendor-ip', '52.6.1.1', '--vendor-key-file', key.publicPath, '--permit-open', '10.0.1.5:5432', '--json'), {env})
    assert.equal(old.code, 0, old.stderr + old.stdout)
    assert.deepEqual(old.json.plan, now.json.plan)
    assert.ok(old.json.warnings.includes(deprecation('permit-open', 'db')), old.json.warnings.join('\n'))
    assert.ok(old.json.warnings.includes(deprecation('vendor-key-file', 'key-file')), old.json.warnings.join('\n'))
    const text = await runCli(create('--vendor-ip', '52.6.1.1', '--vendor-key', key.publicText.trim(), '--db', '10.0.1.5:5432'), {env})
    assert.equal(text.code, 0, text.stderr)
    assert.match(oneLine(text), /Warning: --vendor-key is deprecated and will be removed in the next release: use --key \(the same flag\)/)
  })

  it('create takes --known-hosts more than once, like the SSH commands', async () => {
    const r = await runCli(create('--vendor-ip', '52.6.1.1', '--known-hosts', join(dir, 'a'), '--known-hosts', join(dir, 'b'), '--json'), {env: noAws(home)})
    assert.equal(r.code, 0, r.stderr + r.stdout)
  })

  it('whitelist add --cidr still parses as --vendor-ip: a bad piece of its comma list is refused naming --vendor-ip', async () => {
    const r = await runCli(['whitelist', 'add', '--cloud', 'aws', '--name', 'jump', '--vendor', 'hevo', '--cidr', '52.6.1.1,52.6.1.5/24', '--json'], {env: noAws(home)})
    assert.equal(r.code, 2, r.stderr + r.stdout)
    assert.equal(r.json?.error.code, 'CIDR_HOST_BITS', r.stdout)
    assert.match(r.json.error.message, /^--vendor-ip "52\.6\.1\.5\/24" has host bits set/)
    const human = await runCli(['whitelist', 'add', '--cloud', 'aws', '--name', 'jump', '--vendor', 'hevo', '--cidr', '52.6.1.5/24'], {env: noAws(home)})
    assert.match(oneLine(human), /Warning: --cidr is deprecated and will be removed in the next release: use --vendor-ip \(the same flag\)/)
  })

  it('a bad piece of a --vendor-ip comma list gets the same refusal from add-vendor-key, create, doctor and whitelist add', async () => {
    const bad = ['--vendor-ip', '52.6.1.1,52.6.1.5/24', '--json']
    const runs = [
      await runCli(add('--db', '10.0.1.5:5432', ...bad), {home}),
      await runCli(create(...bad), {env: noAws(home)}),
      await runCli(['doctor', '--host', 'admin@127.0.0.1', '--vendor', 'hevo', ...bad], {home}),
      await runCli(['whitelist', 'add', '--cloud', 'aws', '--name', 'jump', '--vendor', 'hevo', ...bad], {env: noAws(home)}),
    ]
    for (const r of runs) {
      assert.equal(r.code, 2, r.stderr + r.stdout)
      assert.equal(r.json?.error.code, 'CIDR_HOST_BITS', r.stdout)
      assert.match(r.json.error.message, /^--vendor-ip "52\.6\.1\.5\/24" has host bits set/)
      // the suggestions name that one address or the network the user wrote, never anything wider
      assert.deepEqual(r.json.error.suggestions, ['--vendor-ip 52.6.1.0/24', '--vendor-ip 52.6.1.5/32 for that single address'])
    }
  })

  it('a bad piece of a --db comma list gets the same refusal from add-vendor-key, create and doctor', async () => {
    const bad = ['--db', '10.0.1.5:5432,db.internal', '--json']
    const runs = [
      await runCli(add(...bad), {home}),
      await runCli(create('--vendor-ip', '52.6.1.1', '--key-file', key.publicPath, ...bad), {env: noAws(home)}),
      await runCli(['doctor', '--host', 'admin@127.0.0.1', '--vendor', 'hevo', ...bad], {home}),
    ]
    for (const r of runs) {
      assert.equal(r.code, 2, r.stderr + r.stdout)
      assert.equal(r.json?.error.code, 'HOST_PORT', r.stdout)
      assert.match(r.json.error.message, /^--db "db\.internal" has no port/)
    }
  })

  it('doctor takes the vendor key as text with --key, refusing a bad one and --key with --key-file before connecting', async () => {
    const bad = await runCli(['doctor', '--host', 'admin@127.0.0.1', '--vendor', 'hevo', '--key', 'not a key', '--json'], {home})
    assert.equal(bad.code, 2, bad.stderr + bad.stdout)
    assert.match(bad.json?.error.message, /--key/, bad.stdout)
    const twice = await runCli(['doctor', '--host', 'admin@127.0.0.1', '--vendor', 'hevo', '--key', key.publicText.trim(), '--key-file', key.publicPath, '--json'], {home})
    assert.equal(twice.code, 2, twice.stderr + twice.stdout)
    assert.equal(twice.json?.error.code, 'KEY_TWICE', twice.stdout)
  })

  it('--help shows only the new names', async () => {
    for (const [cmd, old] of [
      [['add-vendor-key'], ['--from', '--permit-open']],
      [['create'], ['--permit-open', '--vendor-key']],
      [['whitelist', 'add'], ['--cidr ']],
      [['whitelist', 'remove'], ['--cidr ']],
      [['whitelist', 'list'], ['--cidr ']],
    ] as const) {
      const r = await runCli([...cmd, '--help'], {home})
      assert.equal(r.code, 0, r.stderr)
      for (const o of old) assert.ok(!r.stdout.includes(o), `${cmd.join(' ')} --help shows ${o}`)
      assert.ok(r.stdout.includes('--vendor-ip'), `${cmd.join(' ')} --help lacks --vendor-ip`)
    }
  })
})
