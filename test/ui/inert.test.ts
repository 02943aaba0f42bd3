import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {escapeCodePoint, inert, inertLines} from '../../src/ui/inert.js'

describe('ui/inert', () => {
  it('leaves ordinary text as it is: letters, punctuation, backslashes, quotes, non-Latin scripts and emoji', () => {
    for (const s of ['restrict,permitopen="10.0.1.5:5432"', 'C:\\Users\\hevo', 'héllo wörld', 'Привет', 'データ', 'key 🔑', '']) {
      assert.equal(inert(s), s)
      assert.equal(inertLines(s), s)
    }
  })

  it('turns terminal escape sequences into visible text: clear screen, OSC 52 clipboard write, blink', () => {
    assert.equal(inert('\x1b[2Jgone'), '\\x1b[2Jgone')
    assert.equal(inert('\x1b]52;c;aGk=\x07'), '\\x1b]52;c;aGk=\\x07')
    assert.equal(inert('\x1b[5mblink\x1b[0m'), '\\x1b[5mblink\\x1b[0m')
  })

  it('escapes every C0 control, DEL and every C1 control (U+0080–U+009F, e.g. the one-byte CSI U+009B)', () => {
    for (let cp = 0; cp < 0xa0; cp++) {
      if (cp >= 0x20 && cp < 0x7f) continue
      const out = inert(String.fromCodePoint(cp))
      assert.match(out, /^\\(x[0-9a-f]{2}|[tnr])$/, `U+${cp.toString(16)} → ${JSON.stringify(out)}`)
    }
    assert.equal(inert('\u009b2J'), '\\x9b2J')
    assert.equal(inert('\x7f'), '\\x7f')
    assert.equal(inert('\0'), '\\x00')
  })

  it('shows tab, line feed and carriage return of a one-line value as \\t, \\n and \\r', () => {
    assert.equal(inert('a\tb\nc\rd'), 'a\\tb\\nc\\rd')
  })

  it('keeps line feeds in multi-line text but still escapes carriage returns, tabs and escapes inside the lines', () => {
    assert.equal(inertLines('line 1\nfake\rline 2\x1b[2J\n\tend'), 'line 1\nfake\\rline 2\\x1b[2J\n\\tend')
  })

  it('escapes bidi embeddings, overrides, isolates and marks, which reorder what the operator reads', () => {
    for (const ch of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']) {
      assert.match(inert(`a${ch}b`), /^a\\u[0-9a-f]{4}b$/, `U+${ch.codePointAt(0)!.toString(16)}`)
    }
    assert.equal(inert('evil\u202egpj.exe'), 'evil\\u202egpj.exe')
  })

  it('escapes line and paragraph separators and invisible characters that hide text', () => {
    assert.equal(inert('a\u2028b\u2029c'), 'a\\u2028b\\u2029c')
    assert.equal(inert('he\u200bvo\ufeff'), 'he\\u200bvo\\ufeff')
    assert.equal(inert('x\u2060y'), 'x\\u2060y')
    assert.equal(inert('tag\u{e0041}'), 'tag\\u{e0041}')
  })

  it('escapes what XML 1.0 cannot carry (lone surrogates, U+FFFE, U+FFFF) and keeps surrogate pairs', () => {
    assert.equal(inert('a\ud800b'), 'a\\ud800b')
    assert.equal(inert('a\udfffb'), 'a\\udfffb')
    assert.equal(inert('\ufffe\uffff'), '\\ufffe\\uffff')
    assert.equal(inert('\u{1f511}'), '\u{1f511}')
  })

  it('escapeCodePoint writes \\xHH up to U+00FF, \\uHHHH in the BMP and \\u{…} above it', () => {
    assert.equal(escapeCodePoint('\x1b'), '\\x1b')
    assert.equal(escapeCodePoint('\u0085'), '\\x85')
    assert.equal(escapeCodePoint('\u202e'), '\\u202e')
    assert.equal(escapeCodePoint('\u{e007f}'), '\\u{e007f}')
  })
})
