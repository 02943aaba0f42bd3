import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  keysCommand,
  keysExpiry,
  keysForwarding,
  keysFrom,
  keysLines,
  keysPermitOpen,
  keysPresent,
  keysStrength,
  lineOptions,
  parseExpiryTime,
} from '../../../src/doctor/checks/keys.js'
import {parseOptions} from '../../../src/access/authorized-keys.js'
import {parseHostPort} from '../../../src/input/parse.js'
import type {HostFacts} from '../../../src/doctor/types.js'
import {
  OTHER_KEY,
  VENDOR_KEY,
  dsaKey,
  healthyFacts,
  healthyInput,
  keyText,
  only,
  rsaKey,
  run,
  statuses,
  vendorLine,
  withKeyFile,
} from '../fixtures/facts.js'

/** Healthy facts whose authorized_keys holds exactly `content`. */
function withContent(content: string): HostFacts {
  return withKeyFile((e) => (e.content = content))
}

const vendorKey = keyText(VENDOR_KEY)

describe('doctor/checks/keys: presence and lines', () => {
  it('keys.present passes by fingerprint whatever the options and comment', () => {
    assert.equal(only(run(keysPresent), 'keys.present').status, 'pass')
    const other = withContent(`no-pty,permitopen="10.0.1.5:5432" ${keyText(VENDOR_KEY, 'renamed by someone')}\n`)
    const f = only(run(keysPresent, other), 'keys.present')
    assert.equal(f.status, 'pass')
    assert.match(f.seen, /line 1 with no-pty/)
  })

  it('keys.present fails for a missing key with the add-vendor-key command, and says when a tagged line holds another key', () => {
    const facts = withContent(`${keyText(OTHER_KEY)}\n${vendorLine({key: OTHER_KEY})}\n`)
    const f = only(run(keysPresent, facts), 'keys.present')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /line 2 \(SHA256:\S+\) is tagged for hevo but holds a different key/)
    assert.match(f.fix!.command, /^bastion add-vendor-key --host 'bastion-1' --vendor 'hevo' --key 'ssh-ed25519 /)
  })

  it('keys.present fails when the key is only on a line sshd ignores, or only as cert-authority', () => {
    const bad = only(run(keysPresent, withContent(`restrict,permitopen=10.0.1.5:5432 ${vendorKey}\n`)), 'keys.present')
    assert.equal(bad.status, 'fail')
    assert.match(bad.seen, /sshd ignores that line/)
    const ca = only(run(keysPresent, withContent(`cert-authority ${vendorKey}\n`)), 'keys.present')
    assert.equal(ca.status, 'fail')
    assert.match(ca.seen, /cert-authority/)
  })

  it('keys.present fails when the user or the file is missing, skips without --key-file when keys exist', () => {
    assert.equal(only(run(keysPresent, healthyFacts({user: {exists: false}})), 'keys.present').status, 'fail')
    const nofile = withKeyFile((e) => {
      e.stat = {path: e.path, exists: false}
      delete e.content
    })
    assert.equal(only(run(keysPresent, nofile), 'keys.present').status, 'fail')
    assert.equal(only(run(keysPresent, healthyFacts(), healthyInput({key: undefined})), 'keys.present').status, 'skip')
    const empty = only(run(keysPresent, withContent('# nothing\n'), healthyInput({key: undefined})), 'keys.present')
    assert.equal(empty.status, 'fail')
    assert.match(empty.fix!.command, /--key-file 'hevo\.pub'/)
  })

  it('keys.line passes for clean files and warns per line with its number: CRLF, duplicate, wrapped, stray text', () => {
    assert.deepEqual(statuses(run(keysLines)), ['pass'])
    const [b64a, b64b] = [VENDOR_KEY.base64.slice(0, 40), VENDOR_KEY.base64.slice(40)]
    const content = [
      `${vendorLine()}\r`,
      keyText(OTHER_KEY),
      keyText(OTHER_KEY, 'again'),
      `ssh-ed25519 ${b64a}`,
      b64b + 'AAAAAAAAAAAAAAAA',
      'please add this key',
    ].join('\n')
    const fs = run(keysLines, withContent(`${content}\n`))
    assert.deepEqual(fs.map((f) => f.title.replace(/.*line /, '').replace(')', '')), ['1', '3', '4', '5', '6'])
    assert.deepEqual(statuses(fs), ['warn', 'warn', 'warn', 'warn', 'warn'])
    assert.match(fs[0]!.seen, /carriage return/)
    assert.equal(fs[0]!.fix!.command, "sed -i 's/\\r$//' '/home/hevo/.ssh/authorized_keys'")
    assert.match(fs[1]!.seen, /also on line 2/)
    assert.equal(fs[1]!.fix!.command, "sed -i '3d' '/home/hevo/.ssh/authorized_keys'")
    assert.match(fs[3]!.seen, /wrapped/)
  })

  it('keys.line fails for a line that carries the vendor\'s key but that sshd ignores', () => {
    const fs = run(keysLines, withContent(`restrict,bogus-option ${vendorKey}\n`))
    const f = only(fs, 'keys.line')
    assert.equal(f.status, 'fail')
    assert.match(f.seen, /Unknown option "bogus-option"/)
    assert.match(f.fix!.command, /^bastion add-vendor-key /)
  })

  it('keys.line skips when no authorized_keys content was gathered', () => {
    const facts = withKeyFile((e) => delete e.content)
    assert.deepEqual(statuses(run(keysLines, facts)), ['skip'])
  })

  it('keys.strength: ed25519 and RSA 2048+ pass, RSA under 2048 and DSA fail, skips without keys', () => {
    assert.equal(only(run(keysStrength), 'keys.strength').status, 'pass')
    assert.equal(only(run(keysStrength, healthyFacts(), healthyInput({key: rsaKey(2048)})), 'keys.strength').status, 'pass')
    const weak = only(run(keysStrength, healthyFacts(), healthyInput({key: rsaKey(1024)})), 'keys.strength')
    assert.equal(weak.status, 'fail')
    assert.match(weak.fix!.command, /^bastion remove-vendor-key --host 'bastion-1' --vendor 'hevo' --fingerprint 'SHA256:/)
    assert.equal(only(run(keysStrength, healthyFacts(), healthyInput({key: dsaKey()})), 'keys.strength').status, 'fail')
    const noKey = healthyInput({key: undefined})
    const dsaInFile = run(keysStrength, withContent(`${keyText(dsaKey())}\n${vendorKey}\n`), noKey)
    assert.deepEqual(statuses(dsaInFile), ['fail', 'pass'])
    assert.deepEqual(statuses(run(keysStrength, withContent(''), noKey)), ['skip'])
  })
})

describe('doctor/checks/keys: options of the vendor\'s line', () => {
  it('lineOptions applies flags in order, as sshauthopt_parse does', () => {
    assert.equal(lineOptions(parseOptions('restrict,port-forwarding')).portForwarding, true)
    assert.equal(lineOptions(parseOptions('port-forwarding,restrict')).portForwarding, false)
    assert.equal(lineOptions(parseOptions('no-port-forwarding')).portForwarding, false)
    assert.equal(lineOptions(parseOptions('no-pty,command="echo hi"')).portForwarding, true)
  })

  it('keys.options.forwarding: restrict without port-forwarding and no-port-forwarding fail; the fix rewrites the line', () => {
    assert.equal(only(run(keysForwarding), 'keys.options.forwarding').status, 'pass')
    const r = only(run(keysForwarding, withContent(`restrict,permitopen="10.0.1.5:5432" ${vendorKey}\n`)), 'keys.options.forwarding')
    assert.equal(r.status, 'fail')
    assert.match(r.why!, /administratively prohibited/)
    assert.match(r.fix!.command, /^bastion add-vendor-key .* --db '10\.0\.1\.5:5432' --vendor-ip '52\.6\.1\.0\/24'$/)
    assert.equal(only(run(keysForwarding, withContent(`no-port-forwarding ${vendorKey}\n`)), 'keys.options.forwarding').status, 'fail')
    assert.equal(only(run(keysForwarding, withContent(`port-forwarding,restrict ${vendorKey}\n`)), 'keys.options.forwarding').status, 'fail')
    assert.equal(only(run(keysForwarding, withContent(`${vendorKey}\n`)), 'keys.options.forwarding').status, 'pass')
  })

  it('no add-vendor-key fix (which --fix would apply) when rewriting would drop an expiry-time or an unreplaced from=', () => {
    const expiring = only(run(keysForwarding, withContent(`restrict,expiry-time="20300101" ${vendorKey}\n`)), 'keys.options.forwarding')
    assert.equal(expiring.fix, undefined)
    assert.match(expiring.why!, /--expires/)
    const fromNoIps = only(run(keysForwarding, withContent(`restrict,from="52.6.1.0/24" ${vendorKey}\n`), healthyInput({vendorIps: []})), 'keys.options.forwarding')
    assert.equal(fromNoIps.fix, undefined)
  })

  it('keys.options.permitopen: a listed host:port (or * port) passes, a missing database fails, the resolved address warns', () => {
    assert.equal(only(run(keysPermitOpen), 'keys.options.permitopen').status, 'pass')
    assert.equal(only(run(keysPermitOpen, withContent(`restrict,port-forwarding,permitopen="10.0.1.5:*" ${vendorKey}\n`)), 'keys.options.permitopen').status, 'pass')
    assert.equal(only(run(keysPermitOpen, withContent(`restrict,port-forwarding ${vendorKey}\n`)), 'keys.options.permitopen').status, 'pass')
    const miss = only(run(keysPermitOpen, withContent(`${vendorLine({permitOpen: ['10.0.1.6:5432']})}\n`)), 'keys.options.permitopen')
    assert.equal(miss.status, 'fail')
    assert.match(miss.seen, /does not include 10\.0\.1\.5:5432/)
    assert.match(miss.why!, /administratively prohibited/)
    const named = parseHostPort('db.internal:5432', '--db')
    const facts = withContent(`${vendorLine()}\n`)
    facts.network = [{target: named.text, host: named.host, port: 5432, addresses: ['10.0.1.5'], result: 'open'}]
    const alias = only(run(keysPermitOpen, facts, healthyInput({dbs: [named]})), 'keys.options.permitopen')
    assert.equal(alias.status, 'warn')
    assert.match(alias.why!, /literally/)
  })

  it('keys.options.permitopen skips without --db or when the line allows no forwarding, fails on an entry sshd rejects', () => {
    assert.deepEqual(statuses(run(keysPermitOpen, healthyFacts(), healthyInput({dbs: []}))), ['skip'])
    assert.deepEqual(statuses(run(keysPermitOpen, withContent(`restrict ${vendorKey}\n`))), ['skip'])
    assert.deepEqual(statuses(run(keysPermitOpen, withContent(`port-forwarding,permitopen="nonsense" ${vendorKey}\n`))), ['fail'])
  })

  it('keys.options.from: a range inside passes, outside fails, a partial overlap warns, negation and wildcards count', () => {
    assert.equal(only(run(keysFrom), 'keys.options.from').status, 'pass')
    const from = (value: string, ips = ['52.6.1.0/24']) => only(run(keysFrom, withContent(`restrict,port-forwarding,from="${value}" ${vendorKey}\n`), healthyInput({vendorIps: ips})), 'keys.options.from')
    assert.equal(from('52.6.0.0/16').status, 'pass')
    assert.equal(from('52.6.1.*').status, 'pass')
    const out = from('35.1.1.0/24')
    assert.equal(out.status, 'fail')
    assert.match(out.why!, /not from a permitted host/)
    assert.match(out.fix!.command, /--vendor-ip '52\.6\.1\.0\/24'/)
    assert.equal(from('52.6.1.0/25').status, 'warn')
    assert.equal(from('52.6.1.0/24,!52.6.1.7').status, 'warn')
    assert.equal(from('52.6.1.1/24').status, 'fail', 'host bits set: sshd rejects the whole from=')
    const names = from('*.hevodata.com')
    assert.equal(names.status, 'fail')
    assert.match(names.seen, /UseDNS no/)
    assert.equal(from('52.6.1.0/24', ['52.6.1.9']).status, 'pass')
  })

  it('keys.options.from passes without from= and skips without --vendor-ip', () => {
    assert.equal(only(run(keysFrom, withContent(`restrict,port-forwarding ${vendorKey}\n`)), 'keys.options.from').status, 'pass')
    assert.deepEqual(statuses(run(keysFrom, healthyFacts(), healthyInput({vendorIps: []}))), ['skip'])
  })

  it('parseExpiryTime reads YYYYMMDD[HHMM[SS]][Z] and refuses other shapes', () => {
    assert.equal(parseExpiryTime('20270630')!.at.toISOString(), '2027-06-30T00:00:00.000Z')
    assert.equal(parseExpiryTime('202706301830Z')!.utc, true)
    assert.equal(parseExpiryTime('20270630183015')!.at.toISOString(), '2027-06-30T18:30:15.000Z')
    assert.equal(parseExpiryTime('2027-06-30'), undefined)
    assert.equal(parseExpiryTime('20271340'), undefined)
  })

  it('keys.options.expiry: past fails (no automatic fix), within 7 days warns, later or none passes, a bad value fails', () => {
    assert.equal(only(run(keysExpiry), 'keys.options.expiry').status, 'pass')
    const exp = (v: string) => only(run(keysExpiry, withContent(`${vendorLine({expiryTime: v})}\n`)), 'keys.options.expiry')
    const past = exp('20261101')
    assert.equal(past.status, 'fail')
    assert.equal(past.fix, undefined)
    assert.equal(exp('20261127').status, 'warn')
    assert.equal(exp('20270630').status, 'pass')
    assert.equal(only(run(keysExpiry, withContent(`restrict,port-forwarding,expiry-time="2027-06-30" ${vendorKey}\n`)), 'keys.options.expiry').status, 'fail')
    const two = only(run(keysExpiry, withContent(`restrict,port-forwarding,expiry-time="20300101",expiry-time="20260101" ${vendorKey}\n`)), 'keys.options.expiry')
    assert.equal(two.status, 'fail', 'the earliest expiry-time applies')
  })

  it('keys.options.command: a forced command passes with a note (ssh -N tunnels open no session)', () => {
    assert.equal(only(run(keysCommand), 'keys.options.command').status, 'pass')
    const f = only(run(keysCommand, withContent(`restrict,port-forwarding,command="/bin/false" ${vendorKey}\n`)), 'keys.options.command')
    assert.equal(f.status, 'pass')
    assert.match(f.seen, /command="\/bin\/false" runs only when/)
  })

  it('keys.options.command: no forced command on an account with a login shell warns that the key runs commands', () => {
    const bash = withContent(`restrict,port-forwarding,permitopen="10.0.1.5:5432" ${vendorKey}\n`)
    bash.user.shell = '/bin/bash'
    const f = only(run(keysCommand, bash), 'keys.options.command')
    assert.equal(f.status, 'warn')
    assert.match(f.seen, /shell is \/bin\/bash/)
    assert.match(f.why ?? '', /command="\/bin\/false"/)
    const forced = withContent(`restrict,port-forwarding,command="/bin/false" ${vendorKey}\n`)
    forced.user.shell = '/bin/bash'
    assert.equal(only(run(keysCommand, forced), 'keys.options.command').status, 'pass')
  })

  it('option checks skip when no line carries the vendor\'s key', () => {
    const facts = withContent(`${keyText(OTHER_KEY)}\n`)
    for (const c of [keysForwarding, keysPermitOpen, keysFrom, keysExpiry, keysCommand]) assert.deepEqual(statuses(run(c, facts)), ['skip'], c.ids[0])
  })

  it('without --key-file every key line is judged, one finding per line', () => {
    const facts = withContent(`no-port-forwarding ${keyText(OTHER_KEY)}\n${vendorLine()}\n`)
    const fs = run(keysForwarding, facts, healthyInput({key: undefined}))
    assert.deepEqual(statuses(fs), ['fail', 'pass'])
    assert.match(fs[0]!.title, /line 1/)
    assert.match(fs[0]!.fix!.command, new RegExp(`--key '${keyText(OTHER_KEY).replace(/[+/]/g, '\\$&')}'`))
  })
})

describe('doctor/checks/keys: automatic fixes never widen access', () => {
  it('a key only on an ignored line with an expiry-time gets no add-vendor-key fix (it would drop the expiry)', () => {
    const content = `restrict,port-forwarding,expiry-time="20300101",bogus ${keyText(VENDOR_KEY)}\n`
    const present = only(run(keysPresent, withContent(content)), 'keys.present')
    assert.equal(present.status, 'fail')
    assert.equal(present.fix, undefined)
    assert.match(present.why!, /--expires <date>/)
    const line = only(run(keysLines, withContent(content)), 'keys.line')
    assert.equal(line.status, 'fail')
    assert.equal(line.fix, undefined)
  })
})
