import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {exitCodeFor, runOnHosts} from '../../src/ssh/pool.js'
import type {HostOutcome} from '../../src/ssh/pool.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('runOnHosts', () => {
  test('never runs more than `concurrency` calls at once, and uses the whole allowance', async () => {
    let active = 0
    let peak = 0
    const hosts = Array.from({length: 12}, (_, i) => `h${i}`)
    await runOnHosts(hosts, 3, async () => {
      active++
      peak = Math.max(peak, active)
      await sleep(10)
      active--
    })
    assert.equal(peak, 3)
  })

  test('the observer sees each host start, the statuses its work reports, and its outcome, in that order', async () => {
    const events: string[] = []
    await runOnHosts(['a', 'b'], 1, async (h, _i, report) => {
      report(`working on ${h}`)
      if (h === 'b') throw new BastionError('E', 'boom', {exit: Exit.REMOTE})
      return h
    }, {
      started: (i) => events.push(`start ${i}`),
      status: (i, s) => events.push(`status ${i} ${s}`),
      done: (i, o) => events.push(`done ${i} ${o.ok ? 'ok' : o.error.code}`),
    })
    assert.deepEqual(events, ['start 0', 'status 0 working on a', 'done 0 ok', 'start 1', 'status 1 working on b', 'done 1 E'])
  })

  test('a failing host does not stop the others; results come back in input order', async () => {
    const hosts = ['a', 'b', 'c', 'd']
    const out = await runOnHosts(hosts, 2, async (h, i) => {
      await sleep((4 - i) * 5) // finish in reverse order
      if (h === 'b') throw new BastionError('UNREACHABLE', 'b is down', {exit: Exit.UNREACHABLE})
      if (h === 'c') throw new Error('plain error')
      return h.toUpperCase()
    })
    assert.deepEqual(out.map((o) => o.host), hosts)
    assert.deepEqual(out.map((o) => o.ok), [true, false, false, true])
    assert.equal(out[0]?.ok && out[0].value, 'A')
    assert.equal(out[3]?.ok && out[3].value, 'D')
    const b = out[1]
    assert.ok(b && !b.ok && b.error.code === 'UNREACHABLE')
    const c = out[2]
    assert.ok(c && !c.ok && c.error instanceof BastionError && c.error.code === 'INTERNAL' && c.error.exit === Exit.INTERNAL && c.error.message === 'bastion failed unexpectedly: plain error')
  })

  test('passes the input and its index; an empty list gives no outcomes', async () => {
    const seen: string[] = []
    await runOnHosts(['x', 'y'], 10, async (h, i) => {
      seen.push(`${h}${i}`)
    })
    assert.deepEqual(seen.sort(), ['x0', 'y1'])
    assert.deepEqual(await runOnHosts([], 4, async () => 1), [])
  })

  test('a concurrency below 1 still runs every host, one at a time', async () => {
    let active = 0
    let peak = 0
    const out = await runOnHosts(['a', 'b', 'c'], 0, async () => {
      active++
      peak = Math.max(peak, active)
      await sleep(2)
      active--
      return 1
    })
    assert.equal(peak, 1)
    assert.equal(out.length, 3)
  })
})

describe('exitCodeFor', () => {
  const ok: HostOutcome<number> = {host: 'a', ok: true, value: 1}
  const fail = (exit: number): HostOutcome<number> => ({host: 'x', ok: false, error: new BastionError('E', 'e', {exit})})
  test('0 when every host succeeded', () => assert.equal(exitCodeFor([ok, ok]), 0))
  test('the shared exit code when all failures agree', () => assert.equal(exitCodeFor([ok, fail(Exit.AUTH), fail(Exit.AUTH)]), Exit.AUTH))
  test('Exit.FAILED when failures differ', () => assert.equal(exitCodeFor([fail(Exit.AUTH), fail(Exit.TIMEOUT)]), Exit.FAILED))
})
