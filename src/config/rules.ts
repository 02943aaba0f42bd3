/**
 * Every code a problem in `bastion.yml` can carry: the YAML parser's (`yaml`), the schema's (`schema.<zod issue code>`,
 * src/config/load.ts) and the linter's (src/config/lint.ts). Each has a one-line summary and the help text SARIF's
 * rules carry; docs/config.md documents each code (test/config/docs.test.ts enforces it).
 */

export interface ConfigRule {
  /** The severity the rule reports with (`--strict` makes warnings fail too). */
  severity: 'error' | 'warning'
  /** One line: what the rule checks. */
  summary: string
  /** How to fix what it finds. */
  help: string
}

const SCHEMA_HELP = 'the allowed keys and values are in docs/config.md and in the JSON Schema (bastion config schema)'

export const CONFIG_RULES = {
  yaml: {severity: 'error', summary: 'the file is not valid YAML (or repeats a key)', help: 'fix the YAML syntax at the position given; give each key once'},
  'schema.invalid_type': {severity: 'error', summary: 'a value has the wrong type, or a required key is missing', help: SCHEMA_HELP},
  'schema.invalid_value': {severity: 'error', summary: 'a value is not one of the allowed ones (e.g. version, cloud.provider)', help: SCHEMA_HELP},
  'schema.invalid_format': {severity: 'error', summary: 'a string does not have the expected form (a name, a region, a date)', help: SCHEMA_HELP},
  'schema.invalid_key': {severity: 'error', summary: 'a name under databases, vendors or bastions is not allowed', help: SCHEMA_HELP},
  'schema.invalid_union': {severity: 'error', summary: 'a value matches none of the forms allowed there', help: SCHEMA_HELP},
  'schema.invalid_element': {severity: 'error', summary: 'an element of a collection is not allowed', help: SCHEMA_HELP},
  'schema.unrecognized_keys': {severity: 'error', summary: 'a key the format does not know (often a typo)', help: SCHEMA_HELP},
  'schema.too_small': {severity: 'error', summary: 'a list is empty, a string empty or a number too small', help: SCHEMA_HELP},
  'schema.too_big': {severity: 'error', summary: 'a string too long or a number too large', help: SCHEMA_HELP},
  'schema.not_multiple_of': {severity: 'error', summary: 'a number is not a multiple of what is required', help: SCHEMA_HELP},
  'schema.custom': {severity: 'error', summary: 'a value fails a rule of the schema', help: SCHEMA_HELP},

  'cidr.invalid': {severity: 'error', summary: 'a vendor CIDR is not an address or CIDR, or has host bits set', help: 'write the network address: 52.6.1.0/24, or a single address 52.6.1.1 (or 52.6.1.1/32)'},
  'cidr.anywhere': {severity: 'error', summary: 'a vendor CIDR admits (nearly) the whole internet: 0.0.0.0/0, ::/0, shorter than /8 (IPv6 /16)', help: "use the vendor's published egress addresses; if you really mean every address, set allowAnywhere: true on the vendor"},
  'cidr.anywhere-allowed': {severity: 'warning', summary: 'a vendor CIDR admits (nearly) the whole internet and allowAnywhere allows it', help: "prefer the vendor's published egress addresses"},
  'cidr.wide': {severity: 'warning', summary: 'a vendor CIDR is wider than /24 (IPv6 /64)', help: 'vendors publish single addresses or small ranges (a /29, a /28): check the range is the one they publish'},
  'cidr.duplicate': {severity: 'warning', summary: 'a vendor lists the same CIDR twice', help: 'remove the second one'},

  'key.form': {severity: 'error', summary: 'a key entry gives both or neither of key and file', help: 'give the key inline (key:) or by path (file:), exactly one of them'},
  'key.unreadable': {severity: 'error', summary: 'a key file does not exist or cannot be read', help: 'fix the path (relative to the config file) or commit the .pub file'},
  'key.private': {severity: 'error', summary: 'a private key where a public key belongs', help: 'remove it now and treat it as leaked; list the public key (the .pub file, ssh-keygen -y -f <key>)'},
  'key.invalid': {severity: 'error', summary: 'a key does not parse as an OpenSSH public key', help: "ask the vendor for the one-line public key (ssh-ed25519 AAAA… comment)"},
  'key.weak': {severity: 'error', summary: 'a key is too weak or of a type bastion refuses (DSA, RSA under 2048 bits, certificates)', help: 'ask the vendor for an ed25519 key (ssh-keygen -t ed25519)'},
  'key.repaired': {severity: 'warning', summary: 'a key was readable only after a repair (CRLF, stray whitespace, a wrapped line)', help: 'write the key as one clean line'},
  'key.duplicate': {severity: 'error', summary: 'a vendor lists the same key (same fingerprint) twice', help: 'list each key once (with one expiry)'},
  'key.shared': {severity: 'error', summary: 'the same key (same fingerprint) is given to two vendors', help: 'each vendor gets its own key: whoever holds the private key could log in as both'},

  'expiry.invalid': {severity: 'error', summary: 'a key expiry is not a date that exists (2027-02-30, 25:00)', help: 'write an existing date: YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)'},
  'expiry.past': {severity: 'error', summary: 'a key expiry is in the past: the key no longer works', help: 'remove the key, or agree a new expiry with the vendor'},
  'expiry.soon': {severity: 'warning', summary: 'a key expires within 14 days', help: 'agree a new key or expiry with the vendor before it stops working'},

  'ref.database': {severity: 'error', summary: 'a vendor names a database that is not under databases:', help: 'fix the name, or add the database under databases:'},
  'ref.vendor': {severity: 'error', summary: 'a bastion names a vendor that is not under vendors:', help: 'fix the name, or add the vendor under vendors:'},
  'ref.duplicate': {severity: 'warning', summary: 'a list of names (a vendor\'s databases, a bastion\'s vendors) names the same one twice', help: 'remove the second one'},

  'user.invalid': {severity: 'error', summary: "a vendor's Linux user name is not valid", help: 'lower-case letters, digits, "-" and "_", starting with a letter or "_", at most 32 characters'},
  'user.reserved': {severity: 'error', summary: "a vendor's Linux user is a system or administrator account (root, admin, ubuntu, sshd …)", help: 'give the vendor an account of its own: user: <vendor>-vendor'},
  'user.shared': {severity: 'error', summary: 'two vendors are mapped to the same Linux user', help: 'give each vendor its own user: keys, allowlists and audit logs are per user'},

  'bastion.no-host': {severity: 'error', summary: 'a plain host (no cloud:) does not say where it is: ssh.host is missing', help: 'add ssh: {host: <address or name>}, or cloud: for a bastion made by bastion create'},
  'bastion.no-vendors': {severity: 'warning', summary: 'a bastion lists no vendors', help: 'list the vendors that use it, or remove it from the file'},
  'vendor.unused': {severity: 'warning', summary: 'a vendor no bastion lists', help: "add it to a bastion's vendors, or remove it"},
  'database.unused': {severity: 'warning', summary: 'a database no vendor may reach', help: "add it to a vendor's databases, or remove it"},
  'database.address': {severity: 'error', summary: "a database's host and port are not a valid address (as --db takes it)", help: 'a host name or IP address and a port from 1 to 65535'},
} as const satisfies Record<string, ConfigRule>

export type ConfigRuleCode = keyof typeof CONFIG_RULES

/** The rule of a code (schema codes zod may add later fall back to a generic schema rule). */
export function ruleOf(code: string): ConfigRule {
  return (CONFIG_RULES as Record<string, ConfigRule>)[code] ?? {severity: 'error', summary: 'the file does not match the schema', help: SCHEMA_HELP}
}
