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

/** The test file patterns of a `… --test …` script (run by scripts/node.sh), in the order given. */
function testPatterns(script: string): string[] {
  const run = script.slice(script.indexOf(' --test '))
  return [...run.matchAll(/"([^"]+)"|(\S+\.js)/g)].map((m) => (m[1] ?? m[2]) as string)
}

/** A compiled test that starts lab hosts (sshd-only or booted) or a local sshd: it needs root and Debian's sshd. */
function needsSshd(file: string): boolean {
  const text = readFileSync(join(packageRoot, file), 'utf8')
  return /from '[^']*\/(lab|booted)\.js'|local-sshd\.js/.test(text)
}

/** The commands of a sh script or a README code block: lines that are not comments, `set`, `cd` or fences. */
function commands(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !/^(set|cd) /.test(l) && !l.startsWith('```'))
}

describe('package scripts', () => {
  it('.ci/run runs exactly the README\'s set-up and test commands, nothing more', () => {
    const ci = commands(readFileSync(join(packageRoot, '.ci/run'), 'utf8'))
    assert.deepEqual(ci, ['scripts/setup.sh', 'npm test'])
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8')
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => commands(m[1] ?? ''))
    for (const c of ci) assert.ok(blocks.includes(c), `the README gives no \`${c}\` command to run`)
  })

  it('the test scripts run the test runner through scripts/node.sh, so they work when npm runs on Node 20', () => {
    for (const name of ['test', 'test:unit', 'demo', 'bench']) assert.match(scripts[name] ?? '', /&& scripts\/node\.sh /, name)
  })

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
