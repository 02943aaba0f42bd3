/**
 * The shape of `bastion.yml`, written once: it validates the file (src/config/load.ts), types the code (the `z.infer`
 * types below) and is published as JSON Schema (`jsonSchema()`, `bastion config schema`, docs/schemas/) so editors
 * complete and check the file. What a schema cannot say (a CIDR is valid and not too wide, a key parses and is strong
 * enough, a reference resolves, a date is not past) is judged afterwards by src/config/lint.ts, over the parsed model.
 *
 * The file never holds a private key: keys are public keys, inline or by path.
 */
import {z} from 'zod'

/** The version of the file format this release reads; a file says which one it was written for. */
export const CONFIG_VERSION = 1

/** A name used as a map key (bastion, database): letters, digits, `.`, `_`, `-`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
/** Vendor names become Linux users and groups (src/access/input.ts parseVendorName has the full rules). */
const VENDOR_NAME = /^[a-z_][a-z0-9_-]{0,31}$/
/** YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC): a file holds dates, not durations relative to "now". */
const EXPIRY = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?Z?)?$/

const port = z.number().int().min(1).max(65535)

export const DatabaseSchema = z
  .strictObject({
    host: z.string().min(1).meta({description: 'Host name or address of the database, as the bastion resolves and reaches it.'}),
    port: port.meta({description: 'TCP port of the database (5432 PostgreSQL, 3306 MySQL, 1433 SQL Server …).'}),
    description: z.string().optional().meta({description: 'For people: what this database is.'}),
  })
  .meta({description: 'A database the vendors may reach through a bastion.'})

export const KeySchema = z
  .strictObject({
    key: z.string().min(1).optional().meta({description: 'The public key as one line: `<type> <base64> [comment]`.'}),
    file: z.string().min(1).optional().meta({description: 'A file holding the public key (one line, e.g. hevo.pub), relative to this file.'}),
    expires: z
      .string()
      .regex(EXPIRY, 'expected YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)')
      .optional()
      .meta({description: 'The key stops working after this (written as the key line\'s expiry-time): YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC).'}),
  })
  .meta({description: 'One public key of the vendor: `key` (inline) or `file`, exactly one of them.'})

export const VendorSchema = z
  .strictObject({
    user: z
      .string()
      .regex(VENDOR_NAME, 'expected a Linux user name: lower-case letters, digits, "-" and "_", starting with a letter or "_", at most 32 characters')
      .optional()
      .meta({description: 'The Linux user (and group) on the bastions; default: the vendor\'s name.'}),
    cidrs: z
      .array(z.string().min(1))
      .min(1)
      .meta({description: 'The addresses the vendor connects from (its published egress IPs), as CIDRs or single addresses.'}),
    allowAnywhere: z
      .boolean()
      .optional()
      .meta({description: 'Allow a CIDR of 0.0.0.0/0, ::/0 or any prefix shorter than /8 (IPv6 /16). Refused otherwise.'}),
    keys: z
      .array(z.union([z.string().min(1), KeySchema]))
      .min(1)
      .meta({description: 'The vendor\'s public keys: a key line, or {key|file, expires}.'}),
    databases: z
      .array(z.string().regex(NAME))
      .min(1)
      .meta({description: 'Names of the databases (under `databases:`) this vendor may reach. Nothing else is reachable.'}),
    description: z.string().optional().meta({description: 'For people: who this vendor is, a ticket, an owner.'}),
  })
  .meta({description: 'A SaaS vendor that reaches databases through bastions.'})

