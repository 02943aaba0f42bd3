/**
 * The Azure customData under real cloud-init (issue 12): the plan's customData for a vendor with a key (planCreate,
 * pure), in the wire form Azure hands the VM (encodeCustomData: the script, gzip-compressed when it is large), is the
 * user-data of a NoCloud seed (/var/lib/cloud/seed/nocloud/) on a booted lab host (Debian bookworm, systemd as pid 1,
 * Debian's cloud-init package in a rootfs variant cached apart). cloud-init runs it at boot, under systemd, as on a VM;
 * the test then reads the host: the vendor's nologin user, ~/.ssh 0700 and authorized_keys 0600 with the
 * least-privilege line, the sshd drop-in (sshd -t passes), ssh.service active; and doctor --host --vendor passes.
 *
 * The lab's cloud.cfg.d tells cloud-init what is the lab's, not the VM's: the only datasource is the seed (no metadata
 * service to probe), the network is set up by the lab (not by cloud-init), and the host key is the one the lab pinned
 * in its known_hosts (cloud-init would make new ones). Everything the customData itself does runs as on Azure.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parseCreateRequest} from '../../src/cloud/create-input.js'
import {parseAzureCreateOptions, toAzureRequest} from '../../src/cloud/azure/input.js'
import {encodeCustomData, planCreate, type AzureCreatePlan} from '../../src/cloud/azure/plan.js'
import {SSHD_DROPIN_PATH} from '../../src/cloud/user-data.js'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {makeKey, runCli} from '../helpers/cli.js'
import {plan as awsPlan} from './helpers.js'
import {startBootedLab, type BootFileContext, type BootedLabHost} from '../lab/booted.js'
import {connectionArgs} from '../lab/lab.js'

const NAME = 'ci-jump'
const hevo = makeKey('ed25519', 'hevo@prod')
const dir = mkdtempSync(join(tmpdir(), 'bastion-cloud-init-'))
const adminPub = join(dir, 'admin.pub')
writeFileSync(adminPub, generateEd25519('me@laptop').publicKey)

/** `create --cloud azure --public-ip … --key-file hevo.pub --db <the lab's db>` as the command makes its plan. */
async function azurePlan(db: string): Promise<AzureCreatePlan> {
  const common = await parseCreateRequest({
    name: NAME, vendor: 'hevo', 'vendor-ip': ['52.6.1.1/32'], 'admin-cidr': ['203.0.113.7/32'], 'public-key-file': adminPub, 'key-file': hevo.publicPath, db: [db],
  })
  const own = parseAzureCreateOptions({'resource-group': 'rg-data', subnet: 'vnet-data/snet-bastion', 'public-ip': true}, common.request)
  return planCreate(toAzureRequest({...common.request, options: own.options}))
}

const LAB_CLOUD_CFG = [
  '# bastion booted lab: what is the lab\'s, not the VM\'s',
  'datasource_list: [NoCloud, None]',
  'network: {config: disabled}',
  'ssh_deletekeys: false',
  'ssh_genkeytypes: []',
  'preserve_hostname: true',
  'manage_etc_hosts: false',
  '',
].join('\n')

