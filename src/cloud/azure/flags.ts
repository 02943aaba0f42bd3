/**
 * The flags only `--cloud azure` reads. The registry merges them into the cloud commands' flags (oclif must know every
 * flag when it parses); the seam refuses them with another --cloud. No SDK here: every command's class loads this.
 * Flags whose meaning is the same on AWS (--subnet, --image) keep AWS's name; their text is joined in the registry.
 */
import {Flags, type Interfaces} from '@oclif/core'

/** A small burstable size offered in nearly every region (B-series v2); --size to choose. */
export const DEFAULT_VM_SIZE = 'Standard_B2ats_v2'
export const DEFAULT_PUBLIC_PORT = 2222

/** Read by every cloud command (and doctor --cloud azure). */
export const azureFlags = {
  subscription: Flags.string({
    description: 'Azure: the subscription id (default: AZURE_SUBSCRIPTION_ID). Credentials come from DefaultAzureCredential (environment, workload or managed identity, az login); AZURE_RESOURCE_MANAGER_ENDPOINT points bastion at another Resource Manager endpoint.',
    helpValue: '<subscription id>',
  }),
}

/** Read by create only. */
export const azureCreateFlags = {
  firewall: Flags.string({
    description: 'Azure: the Azure Firewall in front of the VM: a DNAT rule (collection bastion-<name>) on --public-port admits only the vendor (and --admin-cidr) addresses. Classic rules and Firewall Policies both work.',
    helpValue: '<firewall name>',
  }),
  'firewall-resource-group': Flags.string({description: "Azure: the firewall's resource group (default: --resource-group).", helpValue: '<resource group>'}),
  image: Flags.string({description: 'Azure: ubuntu-24.04 only (Canonical:ubuntu-24_04-lts:server, server-arm64 for arm sizes).', options: ['ubuntu-24.04']}),
  location: Flags.string({description: "Azure: the location (default: the resource group's).", helpValue: '<location>'}),
  'public-ip': Flags.boolean({description: 'Azure: no firewall: give the VM a Standard static public IP and an NSG admitting SSH only from the vendor and --admin-cidr addresses.'}),
  'public-port': Flags.integer({description: `Azure: with --firewall, the firewall's port the vendor connects to (default ${DEFAULT_PUBLIC_PORT}).`, min: 1, max: 65535}),
  'resource-group': Flags.string({description: 'Azure: the resource group the VM, its NIC, NSG (and public IP) are created in.', helpValue: '<resource group>'}),
  size: Flags.string({description: `Azure: the VM size (default ${DEFAULT_VM_SIZE}; arm64 sizes such as Standard_B2pts_v2 get the arm64 image).`, helpValue: '<size>'}),
  subnet: Flags.string({description: "Azure: <vnet>/<subnet> in --resource-group, or the subnet's resource id.", helpValue: '<vnet>/<subnet>'}),
}

/** The values of the Azure flags, as oclif parses them. */
export type AzureFlagValues = Partial<Interfaces.InferredFlags<typeof azureFlags & typeof azureCreateFlags>>
