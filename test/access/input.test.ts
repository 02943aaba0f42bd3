import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {parseFromCidrs, parseShell, parseVendorName} from '../../src/access/input.js'
import {checkSourceWidth, parseCidr, parseExpires, parseHostPort, sourceWidth} from '../../src/input/parse.js'

function refuses(fn: () => unknown, code: string, suggestion?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BastionError, String(err))
    assert.equal(err.code, code)
    assert.equal(err.exit, 2)
    if (suggestion) assert.ok(err.suggestions.some((s) => suggestion.test(s)), err.suggestions.join(' | '))
    return true
  })
}

describe('access/input', () => {
  it('accepts Linux user names and refuses the rest with a corrected suggestion', () => {
    assert.equal(parseVendorName('hevo'), 'hevo')
    assert.equal(parseVendorName('integrate-io'), 'integrate-io')
    assert.equal(parseVendorName('_svc_1'), '_svc_1')
    refuses(() => parseVendorName('Hevo'), 'VENDOR_NAME', /--vendor hevo/)
    refuses(() => parseVendorName('integrate.io'), 'VENDOR_NAME', /--vendor integrate-io/)
    refuses(() => parseVendorName('1vendor'), 'VENDOR_NAME')
    refuses(() => parseVendorName('a'.repeat(33)), 'VENDOR_NAME')
    refuses(() => parseVendorName(''), 'VENDOR_EMPTY')
    refuses(() => parseVendorName('-rf'), 'VENDOR_NAME')
  })

  it('refuses system and cloud-image login accounts as vendor names, unless only reading', () => {
    for (const n of ['root', 'ubuntu', 'ec2-user', 'admin', 'sshd', 'systemd-network']) refuses(() => parseVendorName(n), 'VENDOR_RESERVED')
    assert.equal(parseVendorName('ubuntu', {allowReserved: true}), 'ubuntu')
  })

  it('parses --db as OpenSSH writes it, IPv6 in brackets', () => {
    assert.deepEqual(parseHostPort('10.0.1.5:5432'), {host: '10.0.1.5', port: 5432, text: '10.0.1.5:5432'})
    assert.deepEqual(parseHostPort('db.internal.example:3306'), {host: 'db.internal.example', port: 3306, text: 'db.internal.example:3306'})
    assert.deepEqual(parseHostPort('[fd00:0::5]:5432'), {host: 'fd00::5', port: 5432, text: '[fd00::5]:5432'})
    refuses(() => parseHostPort('10.0.1.5'), 'HOST_PORT')
    refuses(() => parseHostPort('fd00::5:5432'), 'HOST_PORT', /\[fd00::5\]:5432/)
    refuses(() => parseHostPort('10.0.1.5:0'), 'PORT')
    refuses(() => parseHostPort('10.0.1.5:65536'), 'PORT')
    refuses(() => parseHostPort('db"x:5432'), 'HOST_PORT')
    refuses(() => parseHostPort('999.1.1.1:5432'), 'HOST_PORT')
  })

  it('refuses a comma in one host:port or CIDR value (e.g. --public-host), suggesting only the first value', () => {
    assert.throws(() => parseHostPort('a:22,b:22', '--public-host'), (e: BastionError) => {
      assert.equal(e.code, 'HOST_PORT_LIST')
      assert.match(e.message, /--public-host "a:22,b:22" is a comma-separated list; --public-host takes one host:port/)
      assert.deepEqual(e.suggestions, ['--public-host a:22'])
      return true
    })
    refuses(() => parseCidr('52.6.1.1,52.6.1.2/32'), 'CIDR_LIST', /^--vendor-ip 52\.6\.1\.1$/)
  })

  it('takes add-vendor-key --vendor-ip as a comma list, exactly the addresses given (no merging into a wider prefix)', () => {
    assert.deepEqual(parseFromCidrs(['1.2.3.4,5.6.7.8'], false), {from: ['1.2.3.4', '5.6.7.8'], warnings: []})
    assert.deepEqual(parseFromCidrs(['1.2.3.4, 1.2.3.5', '1.2.3.4'], false).from, ['1.2.3.4', '1.2.3.5'])
  })

  it('parses --vendor-ip CIDRs and refuses host bits, which make sshd reject the whole key', () => {
    assert.equal(parseCidr('52.6.1.1/32'), '52.6.1.1/32')
    assert.equal(parseCidr('35.234.176.144/29'), '35.234.176.144/29')
    assert.equal(parseCidr('52.6.1.1'), '52.6.1.1')
    assert.equal(parseCidr('2001:db8::/32'), '2001:db8::/32')
    refuses(() => parseCidr('52.6.1.1/24'), 'CIDR_HOST_BITS', /--vendor-ip 52\.6\.1\.0\/24/)
    refuses(() => parseCidr('52.6.1/24'), 'CIDR')
    refuses(() => parseCidr('example.com'), 'CIDR')
  })

  it('counts IPv4 prefixes shorter than /8 and IPv6 shorter than /16 as anywhere, shorter than /24 and /64 as wide', () => {
    const kind = (c: string) => sourceWidth(c)?.kind
    for (const c of ['0.0.0.0/0', '0.0.0.0/1', '128.0.0.0/1', '8.0.0.0/7', '::/0', '2000::/3', '2000::/15']) assert.equal(kind(c), 'anywhere', c)
    for (const c of ['10.0.0.0/8', '52.6.0.0/16', '52.6.0.0/23', '2001::/16', '2001:db8::/56']) assert.equal(kind(c), 'wide', c)
    for (const c of ['52.6.1.0/24', '52.6.1.1/32', '52.6.1.1', '2001:db8::/64', '2001:db8::1']) assert.equal(kind(c), 'narrow', c)
    assert.equal(sourceWidth('sg-0123'), undefined)
  })

  it('refuses --vendor-ip 0.0.0.0/0, ::/0 and 0.0.0.0/1 unless --allow-anywhere, stating the rule and suggesting no wider range', () => {
    refuses(() => parseFromCidrs(['0.0.0.0/0'], false), 'CIDR_ANYWHERE', /--allow-anywhere/)
    refuses(() => parseFromCidrs(['52.6.1.1', '::/0'], false), 'CIDR_ANYWHERE', /--vendor-ip 52\.6\.1\.1\/32/)
    assert.throws(() => parseFromCidrs(['0.0.0.0/1'], false), (e: BastionError) => {
      assert.equal(e.code, 'CIDR_ANYWHERE')
      assert.match(e.message, /--vendor-ip 0\.0\.0\.0\/1 admits 2147483648 addresses \(1\/2 of all IPv4 addresses\); an IPv4 prefix shorter than \/8 or an IPv6 prefix shorter than \/16 is refused like 0\.0\.0\.0\/0/)
      for (const s of e.suggestions) for (const m of s.matchAll(/--vendor-ip (\S+)/g)) assert.notEqual(sourceWidth(m[1] ?? '')?.kind, 'anywhere', s)
      return true
    })
    const allowed = parseFromCidrs(['0.0.0.0/0', '0.0.0.0/1'], true)
    assert.deepEqual(allowed.from, ['0.0.0.0/0', '0.0.0.0/1'])
    assert.match(allowed.warnings[0] ?? '', /--vendor-ip 0\.0\.0\.0\/0 admits the whole internet: allowed by --allow-anywhere/)
    assert.equal(allowed.warnings.length, 2)
  })

  it('accepts --vendor-ip wider than /24 (IPv4) or /64 (IPv6) with a warning, and narrower ones silently', () => {
    const r = parseFromCidrs(['52.6.0.0/16', '2001:db8::/48', '35.234.176.144/29', '52.6.1.1'], false)
    assert.deepEqual(r.from, ['52.6.0.0/16', '2001:db8::/48', '35.234.176.144/29', '52.6.1.1'])
    assert.equal(r.warnings.length, 2)
    assert.match(r.warnings[0] ?? '', /--vendor-ip 52\.6\.0\.0\/16 admits 65536 addresses; vendors publish single addresses or small ranges/)
    assert.match(r.warnings[1] ?? '', /--vendor-ip 2001:db8::\/48 admits 2\^80 addresses/)
    assert.equal(checkSourceWidth('52.6.1.0/24', '--vendor-ip', false), undefined)
  })

  it('turns --expires into an OpenSSH expiry-time and refuses the past', () => {
    const now = new Date('2026-11-24T10:00:00Z')
    assert.equal(parseExpires('2027-03-31', now).expiryTime, '20270331')
    assert.equal(parseExpires('2027-03-31T18:05', now).expiryTime, '202703311805')
    assert.equal(parseExpires('90d', now).expiryTime, '202702221000')
    assert.equal(parseExpires('12h', now).expiryTime, '202611242200')
    refuses(() => parseExpires('2026-11-23', now), 'EXPIRES_PAST')
    refuses(() => parseExpires('next tuesday', now), 'EXPIRES')
    refuses(() => parseExpires('2026-13-45', now), 'EXPIRES')
  })

  it('refuses --expires dates that do not exist instead of rolling them over, naming the month and its last day', () => {
    const now = new Date('2026-11-24T10:00:00Z')
    const refusal = (raw: string) => {
      try {
        parseExpires(raw, now)
      } catch (e) {
        assert.ok(e instanceof BastionError && e.code === 'EXPIRES' && e.exit === 2, String(e))
        return e
      }
      assert.fail(`--expires ${raw} was accepted`)
    }
    const feb = refusal('2027-02-30')
    assert.match(feb.message, /--expires "2027-02-30" is not a date: February 2027 has 28 days/)
    assert.ok(feb.suggestions.includes('--expires 2027-02-28 (the last day of February)'), feb.suggestions.join(' | '))
    assert.match(refusal('2027-04-31').message, /April 2027 has 30 days/)
    assert.match(refusal('2027-02-29T10:00').message, /February 2027 has 28 days/)
    assert.match(refusal('2027-13-01').message, /there is no month 13/)
    assert.match(refusal('2027-00-10').message, /there is no month 0/)
    assert.match(refusal('2027-03-00').message, /March 2027 has 31 days/)
    assert.equal(parseExpires('2028-02-29', now).expiryTime, '20280229')
  })

  it('refuses --expires times of day that do not exist (25:00, 24:00, 18:60, 18:00:60) with an example that exists', () => {
    const now = new Date('2026-11-24T10:00:00Z')
    for (const raw of ['2027-03-31T25:00', '2027-03-31T24:00', '2027-03-31 18:60', '2027-03-31T18:00:60']) {
      assert.throws(() => parseExpires(raw, now), (e: BastionError) => {
        assert.equal(e.code, 'EXPIRES')
        assert.match(e.message, new RegExp(`--expires "${raw}" is not a time of day: hours go from 00 to 23`))
        assert.ok(e.suggestions.includes('--expires 2027-03-31 (the start of that day, UTC)'), e.suggestions.join(' | '))
        return true
      })
    }
    assert.equal(parseExpires('2027-03-31T23:59:59', now).expiryTime, '202703312359')
  })

  it('refuses an --expires duration that ends after the year 9999, which expiry-time cannot hold', () => {
    refuses(() => parseExpires('9999999d', new Date('2026-11-24T10:00:00Z')), 'EXPIRES', /--expires 90d/)
  })

  it('accepts only absolute, plain shell paths', () => {
    assert.equal(parseShell('/bin/bash'), '/bin/bash')
    refuses(() => parseShell('bash'), 'SHELL')
    refuses(() => parseShell('/bin/sh;reboot'), 'SHELL')
  })
})
