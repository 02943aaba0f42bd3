/**
 * The oclif manifest cache bin/run.js installs: computed once per build, saved next to the compiled code, used by the
 * next starts (so they import only the command being run), recomputed when a compiled file changes.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {cacheLocation, installManifestCache, newestMtime, type OclifManifest} from '../src/manifest-cache.js'
import {packageRoot} from '../src/paths.js'

/** Stands in for @oclif/core's Plugin: `_manifest()` computes a manifest (counting the calls). */
function fakePluginClass() {
  return class FakePlugin {
    static computed = 0
    isRoot = true
    version = '1.2.3'
    hasManifest = false
    commandIDs: string[] = []
    ids = ['add', 'list']
    constructor(public root: string, public pjson = {oclif: {commands: './out/src/commands'}}) {}
    async _manifest(): Promise<OclifManifest> {
      FakePlugin.computed++
      this.commandIDs = this.ids
      return {version: this.version, commands: Object.fromEntries(this.ids.slice(0, 2).map((id) => [id, {id, isESM: true}]))}
    }
  }
}

function fakeBuild(): string {
  const root = mkdtempSync(join(tmpdir(), 'bastion-manifest-'))
  mkdirSync(join(root, 'out/src/commands'), {recursive: true})
  writeFileSync(join(root, 'package.json'), '{"name":"x","version":"1.2.3"}')
  writeFileSync(join(root, 'out/src/commands/add.js'), '')
  writeFileSync(join(root, 'out/src/lib.js'), '')
  return root
}

describe('oclif manifest cache', () => {
  const roots: string[] = []
  after(() => {
    for (const r of roots) rmSync(r, {recursive: true, force: true})
  })

  it('computes the manifest once per build, saves it next to the compiled code and serves it to the next starts', async () => {
    const root = fakeBuild()
    roots.push(root)
    const Plugin = fakePluginClass()
    assert.equal(installManifestCache(Plugin), true)
    const file = cacheLocation(root, './out/src/commands').file
    assert.equal(file, join(root, 'out/oclif.manifest.json'))

    const first = new Plugin(root)
    const m1 = await first._manifest()
    assert.equal(Plugin.computed, 1)
    assert.ok(existsSync(file))

    const second = new Plugin(root)
    const m2 = await second._manifest()
    assert.equal(Plugin.computed, 1, 'the second start did not compute it again')
    assert.deepEqual(Object.keys(m2.commands), Object.keys(m1.commands))
    assert.equal(second.hasManifest, true)
    assert.deepEqual(second.commandIDs, ['add', 'list'])
  })

  it('computes it again when any compiled file is newer than the saved manifest, or package.json changed', async () => {
    const root = fakeBuild()
    roots.push(root)
    const Plugin = fakePluginClass()
    installManifestCache(Plugin)
    await new Plugin(root)._manifest()
    assert.equal(Plugin.computed, 1)

    const later = new Date(Date.now() + 60_000)
    utimesSync(join(root, 'out/src/lib.js'), later, later)
    await new Plugin(root)._manifest()
    assert.equal(Plugin.computed, 2, 'a rebuilt module makes the cache stale')
    await new Plugin(root)._manifest()
    assert.equal(Plugin.computed, 2)

    const evenLater = new Date(Date.now() + 120_000)
    utimesSync(join(root, 'package.json'), evenLater, evenLater)
    await new Plugin(root)._manifest()
    assert.equal(Plugin.computed, 3)
    assert.ok(newestMtime(join(root, 'out/src')) >= later.getTime() - 1000)
  })

  it('leaves oclif alone when the package ships its own oclif.manifest.json, and never saves a manifest missing a command', async () => {
    const root = fakeBuild()
    roots.push(root)
    const Plugin = fakePluginClass()
    installManifestCache(Plugin)
    const partial = new Plugin(root)
    partial.ids = ['add', 'list', 'broken'] // three commands found, one failed to load: two in the manifest
    await partial._manifest()
    assert.equal(existsSync(cacheLocation(root, './out/src/commands').file), false)

    writeFileSync(join(root, 'oclif.manifest.json'), '{}')
    await new Plugin(root)._manifest()
    await new Plugin(root)._manifest()
    assert.equal(Plugin.computed, 3, 'with a packaged manifest, oclif reads it itself every time')
  })

  it('bastion --help prints the same with and without the cache, and then imports no command class', () => {
    const bin = join(packageRoot, 'bin/run.js')
    const env = {...process.env, NO_COLOR: '1'}
    const plain = spawnSync(process.execPath, [bin, '--help'], {env: {...env, BASTION_NO_MANIFEST_CACHE: '1'}, encoding: 'utf8'})
    assert.equal(plain.status, 0, plain.stderr)
    spawnSync(process.execPath, [bin, '--version'], {env, encoding: 'utf8'}) // fills the cache if this build has none yet
    const pjson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {oclif: {commands: string}}
    assert.ok(existsSync(cacheLocation(packageRoot, pjson.oclif.commands).file), 'the cache was saved')

    const log = join(mkdtempSync(join(tmpdir(), 'bastion-modlog-')), 'modules.log')
    roots.push(join(log, '..'))
    const hook = `data:text/javascript,${encodeURIComponent(`
      import {registerHooks} from 'node:module'
      import {appendFileSync} from 'node:fs'
      registerHooks({resolve(s, c, next) { const r = next(s, c); if (r.url.includes('/src/commands/')) appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r }})
    `)}`
    const cached = spawnSync(process.execPath, ['--import', hook, bin, '--help'], {env, encoding: 'utf8'})
    assert.equal(cached.status, 0, cached.stderr)
    assert.equal(cached.stdout, plain.stdout)
    assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', '', 'no command module was imported for --help')
  })
})
