import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {Chalk} from 'chalk'
import {describe, it} from 'node:test'
import {fixScript, holdFixesBehindLinks, linkBlocking, planFixes} from '../../src/doctor/fix.js'
import {buildResult, orderFindings, renderHuman, renderJunit, runChecks, summarize, type DoctorHostReport} from '../../src/doctor/report.js'
import type {Check, Finding} from '../../src/doctor/types.js'
import {styleFor} from '../../src/ui/style.js'

const f = (id: string, area: Finding['area'], status: Finding['status'], extra: Partial<Finding> = {}): Finding => ({
  id, area, status, title: `title of ${id}`, seen: `seen ${id}`, ...extra,
})

const findings: Finding[] = [
  f('sshd.running', 'sshd', 'pass'),
  f('files.ssh_dir.mode', 'files', 'warn', {why: 'looser than 0700', fix: {command: 'chmod 700 /home/hevo/.ssh', script: 'chmod 700 /home/hevo/.ssh'}}),
  f('files.authorized_keys.owner', 'files', 'fail', {why: 'sshd cannot read it', fix: {command: 'chown hevo /home/hevo/.ssh/authorized_keys', script: "chown 'hevo' '/home/hevo/.ssh/authorized_keys'"}}),
  f('network.tcp', 'network', 'skip'),
  f('keys.present', 'keys', 'fail', {fix: {command: "bastion add-vendor-key --host h --vendor hevo --key-file hevo.pub --db '10.0.1.5:5432'"}}),
]
const plain = await styleFor({isTTY: false} as NodeJS.WriteStream, {})
const host = (h: string, fs: Finding[]): DoctorHostReport => ({host: h, ran: true, ok: !fs.some((x) => x.status === 'fail'), findings: fs, summary: summarize(fs)})

