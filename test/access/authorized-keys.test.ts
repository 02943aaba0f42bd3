import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {BastionError} from '../../src/errors.js'
import {
  formatOwnerTag,
  parseAuthorizedKeys,
  parseOptions,
  parseOwnerTag,
  renderVendorLine,
  type AuthorizedKeyLine,
  type VendorLineSpec,
} from '../../src/access/authorized-keys.js'
import {mpint, parsePublicKey, sshBlob, type PublicKey} from '../../src/access/keys.js'

/** test/access/fixtures in the source tree (tests run from a build directory such as dist/test/access). */
function fixturesDir(): string {
  let d = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = join(d, 'test', 'access', 'fixtures')
    if (existsSync(join(candidate, 'authorized_keys.mixed'))) return candidate
    d = dirname(d)
  }
  throw new Error('test/access/fixtures not found')
}

const FIX = fixturesDir()
const MIXED = join(FIX, 'authorized_keys.mixed')

function pub(name: string): PublicKey {
  return parsePublicKey(readFileSync(join(FIX, 'keys', `${name}.pub`), 'utf8')).key
}

/** Fingerprints `ssh-keygen -lf` prints for the key lines of a file, in order. */
function keygenFingerprints(path: string): string[] {
  const r = spawnSync('ssh-keygen', ['-lf', path], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim().split('\n').map((l) => l.split(' ')[1]!)
}

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bastion-ak-'))
})
after(() => rmSync(dir, {recursive: true, force: true}))

describe('parseOptions follows OpenSSH option grammar', () => {
  it('reads flags and name="value" options, lower-casing names', () => {
    assert.deepEqual(parseOptions('restrict,Port-Forwarding,PermitOpen="db:5432"'), [
      {name: 'restrict'},
      {name: 'port-forwarding'},
      {name: 'permitopen', value: 'db:5432'},
    ])
  })

  it('keeps commas and spaces inside quoted values', () => {
    assert.deepEqual(parseOptions('from="10.0.0.0/8,192.168.0.0/16",command="echo a, b"'), [
      {name: 'from', value: '10.0.0.0/8,192.168.0.0/16'},
      {name: 'command', value: 'echo a, b'},
    ])
  })

  it('undoes \\" inside values and leaves other backslashes alone', () => {
    assert.deepEqual(parseOptions('command="echo \\"hi, there\\" \\\\n"'), [{name: 'command', value: 'echo "hi, there" \\\\n'}])
  })

  it('reads environment="NAME=value" options', () => {
    assert.deepEqual(parseOptions('environment="PATH=/usr/bin:/bin",environment="A=b c"'), [
      {name: 'environment', value: 'PATH=/usr/bin:/bin'},
      {name: 'environment', value: 'A=b c'},
    ])
  })

  it('returns [] for an empty options field', () => {
    assert.deepEqual(parseOptions(''), [])
  })

  it('throws on unbalanced quotes, unquoted values, empty names and a trailing comma (sshd rejects those lines)', () => {
    for (const bad of ['from="10.0.0.1', 'command="a \\"', 'from=10.0.0.1', 'restrict,,pty', 'restrict,', 'restrict, pty', ',restrict']) {
      assert.throws(() => parseOptions(bad), (e: unknown) => e instanceof BastionError && e.code === 'KEY_OPTIONS_SYNTAX' && e.exit === 2, bad)
    }
    assert.throws(() => parseOptions('from="10.0.0.1'), /unbalanced quotes/)
  })
})

