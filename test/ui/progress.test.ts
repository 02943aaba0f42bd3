import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {useLineRenderer, withHostProgress} from '../../src/ui/progress.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('withHostProgress', () => {
  for (const enabled of [false, true]) {
    test(`with the display ${enabled ? 'on' : 'off'}, the scheduler's concurrency holds and every host gets its outcome in order`, async () => {
      let active = 0
      let peak = 0
      const hosts = Array.from({length: 7}, (_, i) => `h${i}`)
      const out = await withHostProgress({hosts, concurrency: 2, enabled, title: (h) => `work on ${h}`}, async (h, i, report) => {
        active++
        peak = Math.max(peak, active)
        report('busy')
        await sleep(5)
        active--
        if (i === 3) throw new BastionError('E', `${h} failed`, {exit: Exit.REMOTE})
        return h.toUpperCase()
      })
      assert.equal(peak, 2)
      assert.deepEqual(out.map((o) => (o.ok ? o.value : o.error.code)), ['H0', 'H1', 'H2', 'E', 'H4', 'H5', 'H6'])
    })
  }

  test('plain lines off a terminal and on a terminal of 0 (or too few) columns; the redrawn display only on a real one', () => {
    assert.equal(useLineRenderer({isTTY: false, columns: 120}), true)
    assert.equal(useLineRenderer({isTTY: true, columns: 0}), true)
    assert.equal(useLineRenderer({isTTY: true, columns: 10}), true)
    assert.equal(useLineRenderer({isTTY: true}), true)
    assert.equal(useLineRenderer({isTTY: true, columns: 80}), false)
  })
})
