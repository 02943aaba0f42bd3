/** runCloudOperation: Ctrl-C becomes an abort signal (the operation rolls back); a second Ctrl-C quits at once. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {runCloudOperation} from '../../src/cloud/run.js'
import {BastionError} from '../../src/errors.js'
import {interrupted} from '../../src/cloud/aws/ops.js'

describe('runCloudOperation', () => {
  it('the first SIGINT aborts the operation\'s signal; the operation decides how to end; listeners are removed', async () => {
    const before = process.listenerCount('SIGINT')
    const writes: string[] = []
    const ew = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((c: string | Uint8Array) => (writes.push(String(c)), true)) as typeof process.stderr.write
    try {
      await assert.rejects(
        runCloudOperation({title: 't', progress: false}, async ({signal}) => {
          setImmediate(() => process.emit('SIGINT', 'SIGINT'))
          await new Promise((resolve) => signal.addEventListener('abort', resolve))
          throw interrupted()
        }),
        (e: BastionError) => e.code === 'INTERRUPTED' && e.exit === 130,
      )
    } finally {
      process.stderr.write = ew
    }
    assert.match(writes.join(''), /undoing what this run created/)
    assert.equal(process.listenerCount('SIGINT'), before)
  })

  it('a second SIGINT exits 130 at once, saying resources may be left', async () => {
    const exit = process.exit
    const codes: (number | undefined)[] = []
    const writes: string[] = []
    const ew = process.stderr.write.bind(process.stderr)
    process.exit = ((c?: number) => {
      codes.push(c)
    }) as typeof process.exit
    process.stderr.write = ((c: string | Uint8Array) => (writes.push(String(c)), true)) as typeof process.stderr.write
    try {
      await runCloudOperation({title: 't', progress: false}, async ({signal}) => {
        process.emit('SIGINT', 'SIGINT')
        process.emit('SIGINT', 'SIGINT')
        assert.equal(signal.aborted, true)
      })
    } finally {
      process.exit = exit
      process.stderr.write = ew
    }
    assert.deepEqual(codes, [130])
    assert.match(writes.join(''), /Resources may be left/)
  })

  it('returns the value and rethrows the BastionError of the work, with progress on', async () => {
    const ew = process.stderr.write.bind(process.stderr)
    process.stderr.write = (() => true) as typeof process.stderr.write
    try {
      assert.equal(await runCloudOperation({title: 't', progress: true}, async ({progress}) => (progress('x'), 42)), 42)
      await assert.rejects(
        runCloudOperation({title: 't', progress: true}, async () => {
          throw new BastionError('X', 'boom', {exit: 7})
        }),
        (e: BastionError) => e.code === 'X' && e.exit === 7,
      )
    } finally {
      process.stderr.write = ew
    }
  })
})
