import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {describe, test} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {quoteShell} from '../../src/ssh/quote.js'

const nasty = [
  '',
  'plain',
  "it's",
  "''",
  "'\\''",
  'a b  c',
  '$HOME `id` $(id) ${x}',
  'semi;colon && pipe | amp & redirect > < >>',
  'glob * ? [a-z] ~root',
  'new\nline\ttab',
  '"double" \\back\\slash\\',
  '-n',
  '--flag=value',
  '!history #comment',
  'ünïcödé ✓ 日本',
  'restrict,port-forwarding,permitopen="10.0.1.5:5432" ssh-ed25519 AAAA bastion:vendor=hevo',
  '\x01\x1b[31mctl\x7f',
]

describe('quoteShell', () => {
  test('every value round-trips unchanged through a real `sh -c printf %s`', () => {
    for (const value of nasty) {
      const out = execFileSync('sh', ['-c', `printf %s ${quoteShell(value)}`], {encoding: 'utf8'})
      assert.equal(out, value, `round trip of ${JSON.stringify(value)}`)
    }
  })

  test('several quoted values stay separate words', () => {
    const out = execFileSync('sh', ['-c', `printf '<%s>' ${nasty.map(quoteShell).join(' ')}`], {encoding: 'utf8'})
    assert.equal(out, nasty.map((v) => `<${v}>`).join(''))
  })

  test("single quotes are written as '\\''", () => {
    assert.equal(quoteShell("it's"), `'it'\\''s'`)
    assert.equal(quoteShell(''), `''`)
  })

  test('a NUL byte is refused with an input error', () => {
    assert.throws(() => quoteShell('a\0b'), (e: unknown) => e instanceof BastionError && e.code === 'SHELL_NUL' && e.exit === 2)
  })
})
