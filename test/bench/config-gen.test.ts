/** The benchmark's generated bastion.yml is what it claims: valid, no issue at all, the size asked for. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {benchKey, generateConfig} from '../../bench/config-gen.js'
import {parsePublicKey} from '../../src/access/keys.js'
import {lintConfig} from '../../src/config/lint.js'
import {parseConfig} from '../../src/config/load.js'

describe('bench config generator', () => {
  it('makes a file with bastions × vendors vendors and keys, and no issue at all', async () => {
    const loaded = await parseConfig(generateConfig(6, 5, 10), 'gen.yml')
    assert.deepEqual(loaded.issues, [])
    assert.deepEqual(lintConfig(loaded, new Date('2026-11-30T00:00:00Z')), [])
    assert.equal(Object.keys(loaded.config?.bastions ?? {}).length, 6)
    assert.equal(Object.keys(loaded.config?.vendors ?? {}).length, 30)
  })

  it('its keys are ed25519 public keys, each different', () => {
    const a = parsePublicKey(benchKey(1)).key
    assert.equal(a.type, 'ssh-ed25519')
    assert.notEqual(a.fingerprint, parsePublicKey(benchKey(2)).key.fingerprint)
    assert.equal(benchKey(1), benchKey(1))
  })
})
