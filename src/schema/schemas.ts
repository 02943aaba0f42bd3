/**
 * The JSON Schemas (draft-07) of every command's --json output, written by hand next to the result types they describe.
 * Each schema covers the whole output: the command's result (with its `schemaVersion`) or the one error shape
 * `{error: {code, message, exit, suggestions, detail?}}`. `npm run schemas` writes them to docs/schemas/; a test fails
 * when those files are stale and validates real --json outputs against them (test/schema/schemas.test.ts).
 * A change to a result that breaks a reader raises the command's `schemaVersion` (a static of its class) and its schema.
 */

type Schema = Record<string, unknown>

/** An object with these required and optional properties; `open`: other properties are allowed (nested detail). */
function object(required: Record<string, Schema>, optional: Record<string, Schema> = {}, open = false): Schema {
  return {
    type: 'object',
    required: Object.keys(required),
    properties: {...required, ...optional},
    additionalProperties: open,
  }
}

const str: Schema = {type: 'string'}
const int: Schema = {type: 'integer'}
const bool: Schema = {type: 'boolean'}
const strings: Schema = {type: 'array', items: str}
const oneOf = (...values: string[]): Schema => ({type: 'string', enum: values})
const list = (items: Schema): Schema => ({type: 'array', items})
const openObject: Schema = {type: 'object'}

/** The one error shape: top-level errors, per-host errors, doctor's host errors, an unknown command. */
export const ERROR: Schema = object(
  {
    code: {type: 'string', minLength: 1, description: 'Stable machine-readable code, e.g. SSH_AUTH_FAILED.'},
    message: {type: 'string', description: 'One line for people.'},
    exit: {type: 'integer', minimum: 1, maximum: 255, description: 'The exit status this error ends (or would end) the command with.'},
    suggestions: {...strings, description: 'How to fix it, one suggestion each.'},
  },
  {detail: {type: 'object', description: 'Extra machine-readable detail.'}},
)

const ERROR_OUTPUT: Schema = object({error: {$ref: '#/definitions/error'}})

const target = object({hostName: str, port: int, user: str})

/** One --host's outcome: `result` when ok, `error` when not. */
function hostReport(result: Schema): Schema {
  return {
    ...object({host: str, ok: bool}, {target, result, error: {$ref: '#/definitions/error'}}),
    oneOf: [
      {properties: {ok: {const: true}}, required: ['result']},
      {properties: {ok: {const: false}}, required: ['error']},
    ],
  }
}

const multiHost = (result: Schema): Record<string, Schema> => ({ok: bool, hosts: list(hostReport(result))})
const version = (v: number): Schema => ({const: v, description: 'The version of this schema; raised when a change would break a reader.'})

// ------------------------------------------------------------------------------------------------ vendor keys (SSH)

const keySummary = object({type: str, bits: int, algorithm: str, fingerprint: str, comment: str})
const vendorForm = object({sshHost: str, sshPort: int, sshUser: str}, {database: str})

const addResult = object(
  {
    vendor: str,
    group: oneOf('created', 'present'),
    user: oneOf('created', 'present'),
    ownership: oneOf('created', 'adopted'),
    adoptedNow: bool,
    uid: int,
    shell: str,
    unlocked: bool,
    home: str,
    homeCreated: bool,
    sshDir: oneOf('created', 'present'),
    repairs: list(openObject),
    key: object({fingerprint: str, type: str, bits: int, status: oneOf('added', 'updated', 'present'), duplicatesRemoved: int}),
    file: oneOf('written', 'unchanged'),
    cleaned: strings,
    warnings: strings,
  },
  {os: str, shellChanged: object({from: str, to: str}), vendorForm},
)

function addVendorKey(v: number): Schema {
  const common = {schemaVersion: version(v), vendor: str, key: keySummary, line: str, warnings: strings}
  return {
    oneOf: [
      object({...common, dryRun: {const: true}, hosts: strings, script: str}, {expires: str}),
      object({...common, dryRun: {const: false}, ...multiHost(addResult)}, {expires: str}),
    ],
  }
}

