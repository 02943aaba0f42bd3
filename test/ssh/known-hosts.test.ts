import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {
  appendKnownHost, checkHostKey, hashHostName, hostFieldMatches, knownHostsName, knownKeyTypes, lookupHostKeys,
  matchPatternList, parseKnownHosts, verifyHostKey,
} from '../../src/ssh/known-hosts.js'
import {makeKey} from './local-sshd.js'
import type {KeyPair} from './local-sshd.js'

let dir: string
let k1: KeyPair
let k2: KeyPair
let k3: KeyPair
const blob = (k: KeyPair) => Buffer.from(k.base64, 'base64')

/** Line numbers `ssh-keygen -F name -f file` reports ("# Host name found: line N"). */
function sshKeygenFind(name: string, file: string): number[] {
  let out: string
  try {
    out = execFileSync('ssh-keygen', ['-F', name, '-f', file], {encoding: 'utf8'})
  } catch (error) {
    if ((error as {status?: number}).status === 1) return [] // not found
    throw error
  }
  return [...out.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]))
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bastion-kh-'))
  k1 = await makeKey(join(dir, 'k1'), 'ed25519')
  k2 = await makeKey(join(dir, 'k2'), 'ed25519')
  k3 = await makeKey(join(dir, 'k3'), 'ecdsa')
})
after(() => rmSync(dir, {recursive: true, force: true}))

describe('host patterns (OpenSSH match_pattern_list)', () => {
  test('wildcards * and ?, comma lists, case-insensitive', () => {
    assert.equal(matchPatternList('db1.example.com', '*.example.com'), 1)
    assert.equal(matchPatternList('DB1.Example.COM', '*.EXAMPLE.com'), 1)
    assert.equal(matchPatternList('db1.example.com', 'db?.example.com'), 1)
    assert.equal(matchPatternList('db10.example.com', 'db?.example.com'), 0)
    assert.equal(matchPatternList('10.0.0.5', 'foo,10.0.0.*'), 1)
    assert.equal(matchPatternList('example.com', '*.example.com'), 0)
  })
  test('a matching !negation vetoes the line even when another pattern matches', () => {
    assert.equal(matchPatternList('bad.example.com', '*.example.com,!bad.example.com'), -1)
    assert.equal(matchPatternList('good.example.com', '*.example.com,!bad.example.com'), 1)
    assert.equal(matchPatternList('other.org', '!bad.example.com'), 0)
  })
  test('[host]:port names match only the bracketed form', () => {
    assert.equal(knownHostsName('Host.Example', 22), 'host.example')
    assert.equal(knownHostsName('10.0.0.5', 2222), '[10.0.0.5]:2222')
    assert.equal(knownHostsName('::1', 2222), '[::1]:2222')
    assert.ok(hostFieldMatches('[10.0.0.5]:2222', '[10.0.0.5]:2222'))
    assert.ok(!hostFieldMatches('10.0.0.5', '[10.0.0.5]:2222'))
    assert.ok(!hostFieldMatches('[10.0.0.5]:2222', '10.0.0.5'))
    assert.ok(hostFieldMatches('[10.0.0.5]:2222', '[10.0.0.*]:2222'))
  })
  test('hashed names: HMAC-SHA1 keyed by the salt', () => {
    const salt = Buffer.alloc(20, 7)
    const h = hashHostName('Example.COM', salt)
    assert.match(h, /^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28}$/)
    assert.ok(hostFieldMatches('example.com', h))
    assert.ok(!hostFieldMatches('example.org', h))
    assert.ok(!hostFieldMatches('example.com', '|1|garbage|x'))
  })
})

