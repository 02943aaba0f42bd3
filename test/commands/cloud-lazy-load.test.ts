/**
 * The AWS SDK (about 2 MB of JavaScript) is loaded only by commands that talk to AWS. A module-resolution hook in the
 * child process (node --import, module.registerHooks) logs every module resolved under @aws-sdk/; `--help`,
 * `add-vendor-key --help` and `create --dry-run` must log none, `list --cloud aws` must (the control). `config
 * validate` and `config schema` are offline: no cloud SDK at all, and not even ssh2 or listr2.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, existsSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {packageRoot} from '../../src/paths.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {commandsDir, outDir, runBastion} from '../cloud/cli.js'
import {HOOK, hookArg} from '../helpers/module-log.js'

async function sdkModulesLoadedBy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{code: number | null; loaded: string[]; out: string}> {
  const log = join(mkdtempSync(join(tmpdir(), 'bastion-modlog-')), 'modules.log')
  const r = await runBastion(args, {env: {...env, BASTION_TEST_MODULE_LOG: log}, nodeArgs: ['--import', hookArg]})
  const loaded = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []
  return {code: r.code, loaded, out: r.stdout + r.stderr}
}

describe('the AWS SDK is loaded lazily', () => {
  it('bastion --help loads every command\'s class but not the SDK', async () => {
    const r = await sdkModulesLoadedBy(['--help'])
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /create\s+Create a bastion host/)
    assert.deepEqual(r.loaded, [])
  })

  it('bin/run.js --help itself does not load it (when this build is the one bin/run.js runs)', {skip: commandsDir !== join(packageRoot, 'dist', 'src', 'commands') && 'this build is not dist/'}, () => {
    const log = join(mkdtempSync(join(tmpdir(), 'bastion-modlog-')), 'modules.log')
    const r = spawnSync(process.execPath, ['--import', hookArg, join(packageRoot, 'bin', 'run.js'), '--help'], {env: {...process.env, BASTION_TEST_MODULE_LOG: log}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /create\s+Create a bastion host/)
    assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', '')
  })

  it('add-vendor-key --help and create --help do not load it', async () => {
    for (const cmd of ['add-vendor-key', 'create', 'whitelist add']) {
      const r = await sdkModulesLoadedBy([...cmd.split(' '), '--help'])
      assert.equal(r.code, 0, r.out)
      assert.deepEqual(r.loaded, [], cmd)
    }
  })

  it('create --dry-run without credentials does not load it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bastion-noaws-'))
    const env: NodeJS.ProcessEnv = {HOME: home, AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none')}
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_') && !(k in env)) env[k] = undefined
    const r = await sdkModulesLoadedBy(['create', '--cloud', 'aws', '--name', 'j', '--subnet', 'subnet-0abc1234def567890', '--dry-run'], env)
    assert.equal(r.code, 0, r.out)
    assert.deepEqual(r.loaded, [])
  })

  it('control: list --cloud aws does load it (so the hook sees the SDK when it is loaded)', async () => {
    const r = await sdkModulesLoadedBy(['list', '--cloud', 'aws', '--region', 'eu-west-1'], {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_MAX_ATTEMPTS: '1',
    })
    assert.ok(r.loaded.some((u) => u.includes('/@aws-sdk/client-ec2/')), r.out)
  })

  it('create --cloud azure --dry-run without credentials loads no Azure SDK (and shows the plan)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bastion-noazure-'))
    const key = join(home, 'admin.pub')
    writeFileSync(key, generateEd25519('me@laptop').publicKey)
    const env: NodeJS.ProcessEnv = {HOME: home, AZURE_CONFIG_DIR: join(home, '.azure'), PATH: dirname(process.execPath)}
    for (const k of Object.keys(process.env)) if (k.startsWith('AZURE_') && !(k in env)) env[k] = undefined
    const r = await sdkModulesLoadedBy(
      ['create', '--cloud', 'azure', '--name', 'j', '--resource-group', 'rg', '--subnet', 'vnet/snet', '--firewall', 'fw', '--public-key-file', key, '--dry-run'],
      env,
    )
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /DNAT rule collection bastion-j/)
    assert.deepEqual(r.loaded, [])
  })

  it('control: list --cloud azure does load the Azure SDK', async () => {
    const r = await sdkModulesLoadedBy(['list', '--cloud', 'azure'], {
      AZURE_SUBSCRIPTION_ID: '11111111-2222-3333-4444-555555555555',
      AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://127.0.0.1:9',
      AZURE_TOKEN_CREDENTIALS: 'AzureCliCredential',
      PATH: dirname(process.execPath),
    })
    assert.ok(r.loaded.some((u) => u.includes('/@azure/arm-network/')), r.out)
  })

  it('no compiled source module but cloud/azure/client.js names an Azure SDK outside a type import', () => {
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, {withFileTypes: true})) {
        const p = join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (e.name.endsWith('.js') && !p.endsWith(join('cloud', 'azure', 'client.js')) && /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]@azure\//.test(readFileSync(p, 'utf8'))) offenders.push(p)
      }
    }
    walk(join(outDir, 'src'))
    assert.deepEqual(offenders, [])
  })

  it('importing the add-vendor-key command module alone does not load it', () => {
    const script = `${HOOK}\nawait import(${JSON.stringify(join(commandsDir, 'add-vendor-key.js'))})`
    const log = join(mkdtempSync(join(tmpdir(), 'bastion-modlog-')), 'modules.log')
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env: {...process.env, BASTION_TEST_MODULE_LOG: log}, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', '')
  })

  it('config validate and config schema are offline: no cloud SDK (AWS, Azure), no ssh2, no listr2, no xmlbuilder2', {skip: commandsDir !== join(packageRoot, 'dist', 'src', 'commands') && 'this build is not dist/'}, () => {
    // Through bin/run.js, as users run it: with the manifest cache oclif imports only the command being run.
    const env = {...process.env, BASTION_TEST_MODULE_PATTERN: '/(@aws-sdk|@azure|ssh2|listr2|xmlbuilder2)/'}
    const bin = join(packageRoot, 'bin', 'run.js')
    spawnSync(process.execPath, [bin, '--version'], {env, encoding: 'utf8'}) // makes the manifest cache if this build has none yet
    const example = join(packageRoot, 'examples', 'bastion.yml')
    for (const args of [
      ['config', 'validate', '--config', example],
      ['config', 'validate', '--config', example, '--format', 'sarif'],
      ['config', 'validate', '--config', example, '--format', 'github'],
      ['config', 'schema'],
    ]) {
      const log = join(mkdtempSync(join(tmpdir(), 'bastion-modlog-')), 'modules.log')
      const r = spawnSync(process.execPath, ['--import', hookArg, bin, ...args], {env: {...env, BASTION_TEST_MODULE_LOG: log}, encoding: 'utf8'})
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', '', args.join(' '))
    }
  })

  it('control: the wider pattern does see ssh2 when a command loads it (bastion --help loads every command class)', async () => {
    const r = await sdkModulesLoadedBy(['--help'], {BASTION_TEST_MODULE_PATTERN: '/(@aws-sdk|@azure|ssh2|listr2|xmlbuilder2)/'})
    assert.equal(r.code, 0, r.out)
    assert.ok(r.loaded.some((u) => u.includes('/ssh2/')), r.out)
  })

  it('no compiled source module but cloud/aws/sdk.js names the SDK outside a type import', () => {
    const offenders: string[] = []
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, {withFileTypes: true})) {
        const p = join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (e.name.endsWith('.js') && !p.endsWith(join('cloud', 'aws', 'sdk.js')) && /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]@aws-sdk\//.test(readFileSync(p, 'utf8'))) offenders.push(p)
      }
    }
    walk(join(outDir, 'src'))
    assert.deepEqual(offenders, [])
  })
})
