/**
 * The Azure estate the Azure tests start from, seeded into the fake Resource Manager: a virtual network with the
 * bastion's subnet and AzureFirewallSubnet, a classic firewall and a Firewall-Policy firewall, each with rules of
 * their own that bastion must leave byte for byte as they are; and the CLI run against it.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {runBastion, type CliRun} from './cli.js'
import {FakeArm} from './fake-arm.js'

export const RG = 'rg-data'
export const HUB = 'rg-hub'
export const FW_IP = '51.140.1.10'
export const FW_POLICY_IP = '51.140.2.20'
const net = (rg: string, ...rest: string[]) => FakeArm.id(rg, 'Microsoft.Network', ...rest)
export const VNET_ID = net(RG, 'virtualNetworks', 'vnet-data')
export const CLASSIC_ID = net(HUB, 'azureFirewalls', 'fw-classic')
export const POLICY_FW_ID = net(HUB, 'azureFirewalls', 'fw-policy')
export const POLICY_ID = net(HUB, 'firewallPolicies', 'fwp-hub')
export const OTHER_GROUP_ID = `${POLICY_ID}/ruleCollectionGroups/DefaultDnatRuleCollectionGroup`

export const ROUTE_TABLE_ID = net(RG, 'routeTables', 'rt-data')

export function seedWorld(fake: FakeArm): void {
  // the usual hub-and-spoke default route: everything leaves through the firewall
  fake.seed(ROUTE_TABLE_ID, {
    location: 'westeurope',
    properties: {routes: [{name: 'default-via-firewall', properties: {addressPrefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.0.0.4'}}]},
  })
  fake.seed(VNET_ID, {
    location: 'westeurope',
    properties: {
      addressSpace: {addressPrefixes: ['10.0.0.0/16']},
      subnets: [
        {name: 'snet-bastion', id: `${VNET_ID}/subnets/snet-bastion`, properties: {addressPrefix: '10.0.1.0/24', routeTable: {id: ROUTE_TABLE_ID}, provisioningState: 'Succeeded'}},
        {name: 'AzureFirewallSubnet', id: `${VNET_ID}/subnets/AzureFirewallSubnet`, properties: {addressPrefix: '10.0.0.0/26', provisioningState: 'Succeeded'}},
      ],
    },
  })
  fake.seed(net(HUB, 'publicIPAddresses', 'fw-classic-pip'), {location: 'westeurope', sku: {name: 'Standard'}, properties: {ipAddress: FW_IP, publicIPAllocationMethod: 'Static'}})
  fake.seed(net(HUB, 'publicIPAddresses', 'fw-policy-pip'), {location: 'westeurope', sku: {name: 'Standard'}, properties: {ipAddress: FW_POLICY_IP, publicIPAllocationMethod: 'Static'}})
  const ipConfigurations = (pip: string, privateIp: string) => [
    {name: 'ipconfig', id: `${pip}-ipconfig`, properties: {privateIPAddress: privateIp, subnet: {id: `${VNET_ID}/subnets/AzureFirewallSubnet`}, publicIPAddress: {id: pip}}},
  ]
  fake.seed(CLASSIC_ID, {
    location: 'westeurope',
    properties: {
      sku: {name: 'AZFW_VNet', tier: 'Standard'},
      threatIntelMode: 'Alert',
      ipConfigurations: ipConfigurations(net(HUB, 'publicIPAddresses', 'fw-classic-pip'), '10.0.0.4'),
      natRuleCollections: [
        {
          name: 'web-dnat',
          properties: {
            priority: 200,
            action: {type: 'Dnat'},
            rules: [
              {name: 'https', description: 'the web app', sourceAddresses: ['*'], destinationAddresses: [FW_IP], destinationPorts: ['443'], protocols: ['TCP'], translatedAddress: '10.0.2.10', translatedPort: '443'},
            ],
          },
        },
      ],
      networkRuleCollections: [
        {
          name: 'egress',
          properties: {priority: 300, action: {type: 'Allow'}, rules: [{name: 'dns', sourceAddresses: ['10.0.0.0/16'], destinationAddresses: ['*'], destinationPorts: ['53'], protocols: ['UDP', 'TCP']}]},
        },
      ],
      applicationRuleCollections: [
        {
          name: 'updates',
          properties: {priority: 400, action: {type: 'Allow'}, rules: [{name: 'ubuntu', sourceAddresses: ['10.0.1.0/24'], protocols: [{protocolType: 'Https', port: 443}], targetFqdns: ['*.ubuntu.com']}]},
        },
      ],
    },
  })
  fake.seed(POLICY_ID, {location: 'westeurope', properties: {threatIntelMode: 'Alert', sku: {tier: 'Standard'}}})
  fake.seed(OTHER_GROUP_ID, {
    properties: {
      priority: 100,
      ruleCollections: [
        {
          ruleCollectionType: 'FirewallPolicyNatRuleCollection',
          name: 'app-dnat',
          priority: 100,
          action: {type: 'DNAT'},
          rules: [
            {ruleType: 'NatRule', name: 'admin-portal', ipProtocols: ['TCP'], sourceAddresses: ['198.51.100.0/24'], destinationAddresses: [FW_POLICY_IP], destinationPorts: ['8443'], translatedAddress: '10.0.2.20', translatedPort: '443'},
          ],
        },
        {
          ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
          name: 'egress',
          priority: 200,
          action: {type: 'Allow'},
          rules: [{ruleType: 'NetworkRule', name: 'dns', ipProtocols: ['UDP'], sourceAddresses: ['10.0.0.0/16'], destinationAddresses: ['*'], destinationPorts: ['53']}],
        },
      ],
    },
  })
  fake.seed(POLICY_FW_ID, {
    location: 'westeurope',
    properties: {sku: {name: 'AZFW_VNet', tier: 'Standard'}, firewallPolicy: {id: POLICY_ID}, ipConfigurations: ipConfigurations(net(HUB, 'publicIPAddresses', 'fw-policy-pip'), '10.0.0.5')},
  })
}

/** The VM's host keys (what Run Command prints) and bastion-init's lines. */
export const hostKey = generateEd25519('root@bastion-jump')

