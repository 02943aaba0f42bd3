import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  addrMatchList,
  matchHostAndIp,
  matchPattern,
  matchPatternList,
  matchUser,
  openAllows,
  parseCidrLikeSshd,
  parseOpenPermission,
  sampleAddresses,
} from '../../../src/doctor/checks/match.js'

describe('doctor/checks/match (OpenSSH match.c / addrmatch.c semantics)', () => {
  it('matchPattern: * and ? wildcards, everything else literal and case-sensitive', () => {
    assert.equal(matchPattern('hevo', 'he*'), true)
    assert.equal(matchPattern('hevo', 'h?vo'), true)
    assert.equal(matchPattern('hevo', 'h?o'), false)
    assert.equal(matchPattern('Hevo', 'hevo'), false)
    assert.equal(matchPattern('a.b', 'a?b'), true)
    assert.equal(matchPattern('axb', 'a.b'), false, 'a dot is literal')
    assert.equal(matchPattern('', '*'), true)
  })

  it('matchPatternList: a matching negation wins over a positive match', () => {
    assert.equal(matchPatternList('hevo', 'he*,!hevo'), -1)
    assert.equal(matchPatternList('hevo', 'alice,he*'), 1)
    assert.equal(matchPatternList('hevo', 'alice,bob'), 0)
  })

  it('parseCidrLikeSshd: refuses host bits and masks too long (sshd: "Inconsistent mask length")', () => {
    assert.equal(parseCidrLikeSshd('10.0.0.1/8'), -2)
    assert.equal(parseCidrLikeSshd('10.0.0.0/33'), -2)
    assert.equal(parseCidrLikeSshd('*.example.com'), -1)
    const ok = parseCidrLikeSshd('10.0.0.0/8')
    assert.ok(typeof ok === 'object' && ok.bits === 8)
  })

  it('addrMatchList: CIDRs and addresses by network, other entries as wildcards over the address text', () => {
    assert.equal(addrMatchList('52.6.1.9', '52.6.1.0/24'), 1)
    assert.equal(addrMatchList('52.6.1.9', '52.6.1.*'), 1)
    assert.equal(addrMatchList('52.6.2.9', '52.6.1.0/24'), 0)
    assert.equal(addrMatchList('52.6.1.9', '52.6.1.0/24,!52.6.1.9'), -1)
    assert.equal(addrMatchList('52.6.1.9', '52.6.1.1/24'), -2)
    assert.equal(addrMatchList('2001:db8::5', '2001:db8::/32'), 1)
    assert.equal(addrMatchList('2001:db8::5', '52.0.0.0/8'), 0, 'families never match each other')
  })

  it('matchHostAndIp: a negated host-name or address match denies; an invalid CIDR is an error', () => {
    assert.equal(matchHostAndIp('52.6.1.9', '52.6.1.9', '52.6.1.0/24'), 1)
    assert.equal(matchHostAndIp('52.6.1.9', '52.6.1.9', '*.hevodata.com'), 0)
    assert.equal(matchHostAndIp('x.hevodata.com', '52.6.1.9', '*.hevodata.com'), 1)
    assert.equal(matchHostAndIp('x.hevodata.com', '52.6.1.9', '*.hevodata.com,!52.6.1.9'), 0)
    assert.equal(matchHostAndIp('52.6.1.9', '52.6.1.9', '52.6.1.9/8'), -1)
  })

  it('matchUser: user or user@host-list (CIDR allowed in the host part)', () => {
    assert.equal(matchUser('hevo', '52.6.1.9', '52.6.1.9', 'hevo'), 1)
    assert.equal(matchUser('hevo', '52.6.1.9', '52.6.1.9', 'hevo@52.6.1.0/24'), 1)
    assert.equal(matchUser('hevo', '52.6.2.9', '52.6.2.9', 'hevo@52.6.1.0/24'), 0)
    assert.equal(matchUser('hevo', '52.6.1.9', '52.6.1.9', '*@52.6.1.0/24,!52.6.1.9'), 0)
    assert.equal(matchUser('alice', '52.6.1.9', '52.6.1.9', 'h*'), 0)
  })

  it('parseOpenPermission / openAllows: literal host, "*" for host or port, brackets stripped for IPv6', () => {
    const p = parseOpenPermission('db.internal:5432')!
    assert.equal(openAllows(p, 'db.internal', 5432), true)
    assert.equal(openAllows(p, 'DB.internal', 5432), false, 'host compared with strcmp')
    assert.equal(openAllows(p, '10.0.1.5', 5432), false, 'no DNS lookup')
    assert.equal(openAllows(parseOpenPermission('db.internal:*')!, 'db.internal', 1), true)
    assert.equal(openAllows(parseOpenPermission('*:5432')!, 'anything', 5432), true)
    assert.equal(openAllows(parseOpenPermission('[fd00::5]:5432')!, 'fd00::5', 5432), true)
    assert.equal(openAllows(parseOpenPermission('db/5432')!, 'db', 5432), true)
    assert.equal(parseOpenPermission('nocolon'), undefined)
    assert.equal(parseOpenPermission('db:99999'), undefined)
  })

  it('sampleAddresses: a small range in full, a large one by its edges and the edges of the list\'s CIDRs', () => {
    assert.equal(sampleAddresses('52.6.1.0/30').join(' '), '52.6.1.0 52.6.1.1 52.6.1.2 52.6.1.3')
    assert.deepEqual(sampleAddresses('52.6.1.7'), ['52.6.1.7'])
    const big = sampleAddresses('10.0.0.0/16', '10.0.5.0/24')
    assert.ok(big.includes('10.0.0.0') && big.includes('10.0.255.255'))
    assert.ok(big.includes('10.0.5.0') && big.includes('10.0.4.255') && big.includes('10.0.6.0'))
    assert.deepEqual(sampleAddresses('2001:db8::/127'), ['2001:db8::', '2001:db8::1'])
    assert.deepEqual(sampleAddresses('not-an-address'), [])
  })
})
