/**
 * The package as users install a CLI: `npm pack`, a global install into a prefix of its own, then the installed
 * `bastion` run from another directory by an unprivileged user — and nothing written into the install.
 * The tarball is packed from a staging copy of exactly the files package.json lists (the manifest made there, as
 * `prepack` does), so the checkout's dist/ that other tests run from is never rebuilt underneath them.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {packageRoot} from '../src/paths.js'
import {makeKey} from './helpers/cli.js'

const pjson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {version: string; files: string[]}
const outDir = join(dirname(new URL(import.meta.url).pathname), '..')
const asRoot = process.getuid?.() === 0
/** nobody/nogroup: the unprivileged user who runs the installed CLI when the test runs as root. */
const NOBODY = {uid: 65534, gid: 65534}

function sh(cmd: string, args: string[], opts: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(cmd, args, {encoding: 'utf8', timeout: 300_000, maxBuffer: 512 * 1024 * 1024, ...opts})
  return {status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
}

/** Every file of the install with size and mtime: equal before and after means nothing was written into it. */
function snapshot(dir: string): string {
  return sh('find', [dir, '-printf', '%p %s %T@ %m\\n']).stdout.split('\n').sort().join('\n')
}

describe('the npm package stands alone', () => {
  let work: string
  let install: string
  let bin: string
  let before0: string
  const nodeDir = dirname(process.execPath)

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'bastion-pack-'))
    chmodSync(work, 0o755)
    const stage = join(work, 'stage')
    for (const f of pjson.files) {
      const src = f === 'dist/src' ? join(outDir, 'src') : join(packageRoot, f)
      if (f === 'oclif.manifest.json') continue
      cpSync(src, join(stage, f), {recursive: true})
    }
    cpSync(join(packageRoot, 'package.json'), join(stage, 'package.json'))
    cpSync(join(outDir, 'scripts', 'manifest.js'), join(stage, 'dist', 'scripts', 'manifest.js'))
    symlinkSync(join(packageRoot, 'node_modules'), join(stage, 'node_modules'))
    const m = sh(process.execPath, [join(stage, 'dist', 'scripts', 'manifest.js')], {cwd: stage})
    assert.equal(m.status, 0, m.stderr)
    rmSync(join(stage, 'node_modules'))
    rmSync(join(stage, 'dist', 'scripts'), {recursive: true, force: true})
    const env = {...process.env, PATH: `${nodeDir}:${process.env.PATH ?? ''}`, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false'}
    const packed = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', work], {cwd: stage, env})
    assert.equal(packed.status, 0, packed.stderr)
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')) ?? '')
    install = join(work, 'prefix')
    const inst = sh('npm', ['install', '-g', '--prefix', install, '--prefer-offline', '--no-audit', '--no-fund', tarball], {env})
    assert.equal(inst.status, 0, inst.stderr)
    bin = join(install, 'bin', 'bastion')
    before0 = snapshot(install)
  })
  after(() => {
    if (work) rmSync(work, {recursive: true, force: true})
  })

  /** Run the installed bastion from a directory of its own, as nobody when the test runs as root. */
  function bastion(args: string[]): {status: number | null; stdout: string; stderr: string} {
    const cwd = mkdtempSync(join(work, 'cwd-'))
    const home = join(cwd, 'home')
    mkdirSync(join(home, '.ssh'), {recursive: true})
    const env = {PATH: `${nodeDir}:/usr/bin:/bin`, HOME: home, NO_COLOR: '1', LANG: 'C.UTF-8'}
    if (!asRoot) return sh(bin, args, {cwd, env})
    spawnSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, cwd])
    return sh('setpriv', [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--', bin, ...args], {cwd, env})
  }

  it('ships the docs doctor points to, the IAM policy, the license and a manifest, and no test or build files', () => {
    const root = join(install, 'lib', 'node_modules', 'bastion')
    for (const f of ['docs/checks.md', 'docs/aws-iam-policy.json', 'LICENSE', 'oclif.manifest.json', 'templates/lib.sh', 'dist/src/commands/doctor.js']) {
      assert.ok(existsSync(join(root, f)), `${f} is missing from the package`)
    }
    for (const f of ['test', 'dist/test', 'scripts', 'tsconfig.json', '.ci']) assert.ok(!existsSync(join(root, f)), `${f} should not be in the package`)
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {version: string; commands: Record<string, unknown>}
    assert.equal(manifest.version, pjson.version)
    assert.ok('add-vendor-key' in manifest.commands && 'doctor' in manifest.commands)
  })

  it('--version, --help and doctor --help run from another directory as an unprivileged user', () => {
    const v = bastion(['--version'])
    assert.equal(v.status, 0, v.stderr)
    assert.match(v.stdout, new RegExp(`^bastion/${pjson.version.replace(/\./g, '\\.')} `))
    const help = bastion(['--help'])
    assert.equal(help.status, 0, help.stderr)
    assert.match(help.stdout, /add-vendor-key/)
    const doctor = bastion(['doctor', '--help'])
    assert.equal(doctor.status, 0, doctor.stderr)
    assert.match(doctor.stdout, /docs\/checks\.md/)
  })

  it('add-vendor-key --dry-run renders its remote script from the installed templates', () => {
    const key = makeKey('ed25519', 'hevo@prod')
    const keyCopy = join(work, 'hevo.pub')
    cpSync(key.publicPath, keyCopy)
    if (asRoot) chownSync(keyCopy, NOBODY.uid, NOBODY.gid)
    const r = bastion(['add-vendor-key', '--host', '127.0.0.1:1', '--vendor', 'hevo', '--key-file', keyCopy, '--db', '10.0.1.5:5432', '--dry-run', '--json'])
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout) as {script: string; line: string}
    assert.match(out.script, /^#!\/bin\/sh/)
    assert.match(out.line, /command="\/bin\/false"/)
  })

  it('nothing is ever written into the install', () => {
    bastion(['--version'])
    bastion(['list-vendor-keys', '--help'])
    assert.match(before0, /\/lib\/node_modules\/bastion\/package\.json \d+ /, 'the snapshot lists the whole install')
    const now = snapshot(install)
    const changed = now.split('\n').filter((l) => !before0.split('\n').includes(l))
    assert.deepEqual(changed, [], 'files written into the install')
  })
})