export function runCommandLines(): string[] {
  return ['-----BEGIN SSH HOST KEY KEYS-----', hostKey.publicKey.trim(), '-----END SSH HOST KEY KEYS-----', 'bastion-init: start jump', 'bastion-init: done']
}

export interface World {
  fake: FakeArm
  home: string
  adminKeyFile: string
  vendorKeyFile: string
  knownHosts: string
  cli(args: string[], opts?: {timeoutMs?: number}): Promise<CliRun>
}

export async function startWorld(opts: ConstructorParameters<typeof FakeArm>[0] = {}): Promise<World> {
  const fake = await new FakeArm(opts).start()
  seedWorld(fake)
  fake.runCommandOutput = runCommandLines()
  const home = mkdtempSync(join(tmpdir(), 'bastion-azure-home-'))
  const adminKeyFile = join(home, 'admin.pub')
  writeFileSync(adminKeyFile, generateEd25519('me@laptop').publicKey)
  const vendorKeyFile = join(home, 'hevo.pub')
  writeFileSync(vendorKeyFile, generateEd25519('hevo@prod').publicKey)
  const knownHosts = join(home, 'known_hosts')
  return {
    fake,
    home,
    adminKeyFile,
    vendorKeyFile,
    knownHosts,
    cli: (args, o = {}) => runBastion(args, {env: fake.env(home), timeoutMs: o.timeoutMs ?? 120_000}),
  }
}

/** create --cloud azure's usual flags. */
export function createArgs(w: World, extra: string[]): string[] {
  return [
    'create', '--cloud', 'azure', '--name', 'jump', '--resource-group', RG, '--subnet', 'vnet-data/snet-bastion',
    '--vendor', 'hevo', '--vendor-ip', '52.6.1.1/32', '--vendor-ip', '52.6.1.2/32', '--admin-cidr', '203.0.113.7/32',
    '--key-file', w.vendorKeyFile, '--db', '10.0.1.5:5432', '--public-key-file', w.adminKeyFile, '--known-hosts', w.knownHosts, '--json', ...extra,
  ]
}
