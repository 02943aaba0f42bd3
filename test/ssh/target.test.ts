import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {parseHostInput, resolveJumpChain, resolveTarget} from '../../src/ssh/target.js'

let home: string
let sshDir: string
let config: string
const realHome = process.env.HOME

const isInputError = (code: string) => (e: unknown) => e instanceof BastionError && e.code === code && e.exit === 2 && e.suggestions.length > 0

before(() => {
  home = mkdtempSync(join(tmpdir(), 'bastion-home-'))
  process.env.HOME = home // os.homedir() follows $HOME
  sshDir = join(home, '.ssh')
  mkdirSync(sshDir, {mode: 0o700})
  for (const f of ['id_ed25519', 'id_rsa', 'warehouse_key', 'admin_10.0.1.4_key', 'jump_key', 'extra_key']) writeFileSync(join(sshDir, f), 'x')
  config = join(home, 'fixture_config')
  writeFileSync(config, `
# fixture
Host warehouse-jump
  HostName 10.0.1.4
  User admin
  Port 2222
  IdentityFile ~/.ssh/warehouse_key
  IdentityFile %d/.ssh/%r_%h_key
  IdentityFile ~/.ssh/does_not_exist
  ProxyJump ops@jump.example.com:2200
  HostKeyAlias warehouse
  UserKnownHostsFile ~/.ssh/kh_%h /dev/null

Host jump.example.com
  User jumper
  IdentityFile ~/.ssh/jump_key

Host chained
  HostName 10.0.2.9
  ProxyJump hop1

Host hop1
  HostName 192.0.2.10
  ProxyJump hop0

Host hop0
  HostName 192.0.2.1
  User root

Host web-*
  HostName %h.internal.example
  user webadmin

Host legacy
  ProxyCommand ssh -W %h:%p gw

Host looped
  ProxyJump looped
`)
})
after(() => {
  process.env.HOME = realHome
  rmSync(home, {recursive: true, force: true})
})

describe('parseHostInput', () => {
  test('accepts host, user@host, user@host:port, [v6]:port, user@[v6]:port, bare IPv6 and ssh:// URLs', () => {
    assert.deepEqual(parseHostInput('bastion.example.com'), {host: 'bastion.example.com'})
    assert.deepEqual(parseHostInput('admin@10.0.0.5'), {user: 'admin', host: '10.0.0.5'})
    assert.deepEqual(parseHostInput('admin@10.0.0.5:2222'), {user: 'admin', host: '10.0.0.5', port: 2222})
    assert.deepEqual(parseHostInput('[2001:db8::1]:2222'), {host: '2001:db8::1', port: 2222})
    assert.deepEqual(parseHostInput('ec2-user@[2001:db8::1]:22'), {user: 'ec2-user', host: '2001:db8::1', port: 22})
    assert.deepEqual(parseHostInput('[fe80::1]'), {host: 'fe80::1'})
    assert.deepEqual(parseHostInput('2001:db8::1'), {host: '2001:db8::1'})
    assert.deepEqual(parseHostInput('ssh://ubuntu@host.example:2200'), {user: 'ubuntu', host: 'host.example', port: 2200})
    assert.deepEqual(parseHostInput('warehouse-jump'), {host: 'warehouse-jump'})
  })

  test('rejects bad ports, empty parts, option-looking and malformed values with a fix', () => {
    assert.throws(() => parseHostInput('host:0'), isInputError('BAD_PORT'))
    assert.throws(() => parseHostInput('host:65536'), isInputError('BAD_PORT'))
    assert.throws(() => parseHostInput('host:ssh'), isInputError('BAD_PORT'))
    assert.throws(() => parseHostInput('[::1]:99999'), isInputError('BAD_PORT'))
    assert.throws(() => parseHostInput(''), isInputError('BAD_HOST'))
    assert.throws(() => parseHostInput('a host'), isInputError('BAD_HOST'))
    assert.throws(() => parseHostInput('-oProxyCommand=touch /tmp/x'), isInputError('BAD_HOST'))
    assert.throws(() => parseHostInput('user@'), isInputError('BAD_HOST'))
    assert.throws(() => parseHostInput('@host'), isInputError('BAD_USER'))
    assert.throws(() => parseHostInput('-l@host'), isInputError('BAD_USER'))
    assert.throws(() => parseHostInput('[::1'), isInputError('BAD_HOST'))
    assert.throws(() => parseHostInput('[::1]x'), isInputError('BAD_HOST'))
    assert.throws(() => parseHostInput('1:2:zz'), isInputError('BAD_HOST'))
    const e = (() => {
      try {
        parseHostInput('host:70000')
      } catch (error) {
        return error as BastionError
      }
    })()
    assert.match(e?.suggestions.join(' ') ?? '', /1 to 65535/)
  })
})