describe('parseKnownHosts', () => {
  test('skips comments, blank and invalid lines, keeps file:line, reads markers and comments', () => {
    const text = [
      '# a comment',
      '',
      `   host1 ${k1.type} ${k1.base64} my comment`,
      'host2 ssh-ed25519 not*base64',
      `@revoked * ${k2.type} ${k2.base64}`,
      `@cert-authority *.example.com ${k3.type} ${k3.base64}`,
      `@bogus host3 ${k1.type} ${k1.base64}`,
      'host4 2048 35 1234567', // RSA1 line
      `host5 ssh-rsa ${k1.base64}`, // type does not match the blob
      `\thost6\t${k3.type}\t${k3.base64}`,
    ].join('\n')
    const entries = parseKnownHosts(text, 'kh')
    assert.deepEqual(entries.map((e) => [e.line, e.hosts, e.marker ?? '']), [
      [3, 'host1', ''],
      [5, '*', 'revoked'],
      [6, '*.example.com', 'cert-authority'],
      [10, 'host6', ''],
    ])
    assert.equal(entries[0]?.comment, 'my comment')
    assert.equal(entries[0]?.fingerprint, k1.fingerprint)
  })
})

describe('lookup and verify', () => {
  test('a hashed line written by real `ssh-keygen -H` is found, on the same lines `ssh-keygen -F` reports', () => {
    const file = join(dir, 'hashed')
    writeFileSync(file, [
      `# header`,
      `bastion.example.com ${k1.type} ${k1.base64}`,
      `[10.1.2.3]:2222 ${k2.type} ${k2.base64}`,
      `other.example.com ${k3.type} ${k3.base64}`,
      `bastion.example.com ${k3.type} ${k3.base64}`,
      '',
    ].join('\n'))
    execFileSync('ssh-keygen', ['-H', '-f', file], {stdio: 'ignore'})
    const text = readFileSync(file, 'utf8')
    assert.ok(!text.includes('bastion.example.com'), 'ssh-keygen -H replaced the names by hashes')
    for (const name of ['bastion.example.com', '[10.1.2.3]:2222', 'other.example.com', 'nothere.example.com', '10.1.2.3']) {
      const ours = lookupHostKeys(name, [file]).map((e) => e.line)
      assert.deepEqual(ours, sshKeygenFind(name, file), `lines for ${name}`)
      assert.ok(lookupHostKeys(name, [file]).every((e) => e.hashed))
    }
    assert.equal(verifyHostKey('bastion.example.com', blob(k1), [file]), 'match')
    assert.equal(verifyHostKey('bastion.example.com', blob(k3), [file]), 'match')
    assert.equal(verifyHostKey('[10.1.2.3]:2222', blob(k2), [file]), 'match')
    assert.equal(verifyHostKey('10.1.2.3', blob(k2), [file]), 'unknown')
  })

  test('plain patterns agree with `ssh-keygen -F` (wildcards, negation, [host]:port)', () => {
    const file = join(dir, 'patterns')
    writeFileSync(file, [
      `*.example.com,!bad.example.com ${k1.type} ${k1.base64}`,
      `[jump.example.com]:2222 ${k2.type} ${k2.base64}`,
      `db?.internal ${k3.type} ${k3.base64}`,
    ].join('\n') + '\n')
    for (const name of ['good.example.com', 'bad.example.com', '[jump.example.com]:2222', 'jump.example.com', 'db1.internal', 'db10.internal']) {
      assert.deepEqual(lookupHostKeys(name, [file]).map((e) => e.line), sshKeygenFind(name, file), `lines for ${name}`)
    }
    assert.equal(verifyHostKey('good.example.com', blob(k1), [file]), 'match')
    assert.equal(verifyHostKey('bad.example.com', blob(k1), [file]), 'unknown')
  })

  test('a different key recorded for the host (any type) means changed, with file:line of the old entry', () => {
    const file = join(dir, 'changed')
    writeFileSync(file, `# x\nhost.example ${k1.type} ${k1.base64}\n`)
    const check = checkHostKey('host.example', blob(k2), [file])
    assert.equal(check.status, 'changed')
    assert.equal(check.fingerprint, k2.fingerprint)
    assert.deepEqual(check.previous.map((e) => [e.file, e.line, e.fingerprint]), [[file, 2, k1.fingerprint]])
    assert.equal(verifyHostKey('host.example', blob(k3), [file]), 'changed', 'another key type is a change too, as in OpenSSH')
  })

  test('@revoked refuses the key even when a plain line lists it; @cert-authority does not vouch for a plain key', () => {
    const file = join(dir, 'markers')
    writeFileSync(file, [
      `host.example ${k1.type} ${k1.base64}`,
      `@revoked * ${k1.type} ${k1.base64}`,
      `@cert-authority *.example ${k2.type} ${k2.base64}`,
    ].join('\n') + '\n')
    const check = checkHostKey('host.example', blob(k1), [file])
    assert.equal(check.status, 'revoked')
    assert.equal(check.entry?.line, 2)
    assert.equal(verifyHostKey('other.example', blob(k2), [file]), 'unknown')
    assert.deepEqual(knownKeyTypes('other.example', [file]), [])
    assert.deepEqual(knownKeyTypes('host.example', [file]), ['ssh-ed25519'])
  })

  test('several files are read in order and missing files are skipped', () => {
    const a = join(dir, 'multi-a')
    const b = join(dir, 'multi-b')
    writeFileSync(a, `h ${k1.type} ${k1.base64}\n`)
    writeFileSync(b, `h ${k3.type} ${k3.base64}\n`)
    const found = lookupHostKeys('h', [join(dir, 'missing'), a, b])
    assert.deepEqual(found.map((e) => e.file), [a, b])
    assert.deepEqual(knownKeyTypes('h', [a, b]), ['ssh-ed25519', 'ecdsa-sha2-nistp256'])
  })
})