describe('doctor/report', () => {
  it('orders areas with failures first and failures first inside an area', () => {
    const ids = orderFindings(findings).map((x) => x.id)
    assert.deepEqual(ids, ['files.authorized_keys.owner', 'files.ssh_dir.mode', 'keys.present', 'network.tcp', 'sshd.running'])
  })

  it('exit code: 0 with only warnings, 1 when a check failed, 2 when a host could not be checked', () => {
    assert.equal(buildResult('hevo', [host('a', findings.filter((x) => x.status !== 'fail'))]).exitCode, 0)
    assert.equal(buildResult('hevo', [host('a', findings)]).exitCode, 1)
    const notRun: DoctorHostReport = {host: 'b', ran: false, ok: false, error: {code: 'UNREACHABLE', message: 'nothing listening', exit: 6, suggestions: []}, findings: [], summary: summarize([])}
    const r = buildResult('hevo', [host('a', findings), notRun])
    assert.equal(r.exitCode, 2)
    assert.deepEqual(r.summary, {pass: 1, warn: 1, fail: 2, skip: 1, hosts: 2, hostsNotRun: 1})
  })

  it('human output shows why and the fix for failures and a one-line summary', () => {
    const text = renderHuman(buildResult('hevo', [host('admin@h', findings)]), plain)
    assert.match(text, /✖ FAIL title of files\.authorized_keys\.owner \[files\.authorized_keys\.owner\]\n\s+seen: seen files\.authorized_keys\.owner\n\s+why: {2}sshd cannot read it\n\s+fix: {2}chown hevo/)
    assert.match(text, /doctor: 1 host\(s\), 2 failed, 1 warnings, 1 passed, 1 skipped$/)
    assert.doesNotMatch(text, /\x1b\[/, 'no colour when the stream is not a TTY')
    assert.match(text, /^ {2}sshd {2}\(1 passed\)$/m)
    assert.doesNotMatch(text, /title of sshd\.running/, 'passes are counted, not listed, without --verbose')
    assert.match(renderHuman(buildResult('hevo', [host('admin@h', findings)]), plain, {verbose: true}), /✔ PASS title of sshd\.running/)
  })

  it('JUnit: one suite per host, one case per check; failures, skips and an unreachable host as an error', () => {
    const notRun: DoctorHostReport = {host: 'b&c', ran: false, ok: false, error: {code: 'TIMEOUT', message: 'no answer <5s>', exit: 7, suggestions: ['open port 22']}, findings: [], summary: summarize([])}
    const xml = renderJunit(buildResult('hevo', [host('admin@h', findings), notRun]))
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="bastion doctor" tests="6" failures="2" errors="1" skipped="1">/)
    assert.match(xml, /<testsuite name="admin@h" tests="5" failures="2" errors="0" skipped="1"/)
    assert.match(xml, /<testcase classname="bastion.doctor.files" name="files.authorized_keys.owner: title of files.authorized_keys.owner">\n\s+<failure message="title of files.authorized_keys.owner: seen files.authorized_keys.owner"/)
    assert.match(xml, /<skipped message="seen network.tcp"\/>/)
    assert.match(xml, /<testsuite name="b&amp;c"[^>]*errors="1"/)
    assert.match(xml, /<error message="no answer &lt;5s&gt;" type="TIMEOUT">no answer &lt;5s&gt;\nfix: open port 22<\/error>/)
    const lint = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.read())'], {input: xml, encoding: 'utf8'})
    assert.equal(lint.status, 0, lint.stderr)
  })

  it('human output shows host text in title, seen, why, fix, OS line and could-not-run errors escaped, with our colours intact', () => {
    const c = new Chalk({level: 1})
    const coloured = {ok: (t: string) => c.green(t), bad: (t: string) => c.red(t), warn: (t: string) => c.yellow(t), dim: (t: string) => c.dim(t), bold: (t: string) => c.bold(t), code: (t: string) => c.cyan(t)}
    const hostile = f('keys.line', 'keys', 'fail', {
      title: 'line 1 \x1b[5m',
      seen: 'permitopen="db:5432\x1b[2J" from="10.0.0.0/8\u009b2J\u202e"',
      why: 'why \x1b]52;c;aGk=\x07',
      fix: {command: "sed -i '1d' '/home/e\x1b[2J/.ssh/authorized_keys'"},
    })
    const about = {...host('admin@h', [hostile]), about: 'Debian\x1b[2J, OpenSSH_9.2'}
    const notRun: DoctorHostReport = {host: 'b', ran: false, ok: false, error: {code: 'REMOTE_FAILED', message: 'probe failed:\n\x1b[2Jtail', exit: 8, suggestions: ['try \x07']}, findings: [], summary: summarize([])}
    const text = renderHuman(buildResult('hevo', [about, notRun]), coloured)
    assert.match(text, /\x1b\[31m/, 'failures are still red')
    assert.doesNotMatch(text.replace(/\x1b\[\d+m/g, ''), /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/)
    for (const seen of ['line 1 \\x1b[5m', 'permitopen="db:5432\\x1b[2J" from="10.0.0.0/8\\x9b2J\\u202e"', 'why \\x1b]52;c;aGk=\\x07', "'/home/e\\x1b[2J/.ssh/authorized_keys'", 'Debian\\x1b[2J', 'probe failed:\n\\x1b[2Jtail', 'try \\x07']) {
      assert.ok(text.includes(seen), `${seen} in ${text}`)
    }
  })

  it('JUnit writes controls from the host as visible escapes and stays well-formed XML 1.0', () => {
    const hostile = f('keys.line', 'keys', 'fail', {title: 't\x1b[5m\ud800', seen: 'v\x00\x1b[2J\u009b\ufffe', why: 'w\x07', fix: {command: 'c\x0b'}})
    const warn = f('keys.options.command', 'keys', 'warn', {seen: 'command="\x1b]52;c;aGk=\x07"'})
    const skip = f('keys.options.from', 'keys', 'skip', {seen: 'from="\x1b[2J\nx"'})
    const notRun: DoctorHostReport = {host: 'b', ran: false, ok: false, error: {code: 'REMOTE_FAILED', message: 'failed:\n\x1b[2J', exit: 8, suggestions: ['\x08']}, findings: [], summary: summarize([])}
    const xml = renderJunit(buildResult('hevo', [host('admin@h', [hostile, warn, skip]), notRun]))
    assert.doesNotMatch(xml, /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]|[\ud800-\udfff]/u)
    for (const seen of ['t\\x1b[5m\\ud800', 'v\\x00\\x1b[2J\\x9b\\ufffe', 'w\\x07', 'c\\x0b', 'command="\\x1b]52;c;aGk=\\x07"', '<skipped message="from=&quot;\\x1b[2J\\nx&quot;"/>', 'failed:\n\\x1b[2J', 'fix: \\x08']) {
      assert.ok(xml.includes(seen), `${seen} in ${xml}`)
    }
    const lint = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())'], {input: xml})
    assert.equal(lint.status, 0, String(lint.stderr))
  })

  it('a check that throws becomes a failed finding and the other checks still run', () => {
    const boom: Check<number> = {ids: ['sshd.boom'], area: 'sshd', run: () => { throw new Error('bad facts') }}
    const ok: Check<number> = {ids: ['sshd.ok'], area: 'sshd', run: () => [f('sshd.ok', 'sshd', 'pass')]}
    const out = runChecks([boom, ok], {input: {vendor: 'v', dbs: [], vendorIps: [], sshPort: 22}, facts: 1, now: new Date()})
    assert.deepEqual(out.map((x) => [x.id, x.status]), [['sshd.boom', 'fail'], ['sshd.ok', 'pass']])
  })
})

