import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {connectionFlags, requireHosts, toConnectionOptions, withConnectionEnv} from '../../src/ssh/flags.js'

describe('connectionFlags', () => {
  test('--host is repeatable (BASTION_HOST stands in for it); defaults for timeouts and concurrency', () => {
    assert.notEqual(connectionFlags.host.required, true)
    assert.equal(connectionFlags.host.multiple, true)
    assert.equal(connectionFlags['connect-timeout'].default, 15)
    assert.equal(connectionFlags.concurrency.default, 10)
    assert.equal((connectionFlags.concurrency as unknown as {min?: number}).min, 1)
    assert.equal(connectionFlags.identity.char, 'i')
    for (const [name, flag] of Object.entries(connectionFlags)) assert.ok((flag.description ?? '').length > 20, `${name} has a description`)
  })

  test('--host-key accepts SHA256 fingerprints (padding stripped) and rejects anything else', async () => {
    const parse = connectionFlags['host-key'].parse as (input: string, ctx: unknown, opts: unknown) => Promise<string>
    const fp = 'SHA256:' + 'A'.repeat(43)
    assert.equal(await parse(fp, {}, {}), fp)
    assert.equal(await parse(`${fp}=`, {}, {}), fp)
    await assert.rejects(parse('MD5:aa:bb', {}, {}), /not a SHA256 fingerprint/)
    await assert.rejects(parse('SHA256:short', {}, {}), /ssh-keygen -lf/)
  })

  test('toConnectionOptions maps flags to ConnectionOptions (seconds to ms, empty values dropped)', () => {
    assert.deepEqual(toConnectionOptions({
      host: ['h'], port: 2222, user: 'admin', identity: ['~/.ssh/k'], jump: 'j', 'host-key': ['SHA256:' + 'B'.repeat(43)],
      'accept-new': true, 'known-hosts': ['kh'], 'ssh-config': 'cfg', 'connect-timeout': 5, 'command-timeout': 60, concurrency: 3,
    }), {
      port: 2222, user: 'admin', identityFiles: ['~/.ssh/k'], jump: 'j', hostKeyPins: ['SHA256:' + 'B'.repeat(43)], acceptNew: true,
      knownHostsFiles: ['kh'], sshConfigFile: 'cfg', connectTimeoutMs: 5000, commandTimeoutMs: 60000,
    })
    assert.deepEqual(toConnectionOptions({host: ['h'], 'accept-new': false, identity: [], user: ''}), {})
  })

  test('BASTION_* variables fill the connection flags left off the command line; given flags win', () => {
    const env = {BASTION_HOST: 'admin@a, admin@b', BASTION_USER: 'ops', BASTION_PORT: '2222', BASTION_IDENTITY: '~/.ssh/k1,~/.ssh/k2', BASTION_JUMP: 'jump', BASTION_KNOWN_HOSTS: 'kh', BASTION_SSH_CONFIG: 'cfg'}
    assert.deepEqual(withConnectionEnv({}, env), {host: ['admin@a', 'admin@b'], user: 'ops', port: 2222, identity: ['~/.ssh/k1', '~/.ssh/k2'], jump: 'jump', 'known-hosts': ['kh'], 'ssh-config': 'cfg'})
    assert.deepEqual(withConnectionEnv({host: ['c'], port: 22, user: 'me'}, env).host, ['c'])
    assert.equal(withConnectionEnv({port: 22}, env).port, 22)
    assert.deepEqual(withConnectionEnv({}, {}), {})
    assert.throws(() => withConnectionEnv({}, {BASTION_PORT: '99999'}), (e: BastionError) => e.code === 'PORT' && e.exit === 2)
  })

  test('requireHosts refuses when neither --host nor BASTION_HOST names a host, saying both ways', () => {
    assert.deepEqual(requireHosts({host: ['h']}), ['h'])
    assert.throws(() => requireHosts({}), (e: BastionError) => e.code === 'HOST_MISSING' && e.exit === 2 && e.suggestions.some((x) => x.includes('BASTION_HOST')))
  })
})
