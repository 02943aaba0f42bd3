/**
 * The CI ecosystem files run as CI runs them: action.yml's steps (parsed with `yaml`, `${{ inputs.* }}` filled in as
 * the runner does, each `run:` executed by bash with the GITHUB_* environment) against examples/bastion.yml, and the
 * pre-commit hook's entry with file names appended as pre-commit appends them.
 */
import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join} from 'node:path'
import {describe, it} from 'node:test'
import {parse} from 'yaml'
import {packageRoot} from '../src/paths.js'
import {runProcess} from './helpers/cli.js'

interface Step {
  name?: string
  id?: string
  if?: string
  uses?: string
  shell?: string
  run?: string
  env?: Record<string, string>
  with?: Record<string, string>
}
interface Action {
  inputs: Record<string, {default?: string}>
  runs: {using: string; steps: Step[]}
}

const action = parse(readFileSync(join(packageRoot, 'action.yml'), 'utf8')) as Action
const step = (id: string): Step => {
  const s = action.runs.steps.find((x) => x.id === id)
  assert.ok(s, `action.yml has no step ${id}`)
  return s
}

/** `${{ inputs.x }}` as the runner fills it in (the input given, else its default); any other expression is refused. */
function expand(text: string, inputs: Record<string, string>): string {
  return text.replace(/\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}/g, (_, name: string) => {
    const value = inputs[name] ?? action.inputs[name]?.default
    assert.ok(value !== undefined, `no input ${name}`)
    return value
  })
}

/** A fake runner: a workspace with bastion.yml, RUNNER_TEMP, GITHUB_PATH/GITHUB_OUTPUT files, the action at packageRoot. */
function runner(configText: string) {
  const root = mkdtempSync(join(tmpdir(), 'bastion-gha-'))
  const workspace = join(root, 'repo')
  const temp = join(root, 'temp')
  mkdirSync(workspace)
  mkdirSync(temp)
  writeFileSync(join(workspace, 'bastion.yml'), configText)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTION_PATH: packageRoot,
    GITHUB_PATH: join(temp, 'path.txt'),
    GITHUB_OUTPUT: join(temp, 'output.txt'),
    RUNNER_TEMP: temp,
    // What actions/setup-node gives the next steps: Node 22 or later first on PATH.
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
  }
  delete env.BASTION_CONFIG
  writeFileSync(env.GITHUB_PATH as string, '')
  return {workspace, env}
}

/** Run one step's `run:` with bash, its env: expanded, PATH extended by what earlier steps wrote to GITHUB_PATH. */
async function runStep(s: Step, r: ReturnType<typeof runner>, inputs: Record<string, string> = {}) {
  assert.equal(s.shell, 'bash')
  assert.ok(s.run)
  const added = readFileSync(r.env.GITHUB_PATH as string, 'utf8').split('\n').filter(Boolean).reverse()
  const env: NodeJS.ProcessEnv = {...r.env, PATH: [...added, r.env.PATH].join(delimiter)}
  for (const [k, v] of Object.entries(s.env ?? {})) env[k] = expand(v, inputs)
  // The runner's bash: `bash --noprofile --norc -eo pipefail {0}`.
  return runProcess('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', s.run], {env, cwd: r.workspace})
}

const EXAMPLE = readFileSync(join(packageRoot, 'examples/bastion.yml'), 'utf8')