const keyRef = object({fingerprint: str, owned: bool})
const removeResult = object(
  {
    vendor: str,
    user: oneOf('present', 'absent', 'deleted'),
    removed: list(keyRef),
    kept: list(keyRef),
    notFound: strings,
    file: oneOf('written', 'unchanged', 'absent', 'untouched'),
    sessionsKilled: bool,
    warnings: strings,
  },
  {group: oneOf('deleted', 'kept', 'kept-not-ours')},
)

function removeVendorKey(v: number): Schema {
  return {
    oneOf: [
      object({schemaVersion: version(v), dryRun: {const: true}, vendor: str, hosts: strings, script: str, plan: openObject}, {warnings: strings}),
      object({schemaVersion: version(v), dryRun: {const: false}, vendor: str, ...multiHost(removeResult)}, {warnings: strings}),
    ],
  }
}

const listedKey = object(
  {line: int, options: list(object({name: str}, {value: str})), owned: bool, kind: oneOf('key', 'invalid'), problems: strings},
  {type: str, bits: int, algorithm: str, fingerprint: str, comment: str, expiry: object({value: str, expired: bool}), added: str},
)
const listedAccount = object(
  {
    name: str,
    uid: int,
    gid: int,
    group: str,
    locked: oneOf('yes', 'no', 'empty'),
    shell: str,
    home: str,
    keyFile: {oneOf: [{type: 'null'}, object({mode: str, uid: int, gid: int})]},
    keys: list(listedKey),
  },
  {keyFileUnsafe: str},
)

const listVendorKeys = (v: number): Schema =>
  object({schemaVersion: version(v), ...multiHost(object({accounts: list(listedAccount), absent: strings}))}, {warnings: strings})

// ------------------------------------------------------------------------------------------------------------ doctor

const summary = {pass: int, warn: int, fail: int, skip: int}
const finding = object(
  {
    id: str,
    area: str,
    status: oneOf('pass', 'warn', 'fail', 'skip'),
    title: str,
    seen: str,
  },
  {why: str, fix: openObject},
)
const doctorHost = object(
  {host: str, ran: bool, ok: bool, findings: list(finding), summary: object(summary)},
  {
    error: {$ref: '#/definitions/error'},
    about: str,
    fixes: list(object({id: str, command: str, applied: bool})),
    timings: object({probeMs: int, totalMs: int}),
  },
)

const doctor = (v: number): Schema =>
  object(
    {
      schemaVersion: version(v),
      vendor: str,
      ok: bool,
      exitCode: {type: 'integer', enum: [0, 1, 2]},
      summary: object({...summary, hosts: int, hostsNotRun: int}),
      hosts: list(doctorHost),
    },
    {tunnel: str, warnings: strings},
  )

// ------------------------------------------------------------------------------------------------------------- cloud

const step = object({kind: str, status: oneOf('ok', 'created', 'present', 'updated', 'deleted', 'absent', 'skipped', 'failed'), detail: str}, {id: str})
const rule = object(
  {role: oneOf('vendor', 'admin', 'unmanaged'), cidr: str, protocol: str, fromPort: int, toPort: int, description: str},
  {id: str, vendor: str},
)
const ruleProblem = object({code: oneOf('anywhere', 'wide', 'ports', 'unmanaged'), severity: oneOf('fail', 'warn'), message: str})
const fingerprintKey = object({type: str, fingerprint: str})