describe('reading known_hosts files', () => {
  test('a known_hosts file that never ends (/dev/zero) is refused at the size cap instead of read to the end', () => {
    assert.throws(() => lookupHostKeys('h', ['/dev/zero']), (e: unknown) =>
      e instanceof BastionError && e.code === 'FILE_TOO_LARGE' && e.exit === 2 && /known_hosts file \/dev\/zero holds more than 64 MiB/.test(e.message))
  })

  test('/dev/null reads as an empty known_hosts file', () => {
    assert.deepEqual(lookupHostKeys('h', ['/dev/null']), [])
  })
})

describe('appendKnownHost', () => {
  test('creates the directory 0700 and the file 0600, and the line is then found by us and by ssh-keygen -F', () => {
    const file = join(dir, 'newhome', '.ssh', 'known_hosts')
    appendKnownHost(file, '[10.9.9.9]:2222', k1.type, k1.base64)
    assert.equal(statSync(join(dir, 'newhome', '.ssh')).mode & 0o777, 0o700)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.equal(readFileSync(file, 'utf8'), `[10.9.9.9]:2222 ${k1.type} ${k1.base64}\n`)
    assert.equal(verifyHostKey('[10.9.9.9]:2222', blob(k1), [file]), 'match')
    assert.deepEqual(sshKeygenFind('[10.9.9.9]:2222', file), [1])
  })

  test('starts a new line when the file does not end with one, and keeps existing content', () => {
    const file = join(dir, 'nonewline')
    writeFileSync(file, `a ${k1.type} ${k1.base64}`)
    appendKnownHost(file, 'b', k2.type, k2.base64)
    assert.equal(readFileSync(file, 'utf8'), `a ${k1.type} ${k1.base64}\nb ${k2.type} ${k2.base64}\n`)
  })

  test('refuses names that would corrupt the file', () => {
    assert.throws(() => appendKnownHost(join(dir, 'x'), 'a b', k1.type, k1.base64), /unusual host name/)
    assert.throws(() => appendKnownHost(join(dir, 'x'), 'a\nb', k1.type, k1.base64), /unusual host name/)
  })
})