describe('action.yml (GitHub Action)', () => {
  it('is a composite action: setup-node with Node 22+, build from its own checkout, validate with --format github', () => {
    assert.equal(action.runs.using, 'composite')
    const setup = action.runs.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))
    assert.ok(setup)
    assert.ok(Number(expand(setup.with?.['node-version'] ?? '', {})) >= 22)
    const build = action.runs.steps.find((s) => s.run?.includes('npm ci'))
    assert.match(build?.run ?? '', /npm ci[^\n]*\n\s*npm run build/)
    assert.equal((build as {'working-directory'?: string})['working-directory'], '${{ github.action_path }}')
    assert.match(step('validate').run ?? '', /config validate --config "\$BASTION_CONFIG_FILE" --format github/)
  })

  it('no step interpolates an input into its script (inputs reach the shell through env:)', () => {
    for (const s of action.runs.steps) assert.doesNotMatch(s.run ?? '', /\$\{\{/, s.name)
  })

  it("the install and validate steps, run as the runner runs them, pass on examples/bastion.yml", async () => {
    const r = runner(EXAMPLE)
    const install = await runStep(step('install'), r)
    assert.equal(install.code, 0, install.stderr)
    assert.ok(existsSync(join(r.env.RUNNER_TEMP as string, 'bastion-bin', 'bastion')))
    const v = await runStep(step('validate'), r)
    assert.equal(v.code, 0, v.stdout + v.stderr)
    assert.equal(v.stdout.trim(), 'bastion config validate: 1 file, 0 errors, 0 warnings: valid')
  })

  it('an invalid file fails the step with an annotation at the line; strict: true fails on a warning', async () => {
    const r = runner(EXAMPLE.replace('cidrs: [35.234.176.144/29]', 'cidrs: [0.0.0.0/0]'))
    await runStep(step('install'), r)
    const v = await runStep(step('validate'), r)
    assert.equal(v.code, 1)
    assert.match(v.stdout, /^::error file=bastion\.yml,line=21,endLine=21,col=13,endColumn=22,title=bastion config \[cidr\.anywhere\]::/m)

    const w = runner(EXAMPLE.replace('cidrs: [35.234.176.144/29]', 'cidrs: [35.234.0.0/16]'))
    await runStep(step('install'), w)
    assert.equal((await runStep(step('validate'), w)).code, 0)
    const strict = await runStep(step('validate'), w, {strict: 'true'})
    assert.equal(strict.code, 1)
    assert.match(strict.stdout, /^::warning file=bastion\.yml,line=21,/m)
  })

  it('the config input names another file', async () => {
    const r = runner(EXAMPLE)
    copyFileSync(join(packageRoot, 'test/config/fixtures/bad-port.yml'), join(r.workspace, 'infra.yml'))
    await runStep(step('install'), r)
    const v = await runStep(step('validate'), r, {config: 'infra.yml'})
    assert.equal(v.code, 1)
    assert.match(v.stdout, /^::error file=infra\.yml,line=5,endLine=5,col=11,endColumn=16,title=bastion config \[schema\.too_big\]::/m)
  })

  it('doctor runs only when asked, as bastion doctor --config <file> --format junit into the junit file', () => {
    const doctor = step('doctor')
    assert.equal(doctor.if, "inputs.doctor == 'true'")
    assert.equal(action.inputs.doctor?.default, 'false')
    assert.match(doctor.run ?? '', /^bastion doctor --config "\$BASTION_CONFIG_FILE" --format junit > "\$BASTION_JUNIT"$/m)
    assert.equal(doctor.env?.BASTION_JUNIT, '${{ inputs.junit }}')
  })
})

