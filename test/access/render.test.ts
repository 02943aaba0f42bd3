import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Chalk} from 'chalk'
import type {Style} from '../../src/ui/style.js'
import {renderAddHuman, renderListHuman, renderRemoveHuman, type AddVendorKeyResult} from '../../src/access/render.js'

const ESC = '\x1b'
const c = new Chalk({level: 1})
const coloured: Style = {ok: (t) => c.green(t), bad: (t) => c.red(t), warn: (t) => c.yellow(t), dim: (t) => c.dim(t), bold: (t) => c.bold(t), code: (t) => c.cyan(t)}

/** Output with our own colour codes (SGR `ESC[…m`) taken out: what is left must carry no control character. */
function assertOnlyOurEscapes(text: string) {
  assert.match(text, /\x1b\[\d+m/, 'our colour codes are still there')
  assert.doesNotMatch(text.replace(/\x1b\[\d+m/g, ''), /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/)
}

describe('access/render: text from the host is inert, our colours still work', () => {
  it('add-vendor-key: OS, shell, home, repaired paths, leftovers and warnings from the host are shown escaped', () => {
    const result: AddVendorKeyResult = {
      dryRun: false,
      vendor: 'hevo',
      key: {type: 'ssh-ed25519', bits: 256, algorithm: 'ED25519', fingerprint: 'SHA256:abc', comment: 'hevo'},
      line: 'restrict,port-forwarding,permitopen="10.0.1.5:5432" ssh-ed25519 AAAA hevo',
      warnings: [],
      ok: true,
      hosts: [
        {
          host: 'h',
          ok: true,
          result: {
            vendor: 'hevo',
            os: `Debian${ESC}[2J`,
            group: 'present',
            user: 'present',
            uid: 1001,
            ownership: 'created',
            adoptedNow: false,
            shell: `/bin/sh${ESC}]52;c;aGk=\x07`,
            shellChanged: {from: `/bin/ba\u009bsh`, to: '/usr/sbin/nologin'},
            unlocked: false,
            home: `/home/hevo\u202e`,
            homeCreated: true,
            sshDir: 'created',
            repairs: [{path: `/home/hevo/.ssh${ESC}[5m`, what: 'mode', from: '0777', to: '0700'}],
            key: {fingerprint: 'SHA256:abc', type: 'ssh-ed25519', bits: 256, status: 'added', duplicatesRemoved: 0},
            file: 'written',
            cleaned: [`/home/hevo/.ssh/.authorized_keys.bastion.${ESC}[2J`],
            warnings: [`odd${ESC}[2J`],
            vendorForm: {sshHost: '10.0.0.5', sshPort: 22, sshUser: 'hevo'},
          },
        },
      ],
    }
    const text = renderAddHuman(result, coloured)
    assertOnlyOurEscapes(text)
    for (const seen of ['(Debian\\x1b[2J)', 'shell /bin/sh\\x1b]52;c;aGk=\\x07', '/bin/ba\\x9bsh → /usr/sbin/nologin', 'home /home/hevo\\u202e created', '/home/hevo/.ssh\\x1b[5m: mode', 'bastion.\\x1b[2J', 'odd\\x1b[2J']) {
      assert.ok(text.includes(seen), `${seen} in ${text}`)
    }
  })

  it('remove-vendor-key: fingerprints and warnings from the host, and a failed host’s remote message, are shown escaped', () => {
    const text = renderRemoveHuman(
      {
        dryRun: false,
        vendor: 'hevo',
        ok: false,
        hosts: [
          {host: 'a', ok: true, result: {vendor: 'hevo', user: 'present', removed: [{fingerprint: `SHA256:x${ESC}[2J`, owned: false}], kept: [], notFound: [], file: 'written', sessionsKilled: false, warnings: [`w${ESC}[5m`]}},
          {host: 'b', ok: false, error: {code: 'REMOTE_FAILED', message: `b: the script failed:\n${ESC}[2Jtail\u202e`, exit: 8, suggestions: []}},
        ],
      },
      coloured,
    )
    assertOnlyOurEscapes(text)
    assert.ok(text.includes('removed SHA256:x\\x1b[2J'), text)
    assert.ok(text.includes('w\\x1b[5m'), text)
    assert.ok(text.includes('b: the script failed:\n\\x1b[2Jtail\\u202e'), 'a multi-line remote message keeps its lines')
  })

  it('list-vendor-keys: account name, group, shell, home, option values, comments, expiry and problems are shown escaped', () => {
    const text = renderListHuman(
      {
        ok: true,
        hosts: [
          {
            host: 'h',
            ok: true,
            result: {
              absent: [`gone${ESC}[2J`],
              accounts: [
                {name: `ev${ESC}[5mil`, uid: 1, gid: 1, group: `g\u202e`, locked: 'no', shell: `/bin/sh\x07`, home: '/home/evil', keyFile: {mode: '600', uid: 1, gid: 1}, keys: [
                  {line: 1, type: 'ssh-ed25519', bits: 256, algorithm: 'ED25519', fingerprint: 'SHA256:abc', comment: `c${ESC}[2J`, options: [{name: 'permitopen', value: `db:5432${ESC}[2J`}, {name: `x${ESC}`}, {name: 'expiry-time', value: `2027${ESC}[2J`}], expiry: {value: `2027${ESC}[2J`, expired: false}, owned: true, kind: 'key', problems: [`p${ESC}]52;c;aGk=\x07`]},
                  {line: 2, options: [], owned: false, kind: 'invalid', problems: [`"${ESC}[2J" is not a key type`]},
                ]},
                {name: 'nokeys', uid: 2, gid: 2, group: 'nokeys', locked: 'no', shell: '/bin/sh', home: `/home/n\u009b`, keyFile: null, keys: []},
              ],
            },
          },
        ],
      },
      coloured,
    )
    assertOnlyOurEscapes(text)
    for (const seen of ['gone\\x1b[2J', 'ev\\x1b[5mil', 'group g\\u202e', 'shell /bin/sh\\x07', ' c\\x1b[2J', 'permitopen="db:5432\\x1b[2J",x\\x1b', 'expires 2027\\x1b[2J', 'p\\x1b]52;c;aGk=\\x07', '"\\x1b[2J" is not a key type', 'no /home/n\\x9b/.ssh']) {
      assert.ok(text.includes(seen), `${seen} in ${text}`)
    }
  })
})
