import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {runCli} from './helpers/cli.js'

describe('bastion --help', () => {
  it('lists `list` once, as a command, not also as a topic (tunnel and whitelist are the only topics)', async () => {
    const r = await runCli(['--help'])
    assert.equal(r.code, 0, r.stderr)
    const topics = /TOPICS\n([\s\S]*?)\n\n/.exec(r.stdout)?.[1] ?? ''
    assert.deepEqual([...topics.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]), ['tunnel', 'whitelist'])
    const commands = /COMMANDS\n([\s\S]*)$/.exec(r.stdout)?.[1] ?? ''
    assert.match(commands, /^ {2}list {2,}/m)
  })
})