describe('parseAuthorizedKeys reads a hand-edited file as sshd does, and never throws', () => {
  let lines: AuthorizedKeyLine[]
  before(() => {
    lines = parseAuthorizedKeys(readFileSync(MIXED, 'utf8'))
  })
  const at = (n: number): AuthorizedKeyLine => lines[n - 1]!

  it('gives one entry per line with 1-based numbers and the raw text (CR kept)', () => {
    const raw = readFileSync(MIXED, 'utf8').split('\n').slice(0, -1)
    assert.equal(lines.length, raw.length)
    lines.forEach((l, i) => {
      assert.equal(l.lineNo, i + 1)
      assert.equal(l.raw, raw[i])
    })
    assert.ok(at(10).raw.endsWith('\r'))
  })

  it('classifies blank, comment, key and invalid lines', () => {
    assert.deepEqual(
      lines.map((l) => l.kind),
      ['comment', 'blank', 'key', 'key', 'key', 'key', 'blank', 'key', 'key', 'key', 'invalid', 'invalid', 'key', 'key', 'invalid', 'invalid', 'comment', 'key', 'key'],
    )
  })

  it('fills keys (type, base64, comment, bits, algorithm, fingerprint) identical to ssh-keygen -lf', () => {
    const withKeys = lines.filter((l) => l.key)
    assert.deepEqual(withKeys.map((l) => l.key!.fingerprint), keygenFingerprints(MIXED))
    assert.deepEqual(at(3).key, pub('alice@laptop'))
    assert.equal(at(5).key!.bits, 2048)
    assert.equal(at(5).key!.algorithm, 'RSA')
    assert.equal(at(10).key!.comment, 'fivetran')
  })

  it('parses options with quoted commas, escaped quotes and environment=', () => {
    assert.equal(at(4).optionsText, 'from="10.0.0.0/8,192.168.0.0/16",no-agent-forwarding')
    assert.deepEqual(at(4).options, [{name: 'from', value: '10.0.0.0/8,192.168.0.0/16'}, {name: 'no-agent-forwarding'}])
    assert.deepEqual(at(5).options, [{name: 'command', value: 'echo "hi, there"'}, {name: 'no-pty'}])
    assert.deepEqual(at(6).options, [{name: 'environment', value: 'PATH=/usr/bin:/bin'}, {name: 'environment', value: 'LANG=C'}])
    assert.deepEqual(at(3).options, [])
    assert.equal(at(3).optionsText, '')
    assert.deepEqual(at(3).problems, [])
  })

  it('reads the ownership tag from tagged lines only (also the early two-token spelling)', () => {
    assert.deepEqual(at(8).owner, {vendor: 'hevo', added: '2026-11-22'})
    assert.equal(at(8).key!.comment, 'hevo-prod bastion:vendor=hevo,added=2026-11-22')
    assert.deepEqual(at(18).owner, {vendor: 'segment', added: '2025-01-02'})
    assert.equal(at(3).owner, undefined)
    assert.equal(at(4).owner, undefined)
  })

  it('notes the same key on another line with other options', () => {
    assert.equal(at(9).key!.fingerprint, at(3).key!.fingerprint)
    assert.ok(at(9).problems.some((p) => /also on line 3/.test(p)))
    assert.deepEqual(at(9).options, [{name: 'restrict'}, {name: 'permitopen', value: '10.0.1.5:5432'}])
  })

  it('notes CRLF as a problem but still parses the key', () => {
    assert.equal(at(10).kind, 'key')
    assert.ok(at(10).problems.some((p) => /CRLF/.test(p)))
  })

  it('marks a key wrapped over two lines as invalid on both lines', () => {
    assert.ok(at(11).problems.some((p) => /wrapped over several lines/.test(p)), at(11).problems.join())
    assert.ok(at(12).problems.some((p) => /continuation of a key wrapped/.test(p)), at(12).problems.join())
    assert.equal(at(11).key, undefined)
  })

  it('keeps DSA and RSA-1024 keys (they may be on hosts already) with a problem each', () => {
    assert.equal(at(13).key!.algorithm, 'DSA')
    assert.ok(at(13).problems.some((p) => /DSA keys are disabled since OpenSSH 7\.0/.test(p)))
    assert.equal(at(14).key!.bits, 1024)
    assert.ok(at(14).problems.some((p) => /1024 bits/.test(p)))
  })

  it('marks unbalanced quotes and unknown options invalid, as sshd ignores those lines', () => {
    assert.ok(at(15).problems.some((p) => /Unbalanced quotes/.test(p)))
    assert.ok(at(16).problems.some((p) => /Unknown option "frobnicate"/.test(p)))
    assert.equal(at(16).key!.comment, 'ci again')
  })

  it('skips leading whitespace like sshd', () => {
    assert.equal(at(19).key!.comment, 'stitch indented')
  })

  it('handles a file without a final newline, an empty file and arbitrary junk without throwing', () => {
    assert.deepEqual(parseAuthorizedKeys(''), [])
    const one = parseAuthorizedKeys(readFileSync(join(FIX, 'keys', 'stitch.pub'), 'utf8').trim())
    assert.equal(one.length, 1)
    assert.equal(one[0]!.kind, 'key')
    let seed = 7
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
    const alphabet = 'ssh-rsa AAAA=,"\\ \t\r\0#from=restrict\u00e9abc+/'
    for (let n = 0; n < 300; n++) {
      let s = ''
      for (let i = rand() % 80; i > 0; i--) s += alphabet[rand() % alphabet.length]
      for (const l of parseAuthorizedKeys(s)) assert.ok(['key', 'comment', 'blank', 'invalid'].includes(l.kind))
    }
  })

  it('reports RSA keys below OpenSSH\'s 1024-bit floor as invalid, with the key still described', () => {
    const blob = sshBlob('ssh-rsa', mpint(Buffer.from([1, 0, 1])), mpint(Buffer.alloc(64, 0xc3)))
    const [l] = parseAuthorizedKeys(`ssh-rsa ${blob.toString('base64')} small\n`)
    assert.equal(l!.kind, 'invalid')
    assert.equal(l!.key!.bits, 512)
    assert.ok(l!.problems.some((p) => /refuses RSA keys shorter than 1024/.test(p)))
  })
})

