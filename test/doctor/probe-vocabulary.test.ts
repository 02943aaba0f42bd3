/**
 * The probe's vocabulary (src/doctor/probe/vocabulary.ts) against the script that prints the lines and the readers
 * that take them: every key templates/doctor-probe.sh (with the lib.sh functions it calls) can print is declared, every
 * declared key is printed, and real outputs hold only declared keys and fit their fields.
 */
import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {probeOutputProblems} from '../../src/doctor/probe/records.js'
import {PROBE_VERSION, PROBE_VOCABULARY, type ProbeKey} from '../../src/doctor/probe/vocabulary.js'
import {packageRoot} from '../../src/paths.js'
import {keyMismatch, scriptKeys, shellCode, type ShellFile} from './probe-script-keys.js'

const template = (name: string): ShellFile => ({name, text: readFileSync(join(packageRoot, 'templates', name), 'utf8')})
const probeSh = template('doctor-probe.sh')
const libSh = template('lib.sh')
const fixtureDir = join(packageRoot, 'test', 'doctor', 'fixtures')
const fixtures = readdirSync(fixtureDir).filter((f) => f.endsWith('.out')).map((name) => ({name, text: readFileSync(join(fixtureDir, name), 'utf8')}))
const declared = Object.keys(PROBE_VOCABULARY) as ProbeKey[]
const keysOf = (stdout: string) => new Set(stdout.split('\n').filter((l) => l.startsWith('@bastion ')).map((l) => l.split(' ')[1] ?? ''))

describe('the probe script and the vocabulary', () => {
  const printed = scriptKeys(probeSh, [libSh])

  test('every key the probe can print is declared, and every declared key is printed by it', () => {
    assert.deepEqual(keyMismatch(printed.keys.keys(), declared), {undeclared: [], unprinted: []})
  })

  test('every line the probe prints names its key literally (nothing escapes the check above)', () => {
    assert.deepEqual(printed.dynamic, [])
  })

  test('the script and the reader speak the same probe version', () => {
    assert.equal(/^PROBE_VERSION=(\d+)$/m.exec(probeSh.text)?.[1], String(PROBE_VERSION))
  })

  test('the captured probe outputs hold only declared keys, each line fitting its fields', () => {
    for (const f of fixtures) assert.deepEqual(probeOutputProblems(f.text), [], f.name)
  })

  test('every key in the captured outputs is one the reading of the script found (it misses no way of printing)', () => {
    assert.ok(fixtures.length >= 4)
    for (const f of fixtures) {
      for (const key of keysOf(f.text)) assert.ok(printed.keys.has(key), `${f.name}: ${key}`)
    }
  })
})

describe('reading the keys a script prints (the check above fails when the script and the table part)', () => {
  const mismatch = (script: string, lib = libSh.text) => {
    const r = scriptKeys({name: 'probe.sh', text: script}, [{name: 'lib.sh', text: lib}])
    return {...keyMismatch(r.keys.keys(), declared), dynamic: r.dynamic}
  }

  test('the real probe passes; a key the table lacks is reported, from say, a printf format and an awk print', () => {
    assert.deepEqual(mismatch(probeSh.text), {undeclared: [], unprinted: [], dynamic: []})
    assert.deepEqual(mismatch(`${probeSh.text}\nsay ssh_keys "$n"\n`).undeclared, ['ssh_keys'])
    assert.deepEqual(mismatch(`${probeSh.text}\nx() { printf '@bastion mounts %s\\n' "$1"; }\nx /\n`).undeclared, ['mounts'])
    assert.deepEqual(mismatch(`${probeSh.text}\nawk '{ print "@bastion route " $1 }' /proc/net/route\n`).undeclared, ['route'])
  })

  test('a declared key the script no longer prints is reported', () => {
    const without = probeSh.text.replace(/^\s*say user_shell .*$/m, '')
    assert.notEqual(without, probeSh.text)
    assert.deepEqual(mismatch(without).unprinted, ['user_shell'])
  })

  test('a key printed only in a function nothing calls does not count; called through another function, it does', () => {
    const lib = `${libSh.text}\nwarn() { say warning "$*"; }\nnote_it() { warn "$1"; }\n`
    assert.deepEqual(mismatch(probeSh.text, lib).undeclared, [])
    assert.deepEqual(mismatch(`${probeSh.text}\nnote_it x\n`, lib).undeclared, ['warning'])
  })

  test('lib.sh refuse (say "fix …") is not reachable from the probe, so fix is not a probe key', () => {
    assert.ok(!scriptKeys(probeSh, [libSh]).keys.has('fix'))
    assert.ok(scriptKeys({name: 'p.sh', text: 'refuse X "m" "f"\n'}, [libSh]).keys.has('fix'))
  })

  test('comments and here-documents are not code; a key inside an awk program is', () => {
    const script = [
      '# say commented 1',
      'set -f   # @bastion trailing comment',
      'x=$#; y=${x#*/}  # say after_param',
      "cat <<EOF\nsay in_heredoc\nEOF",
      "awk '{ # an awk comment\n  print \"@bastion in_awk \" $1 }'",
      'say "quoted_key $x"',
    ].join('\n')
    const r = scriptKeys({name: 's.sh', text: script})
    assert.deepEqual([...r.keys.keys()].sort(), ['in_awk', 'quoted_key'])
    assert.deepEqual(r.dynamic, [])
  })

  test('a line whose key is a variable is reported as unreadable', () => {
    const r = scriptKeys({name: 's.sh', text: 'k=net\nsay "$k" 1\nprintf \'@bastion %s\\n\' "$k"\n'})
    assert.deepEqual(r.dynamic, ['s.sh:top: say "$k"', 's.sh:top: @bastion %s\\n\''])
  })

  test('function bodies end at their own closing brace, not at one in ${…} or in quotes', () => {
    const text = 'f() {\n  a=${b:-}; awk \'{ x }\'\n  say f_key\n}\ng() { say g_key; }\nsay top_key\n'
    const {code, braces} = shellCode(text)
    assert.equal(code.length, text.length)
    assert.deepEqual(braces.map((b) => text[b]).join(''), '{}{}')
    const r = scriptKeys({name: 's.sh', text: `${text}f\n`})
    assert.deepEqual(Object.fromEntries(r.keys), {top_key: ['s.sh:top'], f_key: ['s.sh:f']})
  })
})