function create(v: number): Schema {
  return {
    oneOf: [
      object(
        {schemaVersion: version(v), dryRun: {const: true}, cloud: str, name: str, plan: openObject, warnings: strings},
        {region: str, changes: list(object({change: oneOf('create', 'update', 'keep'), detail: str}, {items: strings}))},
      ),
      object(
        {
          schemaVersion: version(v),
          dryRun: {const: false},
          cloud: str,
          name: str,
          steps: list(step),
          bootstrap: object({status: oneOf('done', 'failed', 'running', 'absent'), lines: strings}),
          hostKeys: object({status: oneOf('recorded', 'present', 'unavailable', 'skipped'), keys: list(fingerprintKey), note: str}, {file: str, host: str}),
          warnings: strings,
        },
        {region: str, vendorSetup: addResult, vendorForm, admin: object({user: str, ssh: str})},
        true,
      ),
    ],
  }
}

const destroy = (v: number): Schema =>
  object(
    {schemaVersion: version(v), cloud: str, name: str, dryRun: bool, publicIps: strings, steps: list(step), nothingFound: bool},
    {region: str, warnings: strings},
  )

const bastionInfo = object(
  {
    cloud: str,
    name: str,
    state: str,
    address: object({stable: bool}, {publicIp: str, privateIp: str}),
    sshPort: int,
    vendors: list(openObject),
    adminCidrs: strings,
    rules: list(rule),
    resources: list(object({kind: str, id: str})),
  },
  {location: str, instanceId: str, instanceType: str, launchedAt: str},
)

const listBastions = (v: number): Schema => object({schemaVersion: version(v), cloud: str, bastions: list(bastionInfo)}, {region: str, warnings: strings})

const whitelistChange = (v: number): Schema =>
  object({
    schemaVersion: version(v),
    name: str,
    vendor: str,
    securityGroupId: str,
    dryRun: bool,
    added: list(rule),
    removed: list(rule),
    unchanged: list(object({cidr: str, by: str})),
    notFound: strings,
    warnings: strings,
  })

const whitelistList = (v: number): Schema =>
  object(
    {
      schemaVersion: version(v),
      name: str,
      securityGroupId: str,
      sshPort: int,
      rules: list({...rule, required: [...(rule.required as string[]), 'problems'], properties: {...(rule.properties as Schema), problems: list(ruleProblem)}}),
      flagged: int,
    },
    {warnings: strings},
  )

// ----------------------------------------------------------------------------------------------------------- tunnels

const tunnelSummary = object(
  {
    name: str,
    unit: str,
    server: str,
    serverPort: int,
    serverUser: str,
    remotePort: int,
    bindAll: bool,
    db: str,
    hostKey: {
      oneOf: [
        object({pinned: {const: 'given'}, type: str, fingerprint: str}),
        object({pinned: {const: 'fetch'}, fingerprint: str}),
      ],
    },
    config: str,
    commandLine: str,
  },
  {preset: str},
)
const tcpProbe = object(
  {target: str, host: str, port: int, addresses: strings, result: oneOf('open', 'refused', 'timeout', 'noroute', 'dns', 'error')},
  {ms: int, detail: str, tool: str},
)
const tunnelReport = object(
  {
    name: str,
    configured: bool,
    pinnedKeys: list(object({type: str, fingerprint: str})),
    links: strings,
    unit: object({load: str, active: str, sub: str, result: str, restarts: int, mainPid: int, enabled: str}),
    forward: oneOf('established', 'connecting', 'down'),
    connections: list(object({local: str, peer: str})),
    log: strings,
    runLog: strings,
    ssAvailable: bool,
  },
  {
    config: object(
      {settings: {type: 'object', additionalProperties: strings}},
      {server: str, serverPort: int, serverUser: str, remoteForward: str, remotePort: int, bindAll: bool, db: str, preset: str},
    ),
    publicKey: str,
    keyFile: object({mode: str, owner: str, links: int}),
    since: str,
    upSeconds: int,
    changedAt: str,
    problem: object({code: str, line: str, message: str}),
    net: object({}, {db: tcpProbe, server: tcpProbe}),
  },
)
const tunnelAddResult = object(
  {
    name: str,
    user: oneOf('created', 'present'),
    key: oneOf('created', 'present'),
    publicKey: str,
    keyFingerprint: str,
    hostKey: object({source: oneOf('given', 'fetched'), fingerprint: str}),
    files: object({conf: oneOf('written', 'unchanged'), knownHosts: oneOf('written', 'unchanged'), unit: oneOf('written', 'unchanged')}),
    backoff: oneOf('written', 'unchanged', 'unsupported'),
    service: oneOf('restarted', 'unchanged'),
    cleaned: strings,
    warnings: strings,
    status: tunnelReport,
  },
  {os: str, systemd: int},
)