export const SshSchema = z
  .strictObject({
    host: z.string().min(1).optional().meta({description: 'Address or name to connect to. For a cloud bastion, default: its public address.'}),
    user: z.string().min(1).optional().meta({description: 'Admin login (with passwordless sudo) on the bastion.'}),
    port: port.optional().meta({description: 'SSH port (default 22).'}),
    identity: z.string().min(1).optional().meta({description: 'The admin\'s private key FILE (a path; the file holds no key).'}),
    jump: z.string().min(1).optional().meta({description: 'Jump host, as ssh -J takes it: [user@]host[:port].'}),
    knownHosts: z.string().min(1).optional().meta({description: 'known_hosts file with the bastion\'s host key.'}),
    hostKey: z.string().min(1).optional().meta({description: 'The pinned host key: a fingerprint (SHA256:…) or a known_hosts / .pub line.'}),
  })
  .meta({description: 'How bastion reaches the host over SSH.'})

export const AwsCloudSchema = z
  .strictObject({
    provider: z.literal('aws'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as eu-west-1').meta({description: 'AWS region, e.g. eu-west-1.'}),
    name: z.string().regex(NAME).optional().meta({description: 'The bastion\'s name in the cloud (its bastion:name tag); default: the key under `bastions:`.'}),
  })
  .meta({description: 'An EC2 bastion made by `bastion create --cloud aws`.'})

export const AzureCloudSchema = z
  .strictObject({
    provider: z.literal('azure'),
    subscription: z
      .string()
      .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a subscription id (a GUID)')
      .optional()
      .meta({description: 'Subscription id; default: AZURE_SUBSCRIPTION_ID.'}),
    resourceGroup: z.string().min(1).max(90).meta({description: 'The resource group of the bastion\'s VM.'}),
    location: z.string().min(1).optional().meta({description: 'Azure region, e.g. westeurope.'}),
    name: z.string().regex(NAME).optional().meta({description: 'The bastion\'s name in the cloud (its bastion:name tag); default: the key under `bastions:`.'}),
    firewall: z
      .strictObject({
        name: z.string().min(1),
        resourceGroup: z.string().min(1).optional(),
        publicPort: port,
      })
      .optional()
      .meta({description: 'The Azure Firewall whose DNAT rule admits the vendors (firewall mode); absent: public-IP mode.'}),
  })
  .meta({description: 'An Azure VM bastion made by `bastion create --cloud azure`.'})

export const BastionSchema = z
  .strictObject({
    cloud: z.discriminatedUnion('provider', [AwsCloudSchema, AzureCloudSchema]).optional().meta({
      description: 'The cloud the bastion lives in; absent for a plain host (then ssh.host is required).',
    }),
    ssh: SshSchema.optional(),
    vendors: z.array(z.string().regex(VENDOR_NAME)).meta({description: 'Names of the vendors (under `vendors:`) that use this bastion.'}),
    description: z.string().optional(),
  })
  .meta({description: 'A jump host the vendors tunnel through.'})

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().meta({description: 'The JSON Schema of this file, for editors.'}),
    version: z.literal(CONFIG_VERSION).meta({description: 'The file format version: 1.'}),
    databases: z.record(z.string().regex(NAME), DatabaseSchema).default({}),
    vendors: z.record(z.string().regex(VENDOR_NAME), VendorSchema).default({}),
    bastions: z.record(z.string().regex(NAME), BastionSchema).default({}),
  })
  .meta({
    title: 'bastion.yml',
    description: 'Vendor access as reviewed code: bastions, databases, vendors, and which vendors use which bastion.',
  })

export type BastionConfig = z.infer<typeof ConfigSchema>
export type ConfigBastion = z.infer<typeof BastionSchema>
export type ConfigVendor = z.infer<typeof VendorSchema>
export type ConfigDatabase = z.infer<typeof DatabaseSchema>
export type ConfigKey = z.infer<typeof KeySchema>
export type ConfigCloud = NonNullable<ConfigBastion['cloud']>

/** The JSON Schema of the file (draft-07, what editors' YAML language servers and ajv read). */
export function jsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, {target: 'draft-7', io: 'input'}) as Record<string, unknown>
  return {
    ...schema,
    $id: 'https://bastion.invalid/docs/schemas/bastion-config.schema.json',
  }
}
