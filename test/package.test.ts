/**
 * The package's own scripts: `npm run test:unit` names only test files that exist, and leaves out exactly the tests
 * that need a lab host or a real sshd (which `npm test` runs as root).
 */
import assert from 'node:assert/strict'
import {globSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {packageRoot} from '../src/paths.js'

const scripts = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).scripts as Record<string, string>

/** The test file patterns of a `node --test …` script, in the order given. */
function testPatterns(script: string): string[] {
  const run = script.slice(script.indexOf('node --test'))
  return [...run.matchAll(/"([^"]+)"|(\S+\.js)/g)].map((m) => (m[1] ?? m[2]) as string)
}

/** A compiled test that starts lab hosts or a local sshd: it needs root and Debian's sshd. */
function needsSshd(file: string): boolean {
  const text = readFileSync(join(packageRoot, file), 'utf8')
  return /from '[^']*\/lab\.js'|local-sshd\.js/.test(text)
}

describe('package scripts', () => {
  const all = globSync('dist/test/**/*.test.js', {cwd: packageRoot}).sort()

  it('every test:unit pattern matches at least one compiled test file', () => {
    const patterns = testPatterns(scripts['test:unit'] ?? '')
    assert.ok(patterns.length > 0)
    for (const p of patterns) assert.ok(globSync(p, {cwd: packageRoot}).length > 0, `${p} matches nothing`)
  })

  it('test:unit runs every test that needs no lab host or sshd, and none that does', () => {
    const unit = new Set(testPatterns(scripts['test:unit'] ?? '').flatMap((p) => globSync(p, {cwd: packageRoot})))
    const expected = all.filter((f) => !needsSshd(f))
    assert.deepEqual([...unit].sort(), expected)
  })

  it('npm test runs every compiled test file', () => {
    const patterns = testPatterns(scripts.test ?? '')
    const run = new Set(patterns.flatMap((p) => globSync(p, {cwd: packageRoot})))
    assert.deepEqual([...run].sort(), all)
  })
})
