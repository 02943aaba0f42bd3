import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {BastionError} from '../../src/errors.js'
import {parsePublicKey} from '../../src/access/keys.js'
import {checkScriptRun, parseFacts, renderScript} from '../../src/remote/script.js'
import {addScript, applyAdd, applyList, applyRemove, expiryDate, fingerprintToHex, hexToFingerprint, planAdd, removeScript} from '../../src/access/service.js'
import {type ScriptRunner} from '../../src/remote/run.js'

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJYP2iZOEQ8knqmdziqItl1JNAP2HxrCPK4PCxv7x/P6 hevo@prod'
const key = parsePublicKey(KEY).key
const plan = planAdd({vendor: 'hevo', key, permitOpen: [{host: '10.0.1.5', port: 5432, text: '10.0.1.5:5432'}], today: '2026-11-24'})

function fake(stdout: string, code = 0, stderr = ''): {run: ScriptRunner; scripts: string[]} {
  const scripts: string[] = []
  return {scripts, run: async (s) => (scripts.push(s), {code, stdout, stderr})}
}

describe('access/service', () => {
  it('plans the least-privilege line and splits off the ownership tag for the script', () => {
    assert.equal(plan.line, `restrict,port-forwarding,permitopen="10.0.1.5:5432",command="/bin/false" ${KEY} bastion:vendor=hevo,added=2026-11-24`)
    assert.equal(plan.linePrefix, `restrict,port-forwarding,permitopen="10.0.1.5:5432",command="/bin/false" ${KEY}`)
  })

  it('renders a script that POSIX sh parses, with every value quoted', () => {
    const evil = planAdd({...plan, key: {...key, comment: `x'; rm -rf / #$(reboot)`}})
    const script = addScript(evil)
    assert.match(script, /^VENDOR='hevo'$/m)
    const r = spawnSync('sh', ['-n'], {input: script, encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    // Evaluate only the parameter block: the values come back exactly.
    const header = script.split('\n').filter((l, i, all) => i < all.findIndex((x) => x.startsWith('export ')) + 1).join('\n')
    const printed = spawnSync('sh', ['-c', `${header}\nprintf %s "$LINE_PREFIX"`], {encoding: 'utf8'}).stdout
    assert.equal(printed, evil.linePrefix)
  })

  it('reads what the add script reports', async () => {
    const {run, scripts} = fake(
      [
        '@bastion os debian 12', '@bastion group created', '@bastion user created', '@bastion uid 1001', '@bastion shell /usr/sbin/nologin',
        '@bastion unlocked yes', '@bastion home /home/hevo', '@bastion ssh_dir created', '@bastion repaired /home/my home mode 775 755',
        '@bastion key added', '@bastion file written', '@bastion done',
      ].join('\n'),
    )
    const r = await applyAdd('h', run, plan)
    assert.equal(scripts.length, 1, 'one round trip')
    assert.deepEqual(
      {user: r.user, group: r.group, uid: r.uid, unlocked: r.unlocked, sshDir: r.sshDir, status: r.key.status, file: r.file, os: r.os},
      {user: 'created', group: 'created', uid: 1001, unlocked: true, sshDir: 'created', status: 'added', file: 'written', os: 'debian 12'},
    )
    assert.deepEqual(r.repairs, [{path: '/home/my home', what: 'mode', from: '775', to: '755'}])
  })

  it('turns a remote error line into a BastionError with the remote code, exit 8 and a fix', async () => {
    const {run} = fake('@bastion group present\n@bastion error SYMLINK /home/hevo/.ssh is a symbolic link\n', 3)
    await assert.rejects(applyAdd('h1', run, plan), (e: unknown) => {
      assert.ok(e instanceof BastionError)
      assert.equal(e.code, 'REMOTE_SYMLINK')
      assert.equal(e.exit, 8)
      assert.match(e.message, /^h1: \/home\/hevo\/\.ssh is a symbolic link/)
      assert.ok(e.suggestions.length > 0)
      return true
    })
  })

  it('a script that dies without reporting done is a failure with its stderr', () => {
    assert.throws(() => checkScriptRun('h', 'x.sh', {code: 2, stdout: '@bastion group present\n', stderr: 'sh: 1: awk: not found\n'}), /awk: not found/)
    assert.throws(() => checkScriptRun('h', 'x.sh', {code: 0, stdout: '@bastion group present\n', stderr: ''}), /failed/)
  })

  it('converts fingerprints to the hex digests sha256sum prints, and back', () => {
    const hex = fingerprintToHex(key.fingerprint)
    assert.match(hex, /^[0-9a-f]{64}$/)
    assert.equal(hexToFingerprint(hex), key.fingerprint)
    const blobDigest = spawnSync('sh', ['-c', `printf %s '${key.base64}' | base64 -d | sha256sum | cut -d' ' -f1`], {encoding: 'utf8'}).stdout.trim()
    assert.equal(blobDigest, hex)
  })

  it('reads what the remove script reports, including fingerprints it did not find', async () => {
    const other = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU'
    const {run, scripts} = fake(`@bastion user present\n@bastion removed ${fingerprintToHex(key.fingerprint)} owned\n@bastion kept ${'ab'.repeat(32)} foreign\n@bastion file written\n@bastion done\n`)
    const r = await applyRemove('h', run, {vendor: 'hevo', mode: 'fingerprints', fingerprints: [key.fingerprint, other], deleteUser: false, loginUser: 'admin'})
    assert.match(scripts[0]!, new RegExp(`DIGESTS='${fingerprintToHex(key.fingerprint)} ${fingerprintToHex(other)}'`))
    assert.deepEqual(r.removed, [{fingerprint: key.fingerprint, owned: true}])
    assert.deepEqual(r.notFound, [other])
    assert.equal(r.kept[0]!.owned, false)
    assert.equal(r.file, 'written')
    assert.match(removeScript({vendor: 'hevo', mode: 'all', fingerprints: [], deleteUser: true, loginUser: 'admin'}), /^DELETE_USER='1'$/m)
  })

  it('lists accounts with parsed keys, expiry judged against now', async () => {
    const text = `${plan.linePrefix.replace('restrict', 'expiry-time="20200101",restrict')} bastion:vendor=hevo,added=2019-05-05\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJYP2iZOEQ8knqmdziqItl1JNAP2HxrCPK4PCxv7x/P6 other\n`
    const {run} = fake(
      `@bastion account hevo 1001 1001 hevo no /usr/sbin/nologin /home/hevo\n@bastion keyfile hevo 600 1001 1001 ${Buffer.from(text).toString('base64')}\n@bastion absent acme\n@bastion done\n`,
    )
    const r = await applyList('h', run)
    assert.deepEqual(r.absent, ['acme'])
    const [k1, k2] = r.accounts[0]!.keys
    assert.equal(k1!.owned, true)
    assert.equal(k1!.added, '2019-05-05')
    assert.deepEqual(k1!.expiry, {value: '20200101', expired: true})
    assert.equal(k2!.owned, false)
    assert.ok(k2!.problems.some((p) => /duplicate|again|same key/i.test(p)), k2!.problems.join('|'))
    assert.equal(expiryDate('202701021530')?.toISOString(), '2027-01-02T15:30:00.000Z')
  })

  it('parses @bastion fact lines and ignores everything else', () => {
    assert.deepEqual(parseFacts('noise\n@bastion key added\n@bastion done\n'), [
      {key: 'key', args: ['added'], rest: 'added'},
      {key: 'done', args: [], rest: ''},
    ])
    assert.throws(() => renderScript('vendor-add.sh', {'bad-name': 'x'}))
  })
})
