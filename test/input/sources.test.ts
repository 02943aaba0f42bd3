/**
 * input/parse's reading of a source address (parseSource, parseCidr): a canonical IPv4 CIDR is read directly, every
 * other form by ipaddr.js; both give the text ipaddr.js's own reading gives, and refuse the same things the same way.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import ipaddr from 'ipaddr.js'
import {BastionError} from '../../src/errors.js'
import {parseSource, sourceWidth, widthKind, widthOf} from '../../src/input/parse.js'

/** What ipaddr.js alone says of a four-part decimal IPv4 source: its network text, or that host bits are set. */
function byIpaddr(text: string): string {
  if (!text.includes('/')) return ipaddr.IPv4.parse(text).toString()
  const [addr, bits] = ipaddr.IPv4.parseCIDR(text)
  const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString()
  return network === addr.toString() ? `${network}/${bits}` : 'host bits'
}

function read(text: string): string {
  try {
    return parseSource(text).cidr
  } catch (error) {
    if (error instanceof BastionError && error.code === 'CIDR_HOST_BITS') return 'host bits'
    throw error
  }
}

describe('input/parse: source addresses', () => {
  it('reads IPv4 addresses and CIDRs of every prefix length to the text ipaddr.js gives, or refuses host bits alike', () => {
    let n = 0
    for (const addr of ['0.0.0.0', '52.6.1.1', '10.0.0.0', '255.255.255.255', '192.168.0.128', '1.2.3.4'])
      for (let bits = 0; bits <= 32; bits++) {
        const text = `${addr}/${bits}`
        assert.equal(read(text), byIpaddr(text), text)
        n++
      }
    for (const addr of ['52.6.1.1', '0.0.0.0', '255.255.255.255']) assert.equal(read(addr), byIpaddr(addr), addr)
    assert.equal(n, 6 * 33)
  })

  it('gives the prefix length and family, 32 for a single address', () => {
    assert.deepEqual(parseSource('52.6.1.0/24'), {cidr: '52.6.1.0/24', bits: 24, v6: false})
    assert.deepEqual(parseSource(' 52.6.1.1 '), {cidr: '52.6.1.1', bits: 32, v6: false})
    assert.deepEqual(parseSource('2001:db8:0::/64'), {cidr: '2001:db8::/64', bits: 64, v6: true})
    assert.deepEqual(parseSource('2001:db8::1'), {cidr: '2001:db8::1', bits: 128, v6: true})
  })

  it('reads the forms the direct way leaves to ipaddr.js: a prefix length with a leading zero is written canonically', () => {
    assert.deepEqual(parseSource('10.0.0.0/08'), {cidr: '10.0.0.0/8', bits: 8, v6: false})
  })

  it('refuses what is not an address or CIDR as before: octets out of range, leading zeros, short forms, prefix 33', () => {
    for (const bad of ['256.1.1.1', '01.2.3.4', '52.6.1', '0x34.6.1.1', '52.6.1.0/33', '52.6.1.0/', 'a.b.c.d', '52.6.1.1/24/1'])
      assert.throws(() => parseSource(bad), (e: BastionError) => e.code === 'CIDR' && e.exit === 2, bad)
    assert.throws(() => parseSource('52.6.1.1,52.6.1.2'), (e: BastionError) => e.code === 'CIDR_LIST')
    assert.throws(() => parseSource('52.6.1.1/24'), (e: BastionError) => e.code === 'CIDR_HOST_BITS' && e.suggestions[0] === '--vendor-ip 52.6.1.0/24')
  })

  it('judges width from the prefix length as sourceWidth does from the text', () => {
    for (const text of ['0.0.0.0/0', '10.0.0.0/7', '10.0.0.0/8', '10.0.0.0/23', '10.0.0.0/24', '52.6.1.1', '::/0', '2000::/15', '2001:db8::/63', '2001:db8::/64']) {
      const source = parseSource(text)
      assert.deepEqual(widthOf(source), sourceWidth(source.cidr), text)
      assert.equal(widthKind(source), sourceWidth(source.cidr)?.kind, text)
    }
  })
})
