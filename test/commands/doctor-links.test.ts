/**
 * bastion doctor on lab hosts whose vendor home leads out of itself: a symlinked ~/.ssh, a symlinked home and a
 * hard-linked authorized_keys. doctor must name the link and its target, and --fix (human and --json) and --e2e must
 * leave every file outside the vendor's home exactly as it was and suggest no chown/chmod of a path outside the home.
 */
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, makeKey, runCli, type CliRun} from '../helpers/cli.js'

interface F {
  id: string
  status: string
  title: string
  seen: string
  why?: string
  fix?: {command: string; script?: string}
}

/** A key line that is not the vendor's (an admin's), so root's own authorized_keys has known content. */
const ROOT_KEY_LINE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@ops'
const ROOT_SECRET = 'root-only secret: do not hand me to a vendor\n'

describe('bastion doctor on a vendor home that links out of itself: nothing outside the home changes, no chown/chmod outside it is suggested', () => {
  let lab: LabHost
  let home: string
  let conn: string[]
  let db: string

  before(async () => {
    lab = await startLab({usePam: false})
    home = isolatedHome()
    conn = connectionArgs(lab)
    db = `${lab.db.host}:${lab.db.port}`
  })
  after(async () => {
    await lab?.stop()
  })

  async function sh(cmd: string): Promise<string> {
    const r = await lab.exec(cmd)
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
    return r.stdout
  }

  /**
   * A vendor account as useradd makes it (unlocked, as add-vendor-key leaves it, so user.locked has nothing to fix in
   * /etc/shadow), and root's own files with known content.
   */
  async function setUp(name: string): Promise<void> {
    await sh(`useradd -m -s /usr/sbin/nologin ${name} && usermod -p '*' ${name}`)
    await sh(
      'mkdir -p /root/.ssh && chmod 700 /root /root/.ssh && ' +
        `printf '%s\\n' '${ROOT_KEY_LINE}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && ` +
        `printf '%s' '${ROOT_SECRET}' > /root/secret && chmod 600 /root/secret && chown -R root:root /root`,
    )
  }

  /** Owner, group, mode, link count, size and link target of everything under /root, and the content of its files. */
  async function snapshot(extra: string[] = []): Promise<string> {
    const paths = ['/root', ...extra].join(' ')
    return sh(
      `find ${paths} -printf '%p %u %g %m %n %s %y %l\\n' | sort && ` +
        `find ${paths} -type f -exec sha256sum {} + | sort`,
    )
  }

  function doctorArgs(name: string, json: boolean): string[] {
    const key = makeKey('ed25519', name)
    return ['doctor', ...conn, '--vendor', name, '--key-file', key.publicPath, '--db', db, '--fix', ...(json ? ['--json'] : [])]
  }

  /**
   * Every path a chown/chmod in the text names: the words after it, on the same line, for as long as they read as its
   * arguments (options, a mode, an owner, paths; quoted or not).
   */
  function chownChmodTargets(text: string): string[] {
    const out: string[] = []
    for (const line of text.split('\n')) {
      const words = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '')
      words.forEach((w, i) => {
        if (!/^(chown|chmod)$/.test(w)) return
        for (const [j, arg] of words.slice(i + 1).entries()) {
          if (arg.startsWith('/')) out.push(arg.replace(/[),.;:]+$/, ''))
          else if (!(/^-[A-Za-z]+$/.test(arg) || /^([0-7]{3,4}|[ugoa]*[-+=][rwxXst]+)$/.test(arg) || (j === 0 && /^[\w.-]+(:[\w.-]*)?$/.test(arg)))) break
        }
      })
    }
    return out
  }

  function assertNoChangeSuggestedOutside(name: string, text: string) {
    const outside = chownChmodTargets(text).filter((p) => p !== `/home/${name}` && !p.startsWith(`/home/${name}/`))
    assert.deepEqual(outside, [], `chown/chmod suggested outside /home/${name}:\n${text}`)
  }

  /**
   * doctor --fix (human), then doctor --fix --json, then doctor --e2e --json (its temporary key goes into the vendor's
   * authorized_keys); after each, the snapshot is unchanged.
   */
  async function runEveryWay(name: string, extra: string[] = []): Promise<{human: CliRun; json: CliRun; findings: F[]}> {
    const before = await snapshot(extra)
    const human = await runCli(doctorArgs(name, false), {home})
    assert.equal(await snapshot(extra), before, `doctor --fix changed files outside /home/${name}:\n${human.stdout}\n${human.stderr}`)
    const json = await runCli(doctorArgs(name, true), {home})
    assert.ok(json.json, `doctor printed no JSON (exit ${json.code}): ${json.stdout}\n${json.stderr}`)
    assert.equal(await snapshot(extra), before, `doctor --fix --json changed files outside /home/${name}`)
    const e2e = await runCli([...doctorArgs(name, true).filter((a) => a !== '--fix'), '--e2e'], {home})
    assert.equal(await snapshot(extra), before, `doctor --e2e changed files outside /home/${name}: ${e2e.stdout}`)
    const login = (e2e.json?.hosts[0].findings as F[] | undefined)?.find((f) => f.id === 'e2e.login')
    assert.equal(login?.status, 'skip', JSON.stringify(login))
    assert.match(login!.seen, /^not tried: files\.[a-z_.]+ fails \(.+\): the temporary key would land outside the vendor's own home$/)
    const findings = json.json.hosts[0].findings as F[]
    assertNoChangeSuggestedOutside(name, `${human.stdout}\n${human.stderr}`)
    assertNoChangeSuggestedOutside(name, JSON.stringify(json.json.hosts[0].findings.map((f: F) => f.fix?.command ?? '')))
    assertNoChangeSuggestedOutside(name, (json.json.hosts[0].fixes ?? []).map((x: {command: string}) => x.command).join('\n'))
    assert.deepEqual((json.json.hosts[0].fixes ?? []).filter((x: {applied: boolean}) => x.applied), [], 'a fix was applied')
    return {human, json, findings}
  }

  function failing(findings: F[], id: string): F {
    const f = findings.find((x) => x.id === id && x.status === 'fail')
    assert.ok(f, `${id} did not fail: ${findings.filter((x) => x.status !== 'pass').map((x) => `${x.id} ${x.status}: ${x.seen}`).join(' | ')}`)
    return f
  }

  it('~/.ssh a symlink to /root/.ssh: files.ssh_dir.link fails naming /root/.ssh; --fix, --fix --json and --e2e leave /root byte-for-byte unchanged', async () => {
    await setUp('sshlink')
    await sh('ln -s /root/.ssh /home/sshlink/.ssh')
    const {human, findings} = await runEveryWay('sshlink')
    const f = failing(findings, 'files.ssh_dir.link')
    assert.match(f.seen, /\/home\/sshlink\/\.ssh is a symlink to \/root\/\.ssh/)
    assert.equal(f.fix?.script, undefined)
    assert.match(human.stdout, /\/home\/sshlink\/\.ssh is a symlink to \/root\/\.ssh/)
    assert.equal((await sh('cat /root/.ssh/authorized_keys')).trim(), ROOT_KEY_LINE, 'the vendor key went into root\'s authorized_keys')
  })

  it('the home a symlink to /root: files.home.link fails naming /root; --fix, --fix --json and --e2e leave /root byte-for-byte unchanged', async () => {
    await setUp('homelink')
    await sh('rm -rf /home/homelink && ln -s /root /home/homelink')
    const {human, findings} = await runEveryWay('homelink')
    const f = failing(findings, 'files.home.link')
    assert.match(f.seen, /\/home\/homelink is a symlink to \/root\b/)
    assert.equal(f.fix?.script, undefined)
    assert.match(human.stdout, /\/home\/homelink is a symlink to \/root\b/)
  })

  it('a vendor whose passwd home is /root: files.home.shared fails naming root; --fix, --fix --json and --e2e leave /root byte-for-byte unchanged', async () => {
    await setUp('sharedhome')
    await sh('usermod -d /root sharedhome && rm -rf /home/sharedhome')
    const {findings} = await runEveryWay('sharedhome')
    const f = failing(findings, 'files.home.shared')
    assert.equal(f.seen, '/root is also the home of root')
    assert.equal(f.fix?.script, undefined)
    assert.equal((await sh('cat /root/.ssh/authorized_keys')).trim(), ROOT_KEY_LINE, 'the vendor key went into root\'s authorized_keys')
  })

  it('authorized_keys hard-linked to a root-only file in /root: files.authorized_keys.link fails with "hard-linked, 2 links"; --fix, --fix --json and --e2e leave /root and /etc/shadow byte-for-byte unchanged', async () => {
    await setUp('hardlink')
    await sh('install -d -m 700 -o hardlink -g hardlink /home/hardlink/.ssh')
    // /root and /home are separate mounts in the lab: make the link on the machine, where both are one file system
    execFileSync('ln', [join(lab.dir, 'root/secret'), join(lab.dir, 'home/hardlink/.ssh/authorized_keys')])
    assert.equal((await sh('stat -c %h /home/hardlink/.ssh/authorized_keys')).trim(), '2')
    const {human, findings} = await runEveryWay('hardlink', ['/etc/shadow'])
    const f = failing(findings, 'files.authorized_keys.link')
    assert.match(f.seen, /\/home\/hardlink\/\.ssh\/authorized_keys is hard-linked, 2 links/)
    assert.equal(f.fix?.script, undefined)
    assert.match(human.stdout, /hard-linked, 2 links/)
    assert.equal(await sh('cat /root/secret'), ROOT_SECRET)
  })
})