function tunnelAdd(v: number): Schema {
  const common = {schemaVersion: version(v), tunnel: tunnelSummary, warnings: strings}
  return {
    oneOf: [
      object({...common, dryRun: {const: true}, hosts: strings, script: str}),
      object({...common, dryRun: {const: false}, ...multiHost(tunnelAddResult)}),
    ],
  }
}

const tunnelRemove = (v: number): Schema =>
  object({
    schemaVersion: version(v),
    name: str,
    purge: bool,
    warnings: strings,
    ...multiHost(object({name: str, absent: bool, removed: strings, warnings: strings}, {was: oneOf('running', 'stopped'), keptKey: str})),
  })

const tunnelStatus = (v: number): Schema =>
  object({schemaVersion: version(v), warnings: strings, ...multiHost(object({tunnels: list(tunnelReport)}))}, {name: str})

// ------------------------------------------------------------------------------------------------------------ schema

const schemaCommand = (v: number): Schema => ({
  oneOf: [
    object({schemaVersion: version(v), name: str, file: str, schema: openObject}, {command: str}),
    object({schemaVersion: version(v), schemas: list(object({name: str, file: str}, {command: str, schemaVersion: int}))}),
  ],
})

/** Every command with a --json result (its oclif id) and how to build its result schema for a version. */
export const RESULT_SCHEMAS: Record<string, (v: number) => Schema> = {
  'add-vendor-key': addVendorKey,
  create,
  destroy,
  doctor,
  list: listBastions,
  'list-vendor-keys': listVendorKeys,
  'remove-vendor-key': removeVendorKey,
  schema: schemaCommand,
  'tunnel:add': tunnelAdd,
  'tunnel:list': tunnelStatus,
  'tunnel:remove': tunnelRemove,
  'tunnel:status': tunnelStatus,
  'whitelist:add': whitelistChange,
  'whitelist:list': whitelistList,
  'whitelist:remove': whitelistChange,
}

/** The schema name of a command id (`whitelist:add` → `whitelist-add`); `error` names the error shape. */
export function schemaName(commandId: string): string {
  return commandId.replaceAll(':', '-')
}

/** The published file of a schema, relative to the package root. */
export function schemaFile(name: string): string {
  return `docs/schemas/${name}.schema.json`
}

function header(name: string): Schema {
  return {$schema: 'http://json-schema.org/draft-07/schema#', $id: `https://bastion.invalid/${schemaFile(name)}`}
}

/** The error shape's own schema: what every command prints under --json when it fails. */
export function errorSchema(): Schema {
  return {...header('error'), title: 'bastion --json error', description: 'What every command prints under --json when it fails.', ...ERROR_OUTPUT, definitions: {error: ERROR}}
}

/** The JSON Schema of a command's whole --json output at its schemaVersion: the result, or the shared error shape. */
export function commandSchema(commandId: string, version: number): Schema {
  const result = RESULT_SCHEMAS[commandId]
  if (!result) throw new Error(`no JSON Schema for command ${commandId}`)
  return {
    ...header(schemaName(commandId)),
    title: `bastion ${commandId.replaceAll(':', ' ')} --json`,
    description: `The --json output of this command: its result (schemaVersion ${version}), or the error shape every command shares.`,
    oneOf: [{$ref: '#/definitions/result'}, {$ref: '#/definitions/errorOutput'}],
    definitions: {result: result(version), errorOutput: ERROR_OUTPUT, error: ERROR},
  }
}