describe('.pre-commit-hooks.yaml', () => {
  const hooks = parse(readFileSync(join(packageRoot, '.pre-commit-hooks.yaml'), 'utf8')) as {id: string; entry: string; files: string; language: string; pass_filenames?: boolean}[]
  const hook = hooks.find((h) => h.id === 'bastion-config-validate')

  it('declares bastion-config-validate for bastion.yml files anywhere in the repository', () => {
    assert.ok(hook)
    assert.equal(hook.language, 'node')
    assert.notEqual(hook.pass_filenames, false)
    const files = new RegExp(hook.files)
    for (const f of ['bastion.yml', 'infra/bastion.yml', 'bastion.yaml']) assert.match(f, files)
    for (const f of ['notbastion.yml', 'bastion.yml.bak', 'infra/bastion.json']) assert.doesNotMatch(f, files)
  })

  it('its entry, with the staged files appended, validates each one and fails on a bad one', async () => {
    assert.ok(hook)
    const r = runner(EXAMPLE)
    mkdirSync(join(r.workspace, 'infra'))
    writeFileSync(join(r.workspace, 'infra', 'bastion.yml'), EXAMPLE.replace('port: 5432', 'port: 70000'))
    await runStep(step('install'), r)
    const added = readFileSync(r.env.GITHUB_PATH as string, 'utf8').trim()
    const env: NodeJS.ProcessEnv = {...r.env, PATH: `${added}${delimiter}${r.env.PATH}`}
    delete env.GITHUB_WORKSPACE
    const [cmd, ...args] = hook.entry.split(' ')
    const ok = await runProcess(cmd as string, [...args, 'bastion.yml'], {env, cwd: r.workspace})
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    const bad = await runProcess(cmd as string, [...args, 'bastion.yml', 'infra/bastion.yml'], {env, cwd: r.workspace})
    assert.equal(bad.code, 1)
    assert.match(bad.stdout, /^infra\/bastion\.yml:8:11: error \[schema\.too_big\]/m)
  })
})

describe('docs/ci.md', () => {
  const doc = readFileSync(join(packageRoot, 'docs/ci.md'), 'utf8')
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string)

  it('every YAML example parses', () => {
    assert.ok(blocks.length >= 5)
    for (const b of blocks) {
      // The code-scanning snippet is a job to paste under `jobs:`; indented, it parses as a mapping too.
      parse(b, {prettyErrors: true})
    }
  })

  it('the workflows give the Action only inputs it has, and the GitLab jobs report JUnit', () => {
    const uses = blocks.flatMap((b) => {
      const found: Record<string, unknown>[] = []
      const walk = (x: unknown): void => {
        if (Array.isArray(x)) x.forEach(walk)
        else if (x && typeof x === 'object') {
          const o = x as Record<string, unknown>
          if (typeof o.uses === 'string' && o.uses.startsWith('OWNER/bastion@')) found.push(o)
          Object.values(o).forEach(walk)
        }
      }
      walk(parse(b))
      return found
    })
    assert.ok(uses.length >= 3)
    for (const u of uses) for (const k of Object.keys((u.with as object | undefined) ?? {})) assert.ok(k in action.inputs, `unknown input ${k}`)
    const gitlab = blocks.map((b) => parse(b) as Record<string, any>).find((b) => b.stages)
    assert.equal(gitlab?.['bastion-validate']?.artifacts?.reports?.junit, 'bastion-validate.xml')
    assert.equal(gitlab?.['bastion-doctor']?.artifacts?.reports?.junit, 'bastion-doctor.xml')
    assert.match(gitlab?.['bastion-doctor']?.script.join('\n'), /bastion doctor --config bastion\.yml --format junit > bastion-doctor\.xml/)
  })

  it('the GitLab validate line, run as the job runs it, writes a JUnit report and fails on an invalid file', async () => {
    const gitlab = blocks.map((b) => parse(b) as Record<string, any>).find((b) => b.stages)
    const line = (gitlab?.['bastion-validate']?.script as string[]).find((l) => l.includes('config validate'))
    assert.ok(line)
    for (const [text, code] of [[EXAMPLE, 0], [EXAMPLE.replace('cidrs: [35.234.176.144/29]', 'cidrs: [0.0.0.0/0]'), 1]] as const) {
      const r = runner(text)
      await runStep(step('install'), r)
      const added = readFileSync(r.env.GITHUB_PATH as string, 'utf8').trim()
      const res = await runProcess('sh', ['-c', line], {env: {...r.env, PATH: `${added}${delimiter}${r.env.PATH}`}, cwd: r.workspace})
      assert.equal(res.code, code, res.stdout + res.stderr)
      assert.match(readFileSync(join(r.workspace, 'bastion-validate.xml'), 'utf8'), /<testsuites name="bastion config validate"/)
    }
  })
})
