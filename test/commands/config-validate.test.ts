/**
 * `bastion config validate` and `bastion config schema` as a user runs them (bin/run.js in a child process): exit codes
 * 0 valid / 1 invalid / 2 usage, every --format, --strict, the file from --config, BASTION_CONFIG, ./bastion.yml or
 * FILE arguments (as pre-commit passes them), --json valid against the published schema.
 */
import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {convert} from 'xmlbuilder2'
import {packageRoot} from '../../src/paths.js'
import {runProcess, type CliRun} from '../helpers/cli.js'
import {hookArg} from '../helpers/module-log.js'
import {assertValid} from '../schema/validate.js'

const EXAMPLE = join(packageRoot, 'examples/bastion.yml')
const FIXTURES = join(packageRoot, 'test/config/fixtures')

function bastion(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliRun> {
  const full: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
  delete full.BASTION_CONFIG
  delete full.GITHUB_WORKSPACE
  Object.assign(full, env)
  return runProcess(process.execPath, [join(packageRoot, 'bin/run.js'), ...args], {cwd, env: full, json: args.includes('--json'), input})
}

/** A temp dir holding bastion.yml (the example) and, optionally, other files. */
function workdir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-cfg-'))
  copyFileSync(EXAMPLE, join(dir, 'bastion.yml'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const WIDE = readFileSync(EXAMPLE, 'utf8').replace('cidrs: [35.234.176.144/29]', 'cidrs: [35.234.0.0/16]')
const ANYWHERE = readFileSync(EXAMPLE, 'utf8').replace('cidrs: [35.234.176.144/29]', 'cidrs: [0.0.0.0/0]')

describe('bastion config validate', () => {
  it('exit 0 for the example, found as ./bastion.yml', async () => {
    const r = await bastion(['config', 'validate'], workdir())
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(r.stdout.trim(), 'bastion.yml: valid (0 errors, 0 warnings)')
  })

  it('exit 1 with file:line:col, code and fix for an invalid file; --config names it', async () => {
    const r = await bastion(['config', 'validate', '--config', 'any.yml'], workdir({'any.yml': ANYWHERE}))
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /^any\.yml:21:13: error \[cidr\.anywhere\] vendors\.fivetran\.cidrs\[0\] 0\.0\.0\.0\/0 admits the whole internet\n {4}fix: /m)
    assert.match(r.stdout, /any\.yml: invalid \(1 error, 0 warnings\)/)
  })

  it('what is piped into it is not taken for a file name (hooks and CI runners attach standard input)', async () => {
    const r = await bastion(['config', 'validate'], workdir(), {}, 'other.yml\n')
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(r.stdout.trim(), 'bastion.yml: valid (0 errors, 0 warnings)')
  })

  it('a valid file, output not to a terminal: neither zod nor chalk is loaded (start-up); an invalid one or colour loads them', async () => {
    const loaded = async (dir: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
      const log = join(mkdtempSync(join(tmpdir(), 'bastion-modlog-')), 'modules.log')
      const full: NodeJS.ProcessEnv = {...process.env}
      for (const name of ['BASTION_CONFIG', 'NO_COLOR', 'FORCE_COLOR']) delete full[name]
      Object.assign(full, env, {BASTION_TEST_MODULE_LOG: log, BASTION_TEST_MODULE_PATTERN: '/node_modules/(zod|chalk)/'})
      const r = await runProcess(process.execPath, ['--import', hookArg, join(packageRoot, 'bin/run.js'), ...args], {cwd: dir, env: full})
      const names = existsSync(log) ? readFileSync(log, 'utf8').match(/node_modules\/(zod|chalk)\//g) ?? [] : []
      return {code: r.code, out: r.stdout + r.stderr, names: [...new Set(names.map((n) => n.split('/')[1]))].sort()}
    }
    const valid = await loaded(workdir(), ['config', 'validate'])
    assert.equal(valid.code, 0, valid.out)
    assert.deepEqual(valid.names, [])
    const invalid = await loaded(workdir({'bad.yml': 'version: 2\n'}), ['config', 'validate', '--config', 'bad.yml'])
    assert.equal(invalid.code, 1, invalid.out)
    assert.deepEqual(invalid.names, ['zod'])
    const coloured = await loaded(workdir(), ['config', 'validate'], {FORCE_COLOR: '1'})
    assert.equal(coloured.code, 0, coloured.out)
    assert.deepEqual(coloured.names, ['chalk'])
  })

  it('warnings pass (exit 0) unless --strict (exit 1)', async () => {
    const dir = workdir({'wide.yml': WIDE})
    const loose = await bastion(['config', 'validate', '--config', 'wide.yml'], dir)
    assert.equal(loose.code, 0, loose.stdout + loose.stderr)
    assert.match(loose.stdout, /wide\.yml:21:13: warning \[cidr\.wide\]/)
    const strict = await bastion(['config', 'validate', '--config', 'wide.yml', '--strict'], dir)
    assert.equal(strict.code, 1, strict.stdout + strict.stderr)
  })

  it('exit 2 when the file does not exist, with what to do', async () => {
    const r = await bastion(['config', 'validate', '--config', 'nope.yml'], workdir())
    assert.equal(r.code, 2)
    assert.match(r.stderr, /the config file nope\.yml does not exist/)
    assert.equal(r.stdout, '')
  })

  it('BASTION_CONFIG names the file when --config does not', async () => {
    const r = await bastion(['config', 'validate'], workdir({'other.yml': ANYWHERE}), {BASTION_CONFIG: 'other.yml'})
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /^other\.yml:21:13: error/m)
  })

  it('FILE arguments (as pre-commit passes them) are each checked; the worst decides the exit code', async () => {
    const r = await bastion(['config', 'validate', 'bastion.yml', 'any.yml'], workdir({'any.yml': ANYWHERE}))
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /^bastion\.yml: valid/m)
    assert.match(r.stdout, /^any\.yml: invalid/m)
    assert.match(r.stdout, /config validate: 2 files, 1 error, 0 warnings/)
  })

  it('--json: the result, valid against docs/schemas/config-validate.schema.json, exit code kept', async () => {
    const r = await bastion(['config', 'validate', '--config', 'any.yml', '--json'], workdir({'any.yml': ANYWHERE}))
    assert.equal(r.code, 1)
    assert.equal(r.json.schemaVersion, 1)
    assert.equal(r.json.valid, false)
    assert.deepEqual(r.json.files[0].issues.map((i: any) => [i.code, i.line, i.column]), [['cidr.anywhere', 21, 13]])
    assertValid('config-validate', r.json)
    const same = await bastion(['config', 'validate', '--config', 'any.yml', '--format', 'json'], workdir({'any.yml': ANYWHERE}))
    assert.deepEqual(JSON.parse(same.stdout), r.json)
  })

  it('--json for a missing file: the error shape, exit 2', async () => {
    const r = await bastion(['config', 'validate', '--config', 'nope.yml', '--json'], workdir())
    assert.equal(r.code, 2)
    assert.equal(r.json.error.code, 'CONFIG_MISSING')
    assertValid('config-validate', r.json)
  })

  it('--format github: workflow commands with the path relative to GITHUB_WORKSPACE', async () => {
    const dir = workdir({'any.yml': ANYWHERE})
    const r = await bastion(['config', 'validate', '--config', 'any.yml', '--format', 'github'], dir, {GITHUB_WORKSPACE: join(dir, '..')})
    assert.equal(r.code, 1)
    const name = dir.split('/').at(-1)
    assert.equal(r.stdout.split('\n')[0], `::error file=${name}/any.yml,line=21,endLine=21,col=13,endColumn=22,title=bastion config [cidr.anywhere]::vendors.fivetran.cidrs[0] 0.0.0.0/0 admits the whole internet%0Afix: use the vendor's published egress addresses; if you really mean every address, set allowAnywhere: true on the vendor`)
  })

  it('--format github for a missing file still prints an error annotation (exit 2)', async () => {
    const r = await bastion(['config', 'validate', '--config', 'nope.yml', '--format', 'github'], workdir())
    assert.equal(r.code, 2)
    assert.match(r.stdout, /^::error title=bastion config validate::the config file nope\.yml does not exist%0Afix: /)
  })

  it('--format junit: parses, one failure; for a missing file a JUnit error (exit 2)', async () => {
    const r = await bastion(['config', 'validate', '--config', 'any.yml', '--format', 'junit'], workdir({'any.yml': ANYWHERE}))
    assert.equal(r.code, 1)
    const doc = convert(r.stdout, {format: 'object'}) as any
    assert.equal(doc.testsuites['@failures'], '1')
    const missing = await bastion(['config', 'validate', '--config', 'nope.yml', '--format', 'junit'], workdir())
    assert.equal(missing.code, 2)
    const err = convert(missing.stdout, {format: 'object'}) as any
    assert.equal(err.testsuites['@errors'], '1')
  })

  it('--format sarif: SARIF 2.1.0 with the result at its region', async () => {
    const r = await bastion(['config', 'validate', '--config', 'any.yml', '--format', 'sarif'], workdir({'any.yml': ANYWHERE}))
    assert.equal(r.code, 1)
    const sarif = JSON.parse(r.stdout)
    assert.equal(sarif.version, '2.1.0')
    assert.deepEqual(sarif.runs[0].results[0].locations[0].physicalLocation.region, {startLine: 21, startColumn: 13, endLine: 21, endColumn: 22})
  })

  it('an unknown --format is a usage error (exit 2)', async () => {
    const r = await bastion(['config', 'validate', '--format', 'xml'], workdir())
    assert.equal(r.code, 2, r.stderr)
  })

  it('schema errors of a fixture come out with line and column', async () => {
    const dir = workdir()
    copyFileSync(join(FIXTURES, 'bad-port.yml'), join(dir, 'bad-port.yml'))
    const r = await bastion(['config', 'validate', 'bad-port.yml'], dir)
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^bad-port\.yml:5:11: error \[schema\.too_big\] databases\.warehouse\.port: must be at most 65535/m)
  })
})

describe('bastion config schema', () => {
  it('prints exactly docs/schemas/bastion-config.schema.json', async () => {
    const r = await bastion(['config', 'schema'], workdir())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, readFileSync(join(packageRoot, 'docs/schemas/bastion-config.schema.json'), 'utf8'))
  })

  it('--json: the file and the schema, valid against its own published schema', async () => {
    const r = await bastion(['config', 'schema', '--json'], workdir())
    assert.equal(r.code, 0)
    assert.equal(r.json.file, 'docs/schemas/bastion-config.schema.json')
    assertValid('config-schema', r.json)
  })
})