describe('resolveTarget', () => {
  test('defaults when ~/.ssh/config is missing', () => {
    const t = resolveTarget('10.0.0.5')
    assert.equal(t.hostName, '10.0.0.5')
    assert.equal(t.user, userInfo().username)
    assert.equal(t.port, 22)
    assert.deepEqual(t.identityFiles, [join(sshDir, 'id_ed25519'), join(sshDir, 'id_rsa')])
    assert.equal(t.knownHostsName, '10.0.0.5')
    assert.deepEqual(t.knownHostsFiles, [join(sshDir, 'known_hosts'), '/etc/ssh/ssh_known_hosts'])
    assert.equal(t.proxyJump, undefined)
    assert.equal(resolveTarget('admin@Host.Example:2222').knownHostsName, '[host.example]:2222')
  })

  test('an explicit --ssh-config that does not exist is an input error', () => {
    assert.throws(() => resolveTarget('h', {sshConfigFile: join(home, 'nope')}), isInputError('SSH_CONFIG_MISSING'))
  })

  test('applies HostName, User, Port, IdentityFile (~, %d, %r, %h), ProxyJump, HostKeyAlias, UserKnownHostsFile', () => {
    const t = resolveTarget('warehouse-jump', {sshConfigFile: config})
    assert.equal(t.input, 'warehouse-jump')
    assert.equal(t.hostName, '10.0.1.4')
    assert.equal(t.user, 'admin')
    assert.equal(t.port, 2222)
    assert.deepEqual(t.identityFiles, [join(sshDir, 'warehouse_key'), join(sshDir, 'admin_10.0.1.4_key')], 'missing IdentityFile skipped, no defaults added')
    assert.equal(t.proxyJump, 'ops@jump.example.com:2200')
    assert.equal(t.knownHostsName, 'warehouse')
    assert.deepEqual(t.knownHostsFiles, [join(sshDir, 'kh_10.0.1.4'), '/dev/null', '/etc/ssh/ssh_known_hosts'])
  })

  test('flags win over ssh config; values in the --host string win over flags', () => {
    const f = resolveTarget('warehouse-jump', {sshConfigFile: config, port: 2200, user: 'root', jump: 'other-jump', identityFiles: ['~/.ssh/extra_key']})
    assert.equal(f.port, 2200)
    assert.equal(f.user, 'root')
    assert.equal(f.proxyJump, 'other-jump')
    // --identity first, then config IdentityFile (%r is now root: root_10.0.1.4_key does not exist, so skipped)
    assert.deepEqual(f.identityFiles, [join(sshDir, 'extra_key'), join(sshDir, 'warehouse_key')])
    const h = resolveTarget('bob@warehouse-jump:2022', {sshConfigFile: config, port: 2200, user: 'alice'})
    assert.equal(h.user, 'bob')
    assert.equal(h.port, 2022)
    assert.equal(h.hostName, '10.0.1.4')
  })

  test('HostName with %h and lower-case directives; known_hosts name uses the real address', () => {
    const t = resolveTarget('web-1:2200', {sshConfigFile: config})
    assert.equal(t.hostName, 'web-1.internal.example')
    assert.equal(t.user, 'webadmin')
    assert.equal(t.knownHostsName, '[web-1.internal.example]:2200')
  })

  test('explicit --known-hosts files replace the defaults', () => {
    const t = resolveTarget('warehouse-jump', {sshConfigFile: config, knownHostsFiles: ['~/kh1', '/tmp/kh2']})
    assert.deepEqual(t.knownHostsFiles, [join(home, 'kh1'), '/tmp/kh2'])
  })

  test('a missing --identity file is an input error', () => {
    assert.throws(() => resolveTarget('h', {identityFiles: ['~/.ssh/nope']}), isInputError('IDENTITY_NOT_FOUND'))
  })

  test('an --identity that is a device or a FIFO is refused before connecting, naming the flag', () => {
    assert.throws(() => resolveTarget('h', {identityFiles: ['/dev/zero']}), (e: unknown) =>
      isInputError('FILE_TYPE')(e) && /^--identity \/dev\/zero is a character device/.test((e as Error).message))
  })

  test('an ssh config that never ends (--ssh-config /dev/zero) is refused at the size cap instead of read to the end', () => {
    assert.throws(() => resolveTarget('h', {sshConfigFile: '/dev/zero'}), (e: unknown) =>
      e instanceof BastionError && e.code === 'FILE_TOO_LARGE' && e.exit === 2 && /ssh config \/dev\/zero holds more than 64 MiB/.test(e.message))
  })

  test('--ssh-config /dev/null reads as an empty config, as with ssh -F /dev/null', () => {
    assert.equal(resolveTarget('10.0.0.5', {sshConfigFile: '/dev/null'}).hostName, '10.0.0.5')
  })

  test('ProxyCommand is refused with a pointer to ProxyJump; bad config values are input errors', () => {
    assert.throws(() => resolveTarget('legacy', {sshConfigFile: config}), isInputError('SSH_CONFIG_PROXYCOMMAND'))
    assert.doesNotThrow(() => resolveTarget('legacy', {sshConfigFile: config, jump: 'gw'}))
    const bad = join(home, 'bad_port_config')
    writeFileSync(bad, 'Host x\n  Port 99999\n')
    assert.throws(() => resolveTarget('x', {sshConfigFile: bad}), isInputError('BAD_PORT'))
  })

  test('Include pulls in files relative to ~/.ssh, globs allowed', () => {
    mkdirSync(join(sshDir, 'conf.d'))
    writeFileSync(join(sshDir, 'conf.d', 'a.conf'), 'Host included\n  HostName 10.7.7.7\n  User inc\n')
    const main = join(home, 'include_config')
    writeFileSync(main, 'Include conf.d/*.conf\n')
    const t = resolveTarget('included', {sshConfigFile: main})
    assert.equal(t.hostName, '10.7.7.7')
    assert.equal(t.user, 'inc')
  })
})