describe('doctor/fix', () => {
  it('plans the safe fixes once each, and adding the key only when it can be added', () => {
    assert.deepEqual(planFixes(findings, false).map((x) => [x.id, x.kind]), [['files.ssh_dir.mode', 'script'], ['files.authorized_keys.owner', 'script']])
    assert.deepEqual(planFixes(findings, true).map((x) => x.kind), ['script', 'script', 'add-key'])
  })

  it('while a link finding fails, plans no files.* or keys.* fix and does not add the key; other fixes still apply', () => {
    const unlock = f('user.locked', 'user', 'fail', {why: 'locked', fix: {command: "usermod -p '*' 'hevo'", script: "usermod -p '*' 'hevo'"}})
    for (const id of ['files.home.link', 'files.home.shared', 'files.ssh_dir.link', 'files.authorized_keys.link']) {
      const link = f(id, 'files', 'fail', {why: 'a link', fix: {command: "ls -la '/home/hevo/.ssh' && rm '/home/hevo/.ssh'"}})
      const all = [...findings, link, unlock]
      assert.equal(linkBlocking(all)?.id, id)
      assert.deepEqual(planFixes(all, true).map((x) => [x.id, x.kind]), [['user.locked', 'script']], id)
    }
    const passing = [...findings, f('files.ssh_dir.link', 'files', 'pass'), f('files.authorized_keys.link', 'files', 'skip')]
    assert.equal(linkBlocking(passing), undefined)
    assert.deepEqual(planFixes(passing, true).map((x) => x.kind), ['script', 'script', 'add-key'])
  })

  it('while a link finding fails, the files and keys findings show no command (it would write through the link) and say why', () => {
    const sed = f('keys.line', 'keys', 'fail', {why: 'a CRLF line', fix: {command: "sed -i 's/\\r$//' '/home/hevo/.ssh/authorized_keys'"}})
    const unlock = f('user.locked', 'user', 'fail', {why: 'locked', fix: {command: "usermod -p '*' 'hevo'"}})
    const link = f('files.ssh_dir.link', 'files', 'fail', {why: 'a link', fix: {command: "ls -la '/home/hevo/.ssh'"}})
    const held = holdFixesBehindLinks([...findings, sed, unlock, link])
    for (const x of held.filter((y) => (y.area === 'files' || y.area === 'keys') && y.id !== 'files.ssh_dir.link')) {
      assert.equal(x.fix, undefined, x.id)
      if (x.status !== 'pass') assert.match(x.why ?? '', /No fix is offered while files\.ssh_dir\.link fails/, x.id)
    }
    assert.deepEqual(held.find((x) => x.id === 'files.ssh_dir.link')?.fix, link.fix)
    assert.deepEqual(held.find((x) => x.id === 'user.locked')?.fix, unlock.fix)
    assert.deepEqual(holdFixesBehindLinks(findings), findings, 'without a failing link finding nothing changes')
  })

  it('renders one script that sh accepts and that reports each fix', () => {
    const script = fixScript(planFixes(findings, false))
    assert.equal(spawnSync('sh', ['-n'], {input: script}).status, 0)
    const stubbed = script.replace(/chmod 700 \/home\/hevo\/\.ssh/, 'true').replace(/chown 'hevo' '\/home\/hevo\/\.ssh\/authorized_keys'/, 'false')
    const out = spawnSync('sh', ['-s'], {input: stubbed, encoding: 'utf8'}).stdout
    assert.equal(out, '@bastion fixed files.ssh_dir.mode\n@bastion fixfailed files.authorized_keys.owner\n@bastion done\n')
  })
})
