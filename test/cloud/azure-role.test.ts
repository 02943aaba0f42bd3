/**
 * docs/azure-role.json stays in step with the code: every Resource Manager call the CLI makes over a full life cycle
 * (create behind a classic firewall with a failure and its rollback, a re-run, a Firewall-Policy firewall and
 * public-IP mode; whitelist add/remove/list, list, doctor, destroy) is allowed by the role — as the action Azure
 * checks for it (GET → read, PUT → write, DELETE → delete, POST runCommand → action, and the `join/action` a
 * reference to a subnet, NSG, public IP or NIC needs) — and the role allows nothing the code never needs.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {packageRoot} from '../../src/paths.js'
import {createArgs, startWorld, type World} from './azure-world.js'
import type {ArmRequest} from './fake-arm.js'

interface Role {
  Name: string
  IsCustom: boolean
  Actions: string[]
  NotActions: string[]
  DataActions: string[]
  AssignableScopes: string[]
}

const role = JSON.parse(readFileSync(join(packageRoot, 'docs', 'azure-role.json'), 'utf8')) as Role

/** The action Azure authorises a request with, and the join actions its body's references need. */
export function actionsOf(r: ArmRequest): string[] {
  const type = r.type
  const verb = r.method === 'GET' ? 'read' : r.method === 'PUT' ? 'write' : r.method === 'DELETE' ? 'delete' : 'action'
  const out = [verb === 'action' ? `${type}/action` : `${type}/${verb}`]
  const p = r.body?.properties
  if (r.method === 'PUT' && p) {
    for (const c of p.ipConfigurations ?? []) {
      if (c.properties?.subnet?.id) out.push('Microsoft.Network/virtualNetworks/subnets/join/action')
      if (c.properties?.publicIPAddress?.id) out.push('Microsoft.Network/publicIPAddresses/join/action')
    }
    if (p.networkSecurityGroup?.id) out.push('Microsoft.Network/networkSecurityGroups/join/action')
    if (p.networkProfile?.networkInterfaces?.length) out.push('Microsoft.Network/networkInterfaces/join/action')
    if (p.storageProfile?.osDisk?.managedDisk) out.push('Microsoft.Compute/disks/write')
    if (p.storageProfile?.osDisk?.deleteOption === 'Delete') out.push('Microsoft.Compute/disks/delete')
  }
  return out
}

describe('docs/azure-role.json', () => {
  let w: World
  const needed = new Map<string, string>()
  before(async () => {
    w = await startWorld()
    const run = async (args: string[], ok = true) => {
      const r = await w.cli(args)
      if (ok) assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}${r.stdout}`)
    }
    const classic = ['--firewall', 'fw-classic', '--firewall-resource-group', 'rg-hub']
    w.fake.failNext('PUT', /azureFirewalls\/fw-classic$/, 400, 'AzureFirewallInvalidNatRule')
    await run(createArgs(w, classic), false)
    await run(createArgs(w, classic))
    await run(createArgs(w, classic))
    await run(['whitelist', 'add', '--cloud', 'azure', '--name', 'jump', '--vendor', 'fivetran', '--vendor-ip', '35.234.176.144/29'])
    await run(['whitelist', 'remove', '--cloud', 'azure', '--name', 'jump', '--vendor', 'fivetran', '--all'])
    await run(['whitelist', 'list', '--cloud', 'azure', '--name', 'jump'])
    await run(['list', '--cloud', 'azure'])
    await run(['doctor', '--cloud', 'azure', '--name', 'jump', '--vendor', 'hevo'])
    await run(['destroy', '--cloud', 'azure', '--name', 'jump', '--confirm', 'jump'])
    await run(createArgs(w, ['--firewall', 'fw-policy', '--firewall-resource-group', 'rg-hub']))
    await run(['destroy', '--cloud', 'azure', '--name', 'jump', '--confirm', 'jump'])
    await run(createArgs(w, ['--public-ip']))
    await run(['whitelist', 'add', '--cloud', 'azure', '--name', 'jump', '--vendor', 'fivetran', '--vendor-ip', '35.234.176.144/29'])
    await run(['whitelist', 'remove', '--cloud', 'azure', '--name', 'jump', '--vendor', 'fivetran', '--all'])
    await run(['destroy', '--cloud', 'azure', '--name', 'jump', '--confirm', 'jump'])
    for (const r of w.fake.requests) for (const a of actionsOf(r)) needed.set(a.toLowerCase(), `${r.method} ${r.path}`)
  })
  after(() => w.fake.close())

  it('is a custom role definition az role definition create accepts', () => {
    assert.equal(role.IsCustom, true)
    assert.ok(role.Name)
    assert.deepEqual([role.NotActions, role.DataActions], [[], []])
    for (const a of role.Actions) assert.match(a, /^Microsoft\.(Compute|Network)\/[A-Za-z]+(\/[A-Za-z]+)*\/(read|write|delete|action)$/)
    assert.deepEqual(role.Actions, [...role.Actions].sort(), 'sorted')
    for (const s of role.AssignableScopes) assert.match(s, /^\/subscriptions\/[0-9a-f-]{36}$/)
  })

  it('allows every call the code makes', () => {
    assert.ok(needed.size >= 25, [...needed.keys()].join(', '))
    const allowed = new Set(role.Actions.map((a) => a.toLowerCase()))
    const missing = [...needed.entries()].filter(([a]) => !allowed.has(a)).map(([a, by]) => `${a} (${by})`)
    assert.deepEqual(missing, [], `add to docs/azure-role.json: ${missing.join(', ')}`)
  })

  it('allows nothing the code does not need (least privilege)', () => {
    const unused = role.Actions.filter((a) => !needed.has(a.toLowerCase()))
    assert.deepEqual(unused, [], `not needed by the code: ${unused.join(', ')}`)
  })

  it('grants no wildcard and no role or policy management', () => {
    for (const a of role.Actions) {
      assert.ok(!a.includes('*'), a)
      assert.ok(!/^Microsoft\.Authorization\//.test(a), a)
    }
  })
})