describe('resolveJumpChain', () => {
  test('a ProxyJump hop is resolved with its own ssh config (User, IdentityFile), not the target\'s flags', () => {
    const t = resolveTarget('warehouse-jump', {sshConfigFile: config, user: 'root', port: 2022})
    const chain = resolveJumpChain(t, {sshConfigFile: config, user: 'root', port: 2022})
    assert.equal(chain.length, 1)
    const hop = chain[0]
    assert.equal(hop?.hostName, 'jump.example.com')
    assert.equal(hop?.user, 'ops', 'user written in ProxyJump wins over the hop\'s ssh config')
    assert.equal(hop?.port, 2200)
    assert.deepEqual(hop?.identityFiles, [join(sshDir, 'jump_key')])
    assert.equal(hop?.knownHostsName, '[jump.example.com]:2200')
  })

  test('a comma chain keeps its order, and the first hop\'s own ProxyJump is followed', () => {
    const t = resolveTarget('10.0.0.9', {sshConfigFile: config, jump: 'a.example,b.example:2200'})
    assert.deepEqual(resolveJumpChain(t, {sshConfigFile: config}).map((h) => `${h.hostName}:${h.port}`), ['a.example:22', 'b.example:2200'])
    const c = resolveTarget('chained', {sshConfigFile: config})
    assert.deepEqual(resolveJumpChain(c, {sshConfigFile: config}).map((h) => `${h.user}@${h.hostName}`), [`root@192.0.2.1`, `${userInfo().username}@192.0.2.10`])
  })

  test('a bad --jump value is reported as --jump, not as --host', () => {
    const opts = {sshConfigFile: config, jump: 'bad host'}
    assert.throws(() => resolveJumpChain(resolveTarget('10.0.0.9', opts), opts), (e: unknown) => {
      assert.ok(isInputError('BAD_HOST')(e), String(e))
      const err = e as BastionError
      assert.match(err.message, /^--jump "bad host" contains whitespace/)
      assert.ok(err.suggestions.some((s) => s.startsWith('Write --jump as')), err.suggestions.join(' | '))
      assert.ok(!err.suggestions.some((s) => s.includes('--host')), err.suggestions.join(' | '))
      return true
    })
    const port = {sshConfigFile: config, jump: 'a.example,ops@b.example:99999'}
    assert.throws(() => resolveJumpChain(resolveTarget('10.0.0.9', port), port), (e: unknown) =>
      isInputError('BAD_PORT')(e) && /^--jump "ops@b\.example:99999": port "99999"/.test((e as Error).message))
    assert.throws(() => parseHostInput('[::1', '--jump'), (e: unknown) => isInputError('BAD_HOST')(e) && /^--jump "\[::1"/.test((e as Error).message))
  })

  test('a bad ProxyJump from ssh config is reported as that config line, not as --host or --jump', () => {
    const cfg = join(home, 'bad_jump_config')
    writeFileSync(cfg, 'Host via-bad\n  ProxyJump ops@jump:notaport\n')
    const t = resolveTarget('via-bad', {sshConfigFile: cfg})
    assert.throws(() => resolveJumpChain(t, {sshConfigFile: cfg}), (e: unknown) =>
      isInputError('BAD_PORT')(e) && /^ssh config ProxyJump for via-bad "ops@jump:notaport"/.test((e as Error).message))
  })

  test('a ProxyJump loop is reported instead of recursing forever', () => {
    const t = resolveTarget('looped', {sshConfigFile: config})
    assert.throws(() => resolveJumpChain(t, {sshConfigFile: config}), isInputError('JUMP_LOOP'))
  })
})