describe('owner tags', () => {
  it('formatOwnerTag writes bastion:vendor=<v>,added=<d> and parseOwnerTag reads it back', () => {
    const tag = formatOwnerTag({vendor: 'hevo', added: '2026-11-24'})
    assert.equal(tag, 'bastion:vendor=hevo,added=2026-11-24')
    assert.deepEqual(parseOwnerTag(`laptop ${tag}`), {vendor: 'hevo', added: '2026-11-24'})
    assert.equal(formatOwnerTag({vendor: 'x'}), 'bastion:vendor=x')
    assert.deepEqual(parseOwnerTag('bastion:vendor=x'), {vendor: 'x'})
  })

  it('parseOwnerTag ignores comments without a bastion tag or without a vendor', () => {
    assert.equal(parseOwnerTag('alice@laptop'), undefined)
    assert.equal(parseOwnerTag('bastion:added=2026-01-01'), undefined)
    assert.equal(parseOwnerTag(''), undefined)
  })
})

describe('renderVendorLine writes bastion\'s least-privilege line', () => {
  const hevo = (): PublicKey => pub('hevo-prod')
  const spec = (over: Partial<VendorLineSpec> = {}): VendorLineSpec => ({
    key: hevo(),
    vendor: 'hevo',
    permitOpen: ['10.0.1.5:5432'],
    added: '2026-11-24',
    ...over,
  })

  it('renders restrict,port-forwarding,permitopen, the forced command, then the key, the comment and the tag', () => {
    const k = hevo()
    assert.equal(renderVendorLine(spec()), `restrict,port-forwarding,permitopen="10.0.1.5:5432",command="/bin/false" ${k.type} ${k.base64} hevo-prod bastion:vendor=hevo,added=2026-11-24`)
  })

  it('adds every permitopen, from= (comma-joined, quoted) and expiry-time=', () => {
    const line = renderVendorLine(spec({permitOpen: ['db1:5432', '[2001:db8::5]:3306'], from: ['52.6.1.1/32', '34.2.0.0/24'], expiryTime: '20270101'}))
    assert.match(line, /^restrict,port-forwarding,permitopen="db1:5432",permitopen="\[2001:db8::5\]:3306",from="52\.6\.1\.1\/32,34\.2\.0\.0\/24",expiry-time="20270101",command="\/bin\/false" ssh-ed25519 /)
  })

  it('strips an existing bastion tag from the comment, collapses whitespace, and omits an empty comment', () => {
    const k = {...hevo(), comment: '  prod\t key   bastion:vendor=old,added=2020-01-01 '}
    assert.match(renderVendorLine(spec({key: k})), / prod key bastion:vendor=hevo,added=2026-11-24$/)
    const bare = {...hevo(), comment: ''}
    assert.equal(renderVendorLine(spec({key: bare})), `restrict,port-forwarding,permitopen="10.0.1.5:5432",command="/bin/false" ${bare.type} ${bare.base64} bastion:vendor=hevo,added=2026-11-24`)
  })

  it('refuses values that would break the line: quotes, bad destinations, bad vendor names, no permitopen', () => {
    const bad: Array<Partial<VendorLineSpec>> = [
      {permitOpen: ['db:5432"']},
      {permitOpen: []},
      {permitOpen: ['db']},
      {permitOpen: ['db:70000']},
      {from: ['10.0.0.1"']},
      {from: ['10.0.0.1,10.0.0.2']},
      {expiryTime: '2027-01-01'},
      {vendor: 'he vo'},
      {vendor: 'a,b'},
      {vendor: '-x'},
      {added: '24.11.2026'},
    ]
    for (const over of bad) {
      assert.throws(() => renderVendorLine(spec(over)), (e: unknown) => e instanceof BastionError && e.exit === 2, JSON.stringify(over))
    }
  })

  it('writes a vendor name starting with "_" (a valid Linux user name, as parseVendorName and useradd accept) into the tag', () => {
    const line = renderVendorLine(spec({vendor: '_x'}))
    assert.match(line, / bastion:vendor=_x,added=2026-11-24$/)
    assert.equal(parseAuthorizedKeys(`${line}\n`)[0]?.owner?.vendor, '_x')
  })

  it('round-trips: parsing a rendered line gives back the options, the owner and the key', () => {
    const s = spec({permitOpen: ['db.internal:5432', '10.0.1.6:6543'], from: ['52.6.1.1/32'], expiryTime: '20991231'})
    const [l] = parseAuthorizedKeys(renderVendorLine(s) + '\n')
    assert.equal(l!.kind, 'key')
    assert.deepEqual(l!.problems, [])
    assert.deepEqual(l!.options, [
      {name: 'restrict'},
      {name: 'port-forwarding'},
      {name: 'permitopen', value: 'db.internal:5432'},
      {name: 'permitopen', value: '10.0.1.6:6543'},
      {name: 'from', value: '52.6.1.1/32'},
      {name: 'expiry-time', value: '20991231'},
      {name: 'command', value: '/bin/false'},
    ])
    assert.deepEqual(l!.owner, {vendor: 'hevo', added: '2026-11-24'})
    const k = hevo()
    assert.equal(l!.key!.fingerprint, k.fingerprint)
    assert.equal(l!.key!.base64, k.base64)
    assert.equal(l!.key!.comment, `${k.comment} bastion:vendor=hevo,added=2026-11-24`)
  })

  it('rendered lines for every key type are read by ssh-keygen -lf with the same fingerprints', () => {
    const names = ['alice@laptop', 'ops@jump', 'backup@nas', 'fivetran', 'wrapped@host']
    const rendered = names.map((n, i) => renderVendorLine(spec({key: pub(n), vendor: `v${i}`, from: ['10.0.0.0/8', '192.168.0.0/16'], expiryTime: '20991231'})))
    const file = join(dir, 'authorized_keys')
    writeFileSync(file, rendered.join('\n') + '\n')
    assert.deepEqual(keygenFingerprints(file), names.map((n) => pub(n).fingerprint))
    assert.deepEqual(parseAuthorizedKeys(rendered.join('\n')).map((l) => l.kind), names.map(() => 'key'))
  })
})
