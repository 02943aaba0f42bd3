/**
 * The three ways of doing the same job, as command specs: bastion (one process, every --host), Ansible (one
 * ansible-playbook run, -f = number of hosts, its best case) and the raw SSH floor (one OpenSSH client per host, all
 * at once, each piping the very script bastion renders into `sudo -n sh -s`).
 */
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {probeScript} from '../src/doctor/probe.js'
import type {DoctorInput} from '../src/doctor/types.js'
import {packageRoot} from '../src/paths.js'
import {parseHostPort, todayUtc} from '../src/input/parse.js'
import type {PublicKey} from '../src/access/keys.js'
import {addScript, planAdd} from '../src/access/service.js'
import type {Fleet, RunSpec} from './lib.js'

/** The database every lab resolves (its own /etc/hosts): one --db value fits every host. */
export const DB = 'db.lab:5432'

export interface BenchContext {
  dir: string
  /** Isolated HOME for bastion (no ~/.ssh/config, agent or known_hosts of this machine). */
  home: string
  vendorKey: PublicKey
  vendorKeyLine: string
  vendorKeyFile: string
  /** bin/run.js of this checkout. */
  bin: string
  env: NodeJS.ProcessEnv
}

export function benchEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, HOME: home, NO_COLOR: '1', LANG: 'C.UTF-8'}
  delete env.SSH_AUTH_SOCK
  delete env.FORCE_COLOR
  return env
}

export const bastionBin = join(packageRoot, 'bin', 'run.js')

export function bastion(ctx: BenchContext, args: string[], nodeArgs: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): RunSpec {
  return {cmd: process.execPath, args: [...nodeArgs, ctx.bin, ...args], env: {...ctx.env, ...extraEnv}}
}

function connArgs(fleet: Fleet, hosts: string[]): string[] {
  return [...hosts.flatMap((h) => ['--host', h]), '--identity', fleet.keyPath, '--known-hosts', fleet.knownHosts]
}

export function bastionAdd(ctx: BenchContext, fleet: Fleet, hosts: string[], vendor: string, extra: string[] = []): string[] {
  return ['add-vendor-key', ...connArgs(fleet, hosts), '--vendor', vendor, '--key-file', ctx.vendorKeyFile, '--db', DB, ...extra]
}

export function bastionDoctor(ctx: BenchContext, fleet: Fleet, hosts: string[], vendor: string, extra: string[] = []): string[] {
  return ['doctor', ...connArgs(fleet, hosts), '--vendor', vendor, '--key-file', ctx.vendorKeyFile, '--db', DB, ...extra]
}

// -------------------------------------------------------------------------------------------------------- raw floor

function sshSpec(fleet: Fleet, host: string, script: string, env: NodeJS.ProcessEnv): RunSpec {
  return {
    cmd: 'ssh',
    args: [
      '-F', '/dev/null', '-i', fleet.keyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${fleet.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
      host, 'sudo -n sh -s',
    ],
    input: script,
    env,
  }
}

/** The vendor-add script bastion renders for this vendor (same plan: key, permit-open, today). */
export function renderedAddScript(ctx: BenchContext, vendor: string): string {
  return addScript(planAdd({vendor, key: ctx.vendorKey, permitOpen: [parseHostPort(DB)], today: todayUtc()}))
}

export function floorAdd(ctx: BenchContext, fleet: Fleet, hosts: string[], vendor: string): RunSpec[] {
  const script = renderedAddScript(ctx, vendor)
  return hosts.map((h) => sshSpec(fleet, h, script, ctx.env))
}

export function floorDoctor(ctx: BenchContext, fleet: Fleet, hosts: string[], vendor: string): RunSpec[] {
  const input: DoctorInput = {vendor, key: ctx.vendorKey, dbs: [parseHostPort(DB, '--db')], vendorIps: [], sshPort: 22}
  return hosts.map((h) => sshSpec(fleet, h, probeScript({...input, host: h}), ctx.env))
}

// ---------------------------------------------------------------------------------------------------------- ansible

export interface AnsibleSetup {
  dir: string
  playbook: string
  inventory: string
  config: string
}

/**
 * An inventory of every lab, an ansible.cfg for Ansible's best case (no fact gathering, pipelining, the Python
 * interpreter given so it is not discovered, ControlMaster within a run), and the playbook: group + user +
 * authorized_key with the same options bastion writes.
 */
export function ansibleSetup(ctx: BenchContext, fleet: Fleet): AnsibleSetup {
  const dir = join(ctx.dir, 'ansible')
  mkdirSync(dir, {recursive: true})
  const inventory = join(dir, 'inventory.ini')
  writeFileSync(inventory, [
    '[bastions]',
    ...fleet.labs.map((l) => `${l.address} ansible_host=${l.address} ansible_user=${l.adminUser}`),
    '',
    '[bastions:vars]',
    `ansible_ssh_private_key_file=${fleet.keyPath}`,
    'ansible_python_interpreter=/usr/bin/python3',
    '',
  ].join('\n'))
  const config = join(dir, 'ansible.cfg')
  writeFileSync(config, [
    '[defaults]',
    `inventory = ${inventory}`,
    'host_key_checking = True',
    'gathering = explicit',
    'retry_files_enabled = False',
    'interpreter_python = /usr/bin/python3',
    `local_tmp = ${join(dir, 'tmp')}`,
    '',
    '[privilege_escalation]',
    'become_method = sudo',
    '',
    '[ssh_connection]',
    'pipelining = True',
    `ssh_args = -F /dev/null -o IdentitiesOnly=yes -o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=${fleet.knownHosts} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes`,
    '',
  ].join('\n'))
  const playbook = join(dir, 'vendor.yml')
  const options = 'restrict,port-forwarding,permitopen="' + DB + '"'
  writeFileSync(playbook, [
    '- name: Give a vendor tunnel-only access',
    '  hosts: "{{ target_hosts | default(\'bastions\') }}"',
    '  gather_facts: false',
    '  become: true',
    '  tasks:',
    '    - name: Group',
    '      ansible.builtin.group:',
    '        name: "{{ vendor }}"',
    '        state: present',
    '    - name: User (nologin, home, account usable for key login only)',
    '      ansible.builtin.user:',
    '        name: "{{ vendor }}"',
    '        group: "{{ vendor }}"',
    '        shell: /usr/sbin/nologin',
    '        create_home: true',
    "        password: '*'",
    '    - name: Key',
    '      ansible.posix.authorized_key:',
    '        user: "{{ vendor }}"',
    '        key: "{{ vendor_key }}"',
    `        key_options: '${options}'`,
    '        manage_dir: true',
    '        state: present',
    '',
  ].join('\n'))
  return {dir, playbook, inventory, config}
}

/** One ansible-playbook run on `hosts` (addresses) with -f = number of hosts; a fresh ControlMaster dir per run. */
export function ansibleRun(ctx: BenchContext, a: AnsibleSetup, fleet: Fleet, count: number, vendor: string): RunSpec {
  const cp = mkdtempSync(join(a.dir, 'cp-'))
  const limit = fleet.labs.slice(0, count).map((l) => l.address).join(',')
  return {
    cmd: 'ansible-playbook',
    args: [a.playbook, '-f', String(count), '--limit', limit, '-e', JSON.stringify({vendor, vendor_key: ctx.vendorKeyLine})],
    env: {
      ...ctx.env,
      HOME: ctx.home,
      ANSIBLE_CONFIG: a.config,
      ANSIBLE_SSH_CONTROL_PATH_DIR: cp,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_DEPRECATION_WARNINGS: 'False',
    },
  }
}