describe('the Azure customData under real cloud-init on a booted lab host (NoCloud seed, at boot)', () => {
  let lab: BootedLabHost
  let plan: AzureCreatePlan
  let wire: Buffer
  let db: string

  before(async () => {
    lab = await startBootedLab({
      name: NAME,
      // debootstrap resolves no virtual packages: python3-cryptography needs python3-cffi-backend-api-*, which
      // python3-cffi-backend provides (apt would pick it by itself)
      extraPackages: ['cloud-init', 'python3-cffi-backend'],
      bootTimeoutMs: 600_000,
      // the plan's permitopen is the lab's database, known once the lab has its slot
      bootFiles: async (l: BootFileContext) => {
        db = `${l.db.host}:${l.db.port}`
        plan = await azurePlan(db)
        wire = encodeCustomData(plan.vm.customData).data
        return [
          {path: '/var/lib/cloud/seed/nocloud/meta-data', content: `instance-id: iid-${NAME}-${l.slot}\nlocal-hostname: ${NAME}\n`, mode: 0o644},
          {path: '/var/lib/cloud/seed/nocloud/user-data', content: wire, mode: 0o600},
          {path: '/etc/cloud/cloud.cfg.d/90-bastion-lab.cfg', content: LAB_CLOUD_CFG, mode: 0o644},
          // a cloud image has its locale available; debootstrap's minbase lists none in /etc/locale.gen, so cloud-init's
          // locale module (locale-gen en_US.UTF-8, then update-locale) would fail with "invalid locale settings"
          {path: '/etc/locale.gen', content: 'en_US.UTF-8 UTF-8\n', mode: 0o644},
        ]
      },
    })
  })
  after(async () => {
    await lab?.stop()
  })

  const sh = async (command: string) => {
    const r = await lab.exec(command, undefined, {timeoutMs: 60_000})
    return r
  }

  it('cloud-init ran at boot under systemd from the NoCloud seed, and the customData reported done', async () => {
    assert.ok(wire.length > 0 && plan.vm.customData.startsWith('#!/bin/sh\n'))
    // AWS boots the very same script as its user-data: what runs here is what both clouds' VMs run
    assert.equal(awsPlan({name: NAME, ...(plan.vendorKey ? {vendorKey: plan.vendorKey} : {})}).instance.userData, plan.vm.customData)
    const status = await sh('cloud-init status --long')
    assert.match(status.stdout, /^status: done$/m, status.stdout + status.stderr)
    const result = JSON.parse((await sh('cat /run/cloud-init/result.json')).stdout) as {v1: {datasource: string; errors: string[]}}
    assert.match(result.v1.datasource, /DataSourceNoCloud/)
    assert.deepEqual(result.v1.errors, [])
    for (const unit of ['cloud-init-local.service', 'cloud-init.service', 'cloud-config.service', 'cloud-final.service']) {
      const show = await sh(`systemctl show --value -p ActiveState ${unit}; systemctl show --value -p Result ${unit}`)
      assert.equal(show.stdout, 'active\nsuccess\n', `${unit}: ${show.stdout}`)
    }
    // the script's own report, as cloud-init logs a user script's output (and Azure's boot diagnostics show it)
    const out = (await sh('cat /var/log/cloud-init-output.log')).stdout
    assert.match(out, new RegExp(`^bastion-init: start ${NAME}$`, 'm'), out)
    assert.match(out, /^bastion-init: vendor hevo ready$/m, out)
    assert.match(out, new RegExp(`^bastion-init: done ${NAME}$`, 'm'), out)
    assert.doesNotMatch(out, /bastion-init: (ERROR|failed)/)
  })

  it('the vendor user has a nologin shell, ~/.ssh 0700 and authorized_keys 0600 owned by it, with the least-privilege line', async () => {
    assert.match((await sh('getent passwd hevo')).stdout, /^hevo:x:\d+:\d+:[^:]*:\/home\/hevo:\/usr\/sbin\/nologin\n$/)
    assert.equal((await sh("stat -c '%U:%G %a' /home/hevo/.ssh /home/hevo/.ssh/authorized_keys")).stdout, 'hevo:hevo 700\nhevo:hevo 600\n')
    const ak = (await sh('cat /home/hevo/.ssh/authorized_keys')).stdout
    const key = hevo.publicText.trim().split(/\s+/).slice(0, 2).join(' ')
    // no from=: the vendor's addresses are enforced by the NSG / DNAT rule (behind a firewall the VM sees its SNAT address)
    const line = `restrict,port-forwarding,permitopen="${db}",command="/bin/false" ${key} hevo@prod bastion:vendor=hevo,added=`
    assert.ok(ak.startsWith(line), ak)
    assert.equal(ak.trimEnd().split('\n').length, 1)
  })

  it('the sshd drop-in is in place, sshd -t passes and ssh.service is active', async () => {
    assert.equal((await sh(`stat -c '%U:%G %a' ${SSHD_DROPIN_PATH}`)).stdout, 'root:root 644\n')
    const t = await sh('/usr/sbin/sshd -t')
    assert.equal(t.code, 0, t.stderr)
    assert.equal((await sh('systemctl is-active ssh.service')).stdout, 'active\n')
    const eff = await sh('/usr/sbin/sshd -T -C user=hevo,host=vendor.example,addr=52.6.1.1')
    assert.match(eff.stdout, /^passwordauthentication no$/m)
    assert.match(eff.stdout, /^allowtcpforwarding local$/m)
  })

  it('bastion doctor --host … --vendor hevo passes the host checks', async () => {
    const r = await runCli(['doctor', ...connectionArgs(lab), '--vendor', 'hevo', '--key-file', hevo.publicPath, '--db', db, '--vendor-ip', '52.6.1.1/32', '--json'], {home: dir, timeoutMs: 120_000})
    const findings = (r.json?.hosts?.[0]?.findings ?? []) as {id: string; status: string; seen?: string}[]
    const failed = findings.filter((f) => f.status === 'fail').map((f) => `${f.id}: ${f.seen ?? ''}`)
    assert.deepEqual(failed, [], r.stdout + r.stderr)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.ok(findings.filter((f) => f.status === 'pass').length >= 10, findings.map((f) => `${f.id} ${f.status}`).join('\n'))
  })
})
