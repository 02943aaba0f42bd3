/**
 * The flags only `create --cloud azure` has (src/cloud/azure/flags.ts), validated into AzureCreateOptions, and the
 * request with them as the AzureCreateRequest the plan is made from. Each refusal says what is wrong and how to fix
 * it (exit 2, nothing is created). Talks to no cloud.
 */
import {inputError} from '../../errors.js'
import type {CreateRequest} from '../provider.js'
import {DEFAULT_PUBLIC_PORT, DEFAULT_VM_SIZE, type AzureFlagValues} from './flags.js'
import type {AzureCreateRequest, AzureMode, SubnetRef} from './plan.js'

export interface AzureCreateOptions {
  resourceGroup: string
  location?: string
  subnet: SubnetRef
  mode: AzureMode
  size: string
}

const RG = /^[-\w.()]{1,89}[-\w()]$|^[-\w()]$/
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]?$/

export function parseResourceGroup(raw: string, flag: string): string {
  const v = raw.trim()
  if (!RG.test(v)) throw inputError('AZURE_RESOURCE_GROUP', `${flag} "${raw}" is not a resource group name (1-90 letters, digits, "-", "_", ".", "(", ")", not ending in ".")`, [`${flag} rg-data`])
  return v
}

function parseName(raw: string, flag: string, example: string): string {
  const v = raw.trim()
  if (!NAME.test(v)) throw inputError('AZURE_NAME', `${flag} "${raw}" is not an Azure resource name`, [`${flag} ${example}`])
  return v
}

/** --subnet <vnet>/<subnet> (in --resource-group) or the subnet's resource id. */
export function parseSubnet(raw: string, resourceGroup: string): SubnetRef {
  const v = raw.trim()
  const id = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i.exec(v)
  if (id) return {resourceGroup: id[1] ?? '', vnet: id[2] ?? '', name: id[3] ?? ''}
  const parts = v.split('/')
  if (parts.length !== 2 || !parts[0] || !parts[1])
    throw inputError('AZURE_SUBNET', `--subnet "${raw}" is not <vnet>/<subnet> or a subnet's resource id`, [
      '--subnet vnet-data/snet-bastion',
      'az network vnet subnet list -g <resource group> --vnet-name <vnet> -o table lists them',
    ])
  return {resourceGroup, vnet: parseName(parts[0], '--subnet (vnet)', 'vnet-data/snet-bastion'), name: parseName(parts[1], '--subnet (subnet)', 'vnet-data/snet-bastion')}
}

export function parseSize(raw: string): string {
  const v = raw.trim()
  if (!/^Standard_[A-Za-z0-9_]+$/.test(v)) throw inputError('AZURE_SIZE', `--size "${raw}" is not an Azure VM size`, [`--size ${DEFAULT_VM_SIZE}`, 'az vm list-sizes -l <location> -o table lists them'])
  return v
}

export function parseAzureCreateOptions(flags: AzureFlagValues, request: CreateRequest<undefined>): {options: AzureCreateOptions; warnings: string[]} {
  const warnings: string[] = []
  if (!flags['resource-group']) throw inputError('AZURE_RESOURCE_GROUP_MISSING', 'give the resource group to create the bastion in', ['--resource-group rg-data'])
  const resourceGroup = parseResourceGroup(flags['resource-group'], '--resource-group')
  if (!flags.subnet) throw inputError('AZURE_SUBNET_MISSING', "give the subnet the VM goes in: a subnet of the database's virtual network", ['--subnet vnet-data/snet-bastion'])
  const subnet = parseSubnet(flags.subnet, resourceGroup)
  if (flags.image !== undefined && flags.image !== 'ubuntu-24.04')
    throw inputError('AZURE_IMAGE', `--image ${flags.image} is not offered on Azure: bastion uses Ubuntu 24.04 LTS there`, ['--image ubuntu-24.04 (or leave it out)'])
  let mode: AzureMode
  if (flags.firewall !== undefined) {
    if (flags['public-ip']) throw inputError('AZURE_MODE', '--firewall and --public-ip exclude each other: the vendor comes in through the firewall, or straight to a public IP', ['--firewall fw-hub --public-port 2222', '--public-ip'])
    mode = {
      kind: 'firewall',
      name: parseName(flags.firewall, '--firewall', 'fw-hub'),
      resourceGroup: flags['firewall-resource-group'] ? parseResourceGroup(flags['firewall-resource-group'], '--firewall-resource-group') : resourceGroup,
      publicPort: flags['public-port'] ?? DEFAULT_PUBLIC_PORT,
    }
    if (mode.publicPort === 22) warnings.push("--public-port 22: the firewall's own port 22 then leads to the bastion; a less-scanned port (e.g. 2222) keeps the logs quieter")
  } else if (flags['public-ip']) {
    if (flags['public-port'] !== undefined) throw inputError('AZURE_PUBLIC_PORT', '--public-port is the firewall\'s port: with --public-ip the vendor connects to port 22', ['leave out --public-port'])
    if (flags['firewall-resource-group'] !== undefined) throw inputError('AZURE_MODE', '--firewall-resource-group needs --firewall', ['leave out --firewall-resource-group'])
    mode = {kind: 'public-ip'}
  } else {
    throw inputError('AZURE_MODE_MISSING', 'say how the vendor reaches the VM: through your Azure Firewall (--firewall) or a public IP of its own (--public-ip)', [
      '--firewall fw-hub --public-port 2222 (a DNAT rule admits only the vendor addresses; the VM gets no public IP)',
      '--public-ip (a static public IP and an NSG admitting only the vendor addresses)',
    ])
  }
  if (!request.adminKey)
    throw inputError('AZURE_ADMIN_KEY_MISSING', `Azure Linux VMs need an SSH key for the admin user (azureuser): password login stays disabled`, ['--public-key-file ~/.ssh/id_ed25519.pub'])
  if (request.adminKey.key.type !== 'ssh-rsa' && request.adminKey.key.type !== 'ssh-ed25519')
    throw inputError('AZURE_ADMIN_KEY_TYPE', `${request.adminKey.source}: Azure accepts RSA and ED25519 admin keys only, not ${request.adminKey.key.algorithm}`, ['ssh-keygen -t ed25519 -f ~/.ssh/bastion_admin'])
  const location = flags.location?.trim()
  if (location !== undefined && !/^[a-z0-9]+$/.test(location)) throw inputError('AZURE_LOCATION', `--location "${flags.location}" is not an Azure location name`, ['--location westeurope'])
  return {
    options: {resourceGroup, ...(location ? {location} : {}), subnet, mode, size: flags.size ? parseSize(flags.size) : DEFAULT_VM_SIZE},
    warnings,
  }
}

export function toAzureRequest(request: CreateRequest<AzureCreateOptions>): AzureCreateRequest {
  const o = request.options
  if (!request.adminKey) throw inputError('AZURE_ADMIN_KEY_MISSING', 'Azure Linux VMs need --public-key-file', ['--public-key-file ~/.ssh/id_ed25519.pub'])
  const database = request.permitOpen.map((p) => p.text).join(', ')
  return {
    name: request.name,
    resourceGroup: o.resourceGroup,
    ...(o.location ? {location: o.location} : {}),
    subnet: o.subnet,
    mode: o.mode,
    size: o.size,
    ...(request.vendor ? {vendor: request.vendor} : {}),
    ...(request.vendorKey ? {vendorKey: request.vendorKey} : {}),
    adminCidrs: request.adminCidrs,
    adminKey: request.adminKey,
    ...(database ? {database} : {}),
  }
}
