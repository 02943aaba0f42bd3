/**
 * A fake Azure Resource Manager for tests that run the CLI (a subprocess) with the real @azure/arm-network,
 * @azure/arm-compute and @azure/identity clients: HTTPS on 127.0.0.1 with a certificate from a test CA made here with
 * openssl (the CLI trusts it through NODE_EXTRA_CA_CERTS), and a fake `az` on PATH that answers
 * `az account get-access-token` (AzureCliCredential's call), so the real credential chain runs.
 *
 * It follows the REST shapes the SDK relies on: resources in `properties`; PUT → 201 (200 on update) with
 * `Azure-AsyncOperation` (an opaque URL) and `Retry-After`, whose polls answer `{"status":"InProgress"}` until the
 * operation is done, then `Succeeded` (or `Failed` with `error`); DELETE and POST actions → 202 with `Location`, polled
 * until 200/204; errors `{"error":{"code","message"}}` (404 ResourceNotFound, 409 AnotherOperationInProgress, 400 …);
 * 429 with Retry-After. A firewall (or firewall policy) stays `Updating` for `updateMs` after a write and refuses a
 * second write meanwhile. Every request is recorded (method, path, resource type) for the role test.
 */
import {execFileSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {chmodSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:https'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555'
export const TOKEN = 'fake-arm-token-for-tests'

type Json = Record<string, any>

export interface ArmRequest {
  method: string
  path: string
  /** e.g. Microsoft.Network/azureFirewalls, Microsoft.Compute/virtualMachines/runCommand. */
  type: string
  body?: Json
}

interface Operation {
  doneAt: number
  error?: {code: string; message: string}
  /** Location-style (DELETE, POST) result body. */
  result?: Json
  onDone?: () => void
  done?: boolean
  url?: string
}

interface Failure {
  method: string
  match: RegExp
  status: number
  code: string
  message: string
  /** Fail the long-running operation (poll answers Failed) instead of the request. */
  async?: boolean
}

export interface FakeArmOptions {
  /** How long a firewall or policy stays Updating after a write (ms). */
  updateMs?: number
  /** How long a VM create runs (ms). */
  vmMs?: number
}

function makeCa(dir: string): {ca: string; key: string; cert: string} {
  const run = (args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']})
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bastion test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1'])
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n')
  run(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf'])
  return {ca: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'srv.key'), 'utf8'), cert: readFileSync(join(dir, 'srv.pem'), 'utf8')}
}

/** The resource type of an ARM path (`Microsoft.Network/networkSecurityGroups/securityRules`), and what follows. */
export function resourceType(path: string): string {
  const m = /\/providers\/([^/]+)\/(.+)$/i.exec(path)
  if (!m) return /\/resourcegroups\/[^/]+$/i.test(path) ? 'Microsoft.Resources/resourceGroups' : 'unknown'
  const parts = (m[2] ?? '').split('/')
  // type/name/childType/childName/...: keep the type segments
  const types = parts.filter((_, i) => i % 2 === 0)
  return `${m[1]}/${types.join('/')}`
}

/** JSON with object keys sorted: the same document whatever order a serializer wrote its keys in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  )
}

export class FakeArm {
  readonly resources = new Map<string, Json>()
  /** When a resource stops being Updating (ms since epoch). */
  readonly busyUntil = new Map<string, number>()
  readonly requests: ArmRequest[] = []
  readonly operations = new Map<string, Operation>()
  readonly failures: Failure[] = []
  /** Run once, before the next matching request is served (another party acting at that very moment). */
  readonly hooks: {method: string; match: RegExp; fn: () => void}[] = []
  throttle = 0
  /** The VM sizes GET …/providers/Microsoft.Compute/skus lists (resourceSkus). */
  skus: Json[] = [
    {resourceType: 'virtualMachines', name: 'Standard_B2ats_v2', tier: 'Standard', size: 'B2ats_v2', family: 'standardBasv2Family', locations: ['westeurope'], restrictions: []},
    {resourceType: 'virtualMachines', name: 'Standard_B2pts_v2', tier: 'Standard', size: 'B2pts_v2', family: 'standardBpsv2Family', locations: ['westeurope'], restrictions: []},
    {resourceType: 'virtualMachines', name: 'Standard_B1s', tier: 'Standard', size: 'B1s', family: 'standardBSFamily', locations: ['westeurope'], restrictions: []},
    {
      resourceType: 'virtualMachines', name: 'Standard_B2s', tier: 'Standard', size: 'B2s', family: 'standardBSFamily', locations: ['westeurope'],
      restrictions: [{type: 'Location', values: ['westeurope'], restrictionInfo: {locations: ['westeurope']}, reasonCode: 'NotAvailableForSubscription'}],
    },
    {resourceType: 'disks', name: 'StandardSSD_LRS', tier: 'Standard', locations: ['westeurope']},
  ]
  /** Lines Run Command prints (the VM's host keys and bastion-init lines). */
  runCommandOutput: string[] = []
  private ipCounter = 4
  private pipCounter = 10
  url = ''
  caFile = ''
  binDir = ''
  azLog = ''
  private server?: Server
  updateMs: number
  vmMs: number

  constructor(opts: FakeArmOptions = {}) {
    this.updateMs = opts.updateMs ?? 1500
    this.vmMs = opts.vmMs ?? 800
  }

  async start(): Promise<this> {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-fake-arm-'))
    const {ca, key, cert} = makeCa(dir)
    this.caFile = ca
    this.binDir = join(dir, 'bin')
    this.azLog = join(dir, 'az.log')
    execFileSync('mkdir', ['-p', this.binDir])
    const az = join(this.binDir, 'az')
    writeFileSync(
      az,
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${this.azLog}'\ncase "$1 $2" in\n  "account get-access-token") ;;\n  *) echo "fake az: only account get-access-token" >&2; exit 2 ;;\nesac\n` +
        `printf '{"accessToken":"${TOKEN}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"subscription":"${SUBSCRIPTION}","tenant":"99999999-0000-0000-0000-000000000000","tokenType":"Bearer"}\\n'\n`,
    )
    chmodSync(az, 0o755)
    this.server = createServer({key, cert}, (req, res) => {
      let data = ''
      req.setEncoding('utf8')
      req.on('data', (d: string) => (data += d))
      req.on('end', () => {
        try {
          this.handle(req.method ?? 'GET', req.url ?? '/', String(req.headers.authorization ?? ''), data, (status, body, headers = {}) => {
            res.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID(), ...headers})
            res.end(body === undefined ? '' : JSON.stringify(body))
          })
        } catch (err) {
          res.writeHead(500, {'content-type': 'application/json'})
          res.end(JSON.stringify({error: {code: 'InternalServerError', message: String(err)}}))
        }
      })
    })
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve))
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  /** The CLI's environment: the endpoint, the CA, the fake az first on PATH, only developer credentials (no IMDS probe). */
  env(home: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_RUNTIME_DIR: home,
      AZURE_CONFIG_DIR: join(home, '.azure'),
      AZURE_RESOURCE_MANAGER_ENDPOINT: this.url,
      AZURE_SUBSCRIPTION_ID: SUBSCRIPTION,
      AZURE_TOKEN_CREDENTIALS: 'dev',
      NODE_EXTRA_CA_CERTS: this.caFile,
      PATH: `${this.binDir}:${process.env.PATH ?? ''}`,
      BASTION_AZURE_POLL_SECONDS: '0.2',
    }
    for (const k of ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE', 'IDENTITY_ENDPOINT', 'MSI_ENDPOINT', 'AZURE_USERNAME'])
      delete env[k]
    return env
  }

  // ----------------------------------------------------------------------------------------------------- seeding

  static id(rg: string, provider: string, ...rest: string[]): string {
    return `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/${provider}/${rest.join('/')}`
  }

  /** Put a resource as it exists (REST shape), with id/name/type filled in and provisioningState Succeeded. */
  seed(id: string, body: Json): Json {
    const r = this.stamp(id, body)
    this.resources.set(id.toLowerCase(), r)
    return r
  }

  get(id: string): Json | undefined {
    const r = this.resources.get(id.toLowerCase())
    return r ? this.view(id.toLowerCase(), r) : undefined
  }

  /** Another party's update: the resource is Updating for `ms`, refusing writes. */
  makeBusy(id: string, ms: number): void {
    this.busyUntil.set(id.toLowerCase(), Date.now() + ms)
  }

  failNext(method: string, match: RegExp, status: number, code: string, message = `${code} (injected by the test)`, async = false): void {
    this.failures.push({method, match, status, code, message, async})
  }

  beforeNext(method: string, match: RegExp, fn: () => void): void {
    this.hooks.push({method, match, fn})
  }

  countOf(method: string, match: RegExp): number {
    return this.requests.filter((r) => r.method === method && match.test(r.path)).length
  }

  private stamp(id: string, body: Json): Json {
    const name = id.split('/').at(-1) ?? ''
    return {...body, id, name, type: resourceType(id), properties: {...(body.properties ?? {}), provisioningState: 'Succeeded'}}
  }

  private view(key: string, r: Json): Json {
    const busy = (this.busyUntil.get(key) ?? 0) > Date.now()
    return {...r, properties: {...r.properties, provisioningState: busy ? 'Updating' : 'Succeeded'}}
  }

  // ----------------------------------------------------------------------------------------------------- serving

  private handle(method: string, rawUrl: string, auth: string, data: string, send: (status: number, body?: unknown, headers?: Record<string, string>) => void): void {
    const url = new URL(rawUrl, this.url)
    const path = decodeURIComponent(url.pathname).replace(/\/+$/, '')
    const key = path.toLowerCase()
    const body = data ? (JSON.parse(data) as Json) : undefined
    this.requests.push({method, path, type: resourceType(path), ...(body ? {body} : {})})
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) => send(status, {error: {code, message}}, headers)
    if (auth !== `Bearer ${TOKEN}`) return error(401, 'AuthenticationFailed', 'Authentication failed. The Authorization header is missing or invalid.')
    if (this.throttle > 0) {
      this.throttle--
      return error(429, 'TooManyRequests', 'The request is being throttled.', {'retry-after': '1'})
    }
    // long-running operations
    const op = /\/operations\/([0-9a-f-]+)$/.exec(key) ?? /\/operationresults\/([0-9a-f-]+)$/.exec(key)
    if (op && method === 'GET') return this.poll(op[1] ?? '', key.includes('/operationresults/'), send)
    const hook = this.hooks.findIndex((h) => h.method === method && h.match.test(path))
    if (hook >= 0) this.hooks.splice(hook, 1)[0]?.fn()
    if (!key.startsWith(`/subscriptions/${SUBSCRIPTION}`)) return error(404, 'SubscriptionNotFound', `The subscription '${path.split('/')[2]}' could not be found.`)
    const failure = this.failures.findIndex((f) => f.method === method && f.match.test(path))
    let asyncFailure: Failure | undefined
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1)
      if (f && !f.async) return error(f.status, f.code, f.message)
      asyncFailure = f
    }
    if (method === 'GET') return this.getPath(key, send, error)
    if (method === 'PUT') return this.putPath(path, key, body ?? {}, send, error, asyncFailure)
    if (method === 'DELETE') return this.deletePath(key, send, asyncFailure)
    if (method === 'POST' && key.endsWith('/runcommand')) {
      const vmKey = key.slice(0, -'/runcommand'.length)
      if (!this.resources.has(vmKey)) return error(404, 'ResourceNotFound', `The Resource '${path}' was not found.`)
      const message = `Enable succeeded: \n[stdout]\n${this.runCommandOutput.join('\n')}\n\n[stderr]\n`
      return this.startOperation(send, 'location', {doneAt: Date.now() + 300, result: {value: [{code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', message}]}}, 202, undefined, path)
    }
    return error(405, 'MethodNotAllowed', `${method} ${path}`)
  }

  private startOperation(send: (s: number, b?: unknown, h?: Record<string, string>) => void, style: 'async' | 'location', op: Operation, status = 202, body?: unknown, path = ''): void {
    const id = randomUUID()
    this.operations.set(id, op)
    // The operation lives with the resource provider that runs it (Microsoft.Network, Microsoft.Compute).
    const provider = /\/providers\/([^/]+)\//i.exec(path)?.[1] ?? 'Microsoft.Network'
    if (style === 'async') {
      const opUrl = `${this.url}/subscriptions/${SUBSCRIPTION}/providers/${provider}/locations/westeurope/operations/${id}?api-version=2026-01-01`
      send(status, body, {'azure-asyncoperation': opUrl, 'retry-after': '1'})
    } else {
      const opUrl = `${this.url}/subscriptions/${SUBSCRIPTION}/providers/${provider}/locations/westeurope/operationResults/${id}?api-version=2026-01-01`
      op.url = opUrl
      send(202, undefined, {location: opUrl, 'retry-after': '1'})
    }
  }

  private poll(id: string, location: boolean, send: (s: number, b?: unknown, h?: Record<string, string>) => void): void {
    const op = this.operations.get(id)
    if (!op) return send(404, {error: {code: 'NotFound', message: 'no such operation'}})
    if (Date.now() < op.doneAt) return location ? send(202, undefined, {'retry-after': '1', ...(op.url ? {location: op.url} : {})}) : send(200, {status: 'InProgress'}, {'retry-after': '1'})
    if (!op.done) {
      op.done = true
      if (!op.error) op.onDone?.()
    }
    if (op.error) return send(200, {status: 'Failed', error: op.error})
    if (location) return op.result ? send(200, op.result) : send(204)
    send(200, {status: 'Succeeded'})
  }

  private children(key: string): Json[] {
    return [...this.resources.entries()].filter(([k]) => k.startsWith(`${key}/`) && !k.slice(key.length + 1).includes('/')).map(([k, r]) => this.view(k, r))
  }

  private getPath(key: string, send: (s: number, b?: unknown) => void, error: (s: number, c: string, m: string) => void): void {
    const r = this.resources.get(key)
    if (r) return send(200, this.view(key, r))
    // a child kept inside its parent (subnets, NSG rules)
    const embedded = this.embedded(key)
    if (embedded) {
      const item = (embedded.parent.properties?.[embedded.prop] ?? []).find((x: Json) => String(x.name).toLowerCase() === embedded.name)
      return item ? send(200, item) : error(404, 'NotFound', `Resource ${key} not found.`)
    }
    if (key.endsWith('/instanceview')) {
      const vm = this.resources.get(key.slice(0, -'/instanceview'.length))
      if (!vm) return error(404, 'ResourceNotFound', 'The VM was not found.')
      return send(200, {computerName: vm.name, statuses: [{code: 'ProvisioningState/succeeded', level: 'Info'}, {code: `PowerState/${vm.powerState ?? 'running'}`, level: 'Info'}]})
    }
    if (key.endsWith('/providers/microsoft.compute/skus')) return send(200, {value: this.skus})
    // lists: subscription-wide (…/providers/<ns>/<type>) or children (…/<parent>/<childType>)
    const sub = /^\/subscriptions\/[^/]+\/providers\/([^/]+)\/([^/]+)$/.exec(key)
    if (sub) {
      const suffix = `/providers/${sub[1]}/${sub[2]}/`
      const value = [...this.resources.entries()].filter(([k]) => k.includes(suffix) && !k.slice(k.indexOf(suffix) + suffix.length).includes('/')).map(([k, x]) => this.view(k, x))
      return send(200, {value})
    }
    if (/\/providers\/[^/]+\/[^/]+\/[^/]+\/[^/]+$/.test(key) && this.resources.has(key.split('/').slice(0, -1).join('/'))) return send(200, {value: this.children(key)})
    error(404, 'ResourceNotFound', `The Resource '${key}' under resource group was not found.`)
  }

  private embedded(key: string): {parent: Json; parentKey: string; prop: string; name: string} | undefined {
    const m = /^(.*\/(?:virtualnetworks|networksecuritygroups)\/[^/]+)\/(subnets|securityrules)\/([^/]+)$/.exec(key)
    if (!m) return undefined
    const parent = this.resources.get(m[1] ?? '')
    if (!parent) return undefined
    return {parent, parentKey: m[1] ?? '', prop: m[2] === 'subnets' ? 'subnets' : 'securityRules', name: m[3] ?? ''}
  }

  /** The firewall or policy whose busy state a write on `key` depends on. */
  private lockKey(key: string): string | undefined {
    if (/\/azurefirewalls\/[^/]+$/.test(key)) return key
    const m = /^(.*\/firewallpolicies\/[^/]+)(\/rulecollectiongroups\/[^/]+)?$/.exec(key)
    return m?.[1]
  }

  private putPath(path: string, key: string, body: Json, send: (s: number, b?: unknown, h?: Record<string, string>) => void, error: (s: number, c: string, m: string) => void, asyncFailure?: Failure): void {
    const lock = this.lockKey(key)
    if (lock && (this.busyUntil.get(lock) ?? 0) > Date.now())
      return error(409, 'AnotherOperationInProgress', `Another operation on this or dependent resource is in progress. To retry later, please wait until the operation completes.`)
    const embedded = this.embedded(key)
    if (embedded) {
      const list: Json[] = embedded.parent.properties[embedded.prop] ?? []
      const item = {...body, id: path, name: path.split('/').at(-1), properties: {...body.properties, provisioningState: 'Succeeded'}}
      const at = list.findIndex((x) => String(x.name).toLowerCase() === embedded.name)
      embedded.parent.properties[embedded.prop] = at < 0 ? [...list, item] : list.map((x, i) => (i === at ? item : x))
      return this.startOperation(send, 'async', {doneAt: Date.now() + 200}, at < 0 ? 201 : 200, item, path)
    }
    const problem = this.validate(key, body)
    if (problem) return error(400, problem.code, problem.message)
    const existed = this.resources.has(key)
    const stored = this.stamp(path, body)
    const type = resourceType(path).toLowerCase()
    if (type === 'microsoft.network/networkinterfaces') {
      const old = this.resources.get(key)
      for (const [i, c] of (stored.properties.ipConfigurations ?? []).entries()) {
        c.properties ??= {}
        c.id ??= `${path}/ipConfigurations/${c.name}`
        c.properties.privateIPAddress ??= old?.properties?.ipConfigurations?.[i]?.properties?.privateIPAddress ?? `10.0.1.${this.ipCounter++}`
      }
    }
    if (type === 'microsoft.network/azurefirewalls') {
      // privateIPAddress is read-only: Azure keeps its own value whatever the PUT says
      const old = this.resources.get(key)
      for (const c of stored.properties.ipConfigurations ?? []) {
        const was = (old?.properties?.ipConfigurations ?? []).find((x: Json) => x.name === c.name)
        if (was?.properties?.privateIPAddress) c.properties = {...c.properties, privateIPAddress: was.properties.privateIPAddress}
      }
    }
    if (type === 'microsoft.network/publicipaddresses') stored.properties.ipAddress ??= this.resources.get(key)?.properties?.ipAddress ?? `20.1.2.${this.pipCounter++}`
    if (type === 'microsoft.network/networksecuritygroups')
      stored.properties.securityRules = (stored.properties.securityRules ?? []).map((r: Json) => ({...r, id: `${path}/securityRules/${r.name}`, properties: {...r.properties, provisioningState: 'Succeeded'}}))
    if (type === 'microsoft.compute/virtualmachines') {
      stored.properties.vmId = randomUUID()
      stored.properties.timeCreated = new Date().toISOString()
    }
    this.resources.set(key, stored)
    const ms = lock ? this.updateMs : type === 'microsoft.compute/virtualmachines' ? this.vmMs : 0
    if (lock) this.busyUntil.set(lock, Date.now() + ms)
    this.busyUntil.set(key, Date.now() + ms)
    const initial = {...stored, properties: {...stored.properties, provisioningState: existed ? 'Updating' : 'Creating'}}
    this.startOperation(send, 'async', {doneAt: Date.now() + ms, ...(asyncFailure ? {error: {code: asyncFailure.code, message: asyncFailure.message}} : {})}, existed ? 200 : 201, initial, path)
    if (asyncFailure) {
      // A failed create leaves the resource in the Failed state, as Azure does.
      stored.properties.provisioningState = 'Failed'
    }
  }

  private validate(key: string, body: Json): {code: string; message: string} | undefined {
    const type = resourceType(key).toLowerCase()
    if (type === 'microsoft.compute/virtualmachines') {
      const os = body.properties?.osProfile
      const custom = os?.customData ? Buffer.from(os.customData, 'base64') : Buffer.alloc(0)
      if (custom.length > 65535) return {code: 'InvalidParameter', message: "Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters."}
      const linux = os?.linuxConfiguration
      if (!linux?.ssh?.publicKeys?.length && !os?.adminPassword) return {code: 'InvalidParameter', message: 'Required parameter \'adminPassword\' is missing (null).'}
      for (const nic of body.properties?.networkProfile?.networkInterfaces ?? []) if (!this.resources.has(String(nic.id).toLowerCase())) return {code: 'InvalidResourceReference', message: `Resource ${nic.id} referenced by resource ${key} was not found.`}
    }
    if (type === 'microsoft.network/networkinterfaces') {
      const nsg = body.properties?.networkSecurityGroup?.id
      if (nsg && !this.resources.has(String(nsg).toLowerCase())) return {code: 'InvalidResourceReference', message: `Resource ${nsg} referenced by resource ${key} was not found.`}
    }
    if (type === 'microsoft.network/azurefirewalls' || type === 'microsoft.network/firewallpolicies/rulecollectiongroups') {
      const nat = type === 'microsoft.network/azurefirewalls' ? (body.properties?.natRuleCollections ?? []).map((c: Json) => ({priority: c.properties?.priority, action: c.properties?.action?.type})) : []
      for (const c of nat) if (c.action !== 'Dnat') return {code: 'AzureFirewallNatRuleCollectionInvalidAction', message: `NAT rule collection action must be Dnat, got ${c.action}`}
      if (type === 'microsoft.network/firewallpolicies/rulecollectiongroups')
        for (const c of body.properties?.ruleCollections ?? [])
          if (c.ruleCollectionType === 'FirewallPolicyNatRuleCollection' && c.action?.type !== 'DNAT') return {code: 'FirewallPolicyNatRuleCollectionInvalidAction', message: 'NAT rule collection action must be DNAT'}
    }
    return undefined
  }

  private deletePath(key: string, send: (s: number, b?: unknown, h?: Record<string, string>) => void, asyncFailure?: Failure): void {
    const lock = this.lockKey(key)
    if (lock && (this.busyUntil.get(lock) ?? 0) > Date.now()) return send(409, {error: {code: 'AnotherOperationInProgress', message: 'Another operation on this or dependent resource is in progress.'}})
    const embedded = this.embedded(key)
    if (embedded) {
      embedded.parent.properties[embedded.prop] = (embedded.parent.properties[embedded.prop] ?? []).filter((x: Json) => String(x.name).toLowerCase() !== embedded.name)
      return this.startOperation(send, 'location', {doneAt: Date.now() + 200}, 202, undefined, key)
    }
    if (!this.resources.has(key)) return send(204)
    const ms = lock && lock !== key ? this.updateMs : 200
    if (lock && lock !== key) this.busyUntil.set(lock, Date.now() + ms)
    this.startOperation(send, 'location', {
      doneAt: Date.now() + ms,
      ...(asyncFailure ? {error: {code: asyncFailure.code, message: asyncFailure.message}} : {}),
      onDone: () => {
        this.resources.delete(key)
        for (const k of [...this.resources.keys()]) if (k.startsWith(`${key}/`)) this.resources.delete(k)
      },
    }, 202, undefined, key)
  }
}
