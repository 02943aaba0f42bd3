import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {closestCommand, distance} from '../../src/input/suggest.js'

describe('closestCommand', () => {
  const ids = ['add-vendor-key', 'remove-vendor-key', 'list-vendor-keys', 'doctor', 'whitelist:add', 'whitelist:list', 'list', 'create', 'destroy']
  it('finds typos, transpositions and missing letters, and refuses a wild guess', () => {
    assert.equal(closestCommand('add-vendor-ky', ids), 'add-vendor-key')
    assert.equal(closestCommand('doctro', ids), 'doctor')
    assert.equal(closestCommand('whitelist:ad', ids), 'whitelist:add')
    assert.equal(closestCommand('lst', ids), 'list')
    assert.equal(closestCommand('zzzzzz', ids), undefined)
    assert.equal(distance('ab', 'ba'), 1)
  })
})
