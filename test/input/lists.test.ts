import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {listValues, parseCidrs, parseHostPorts} from '../../src/input/parse.js'
import {renamedFlagWarnings, renamedFrom} from '../../src/input/renamed-flags.js'

describe('input/lists: one way to give a list', () => {
  it('splits every repeat of a list flag at commas, trimming and dropping blanks', () => {
    assert.deepEqual(listValues(['a,b', ' c ', 'd, ,e,']), ['a', 'b', 'c', 'd', 'e'])
    assert.deepEqual(listValues([]), [])
    assert.deepEqual(listValues([' , ']), [])
  })

  it('parses --db lists repeated or comma-separated to the same destinations, IPv6 in brackets, duplicates once', () => {
    const texts = (raw: string[]) => parseHostPorts(raw).map((h) => h.text)
    assert.deepEqual(texts(['10.0.1.5:5432,[fd00::5]:5432', 'db.internal:5432']), ['10.0.1.5:5432', '[fd00::5]:5432', 'db.internal:5432'])
    assert.deepEqual(texts(['10.0.1.5:5432', '[fd00::5]:5432', 'db.internal:5432', '10.0.1.5:5432']), ['10.0.1.5:5432', '[fd00::5]:5432', 'db.internal:5432'])
  })

  it('refuses a bad piece of a --db list by itself, naming the flag', () => {
    assert.throws(() => parseHostPorts(['10.0.1.5:5432,db.internal']), (e: BastionError) =>
      e.code === 'HOST_PORT' && e.exit === 2 && /^--db "db\.internal" has no port/.test(e.message))
    assert.throws(() => parseHostPorts(['fd00::5:5432'], '--db'), (e: BastionError) => e.code === 'HOST_PORT' && e.suggestions[0] === '--db [fd00::5]:5432')
  })

  it('parses --vendor-ip lists repeated or comma-separated to exactly the addresses given, never a wider prefix', () => {
    assert.deepEqual(parseCidrs(['52.6.1.1,52.6.1.2/32', '2001:db8::1']), ['52.6.1.1', '52.6.1.2/32', '2001:db8::1'])
    assert.deepEqual(parseCidrs(['52.6.1.1', '52.6.1.1']), ['52.6.1.1'])
  })

  it('refuses a --vendor-ip piece with host bits, suggesting only that network or that single address', () => {
    assert.throws(() => parseCidrs(['52.6.1.1,52.6.1.5/24']), (e: BastionError) => {
      assert.equal(e.code, 'CIDR_HOST_BITS')
      assert.match(e.message, /^--vendor-ip "52\.6\.1\.5\/24" has host bits set/)
      assert.deepEqual(e.suggestions, ['--vendor-ip 52.6.1.0/24', '--vendor-ip 52.6.1.5/32 for that single address'])
      return true
    })
  })
})

describe('input/renamed-flags: old names as hidden aliases', () => {
  const flags: Record<string, {multiple?: boolean; aliases?: string[]}> = {'vendor-ip': renamedFrom({multiple: true}, 'from', 'cidr'), db: renamedFrom({}, 'permit-open'), vendor: {}}

  it('keeps the flag as it was and adds the old names as aliases', () => {
    assert.deepEqual(flags['vendor-ip'], {multiple: true, aliases: ['from', 'cidr']})
  })

  it('warns once per old name used, as --old value or --old=value, in the order of the flags', () => {
    assert.deepEqual(renamedFlagWarnings(['--permit-open=a:1', '--from', '1.2.3.4', '--from', '1.2.3.5', '--vendor', 'x'], flags), [
      '--from is deprecated and will be removed in the next release: use --vendor-ip (the same flag)',
      '--permit-open is deprecated and will be removed in the next release: use --db (the same flag)',
    ])
  })

  it('does not warn for the new names, for look-alike flags, or for arguments after --', () => {
    assert.deepEqual(renamedFlagWarnings(['--vendor-ip', '1.2.3.4', '--db', 'a:1', '--fromage', '--', '--from'], flags), [])
  })
})
