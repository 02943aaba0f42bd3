/**
 * The subnet around the bastion: its route table (is there a 0.0.0.0/0 route to an internet gateway, so the vendor
 * can reach the public address at all?) and its network ACL (stateless: SSH must be allowed in, and the replies —
 * to the vendor's ephemeral ports — out). Reading is one call each; judging is pure.
 */
import type {EC2Client, NetworkAclEntry, RouteTable} from '@aws-sdk/client-ec2'
import {cidrContains, cidrOverlaps} from '../whitelist.js'
import {aws} from './errors.js'
import {ec2sdk} from './sdk.js'

export interface RouteInfo {
  destination: string
  /** igw-…, nat-…, local, pcx-…, tgw-…, eni-… */
  target: string
  state: string
}

export interface RouteTableInfo {
  id: string
  /** The VPC's main table (used by subnets without an explicit association). */
  main: boolean
  routes: RouteInfo[]
}

export interface NaclEntry {
  ruleNumber: number
  egress: boolean
  /** '-1' (all), '6' (tcp), '17' (udp) … */
  protocol: string
  action: 'allow' | 'deny'
  cidr: string
  fromPort?: number
  toPort?: number
}

export interface NaclInfo {
  id: string
  entries: NaclEntry[]
}

export function toRouteTableInfo(t: RouteTable, main: boolean): RouteTableInfo {
  return {
    id: t.RouteTableId ?? '',
    main,
    routes: (t.Routes ?? []).map((r) => ({
      destination: r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock ?? r.DestinationPrefixListId ?? '?',
      target:
        r.GatewayId ?? r.NatGatewayId ?? r.TransitGatewayId ?? r.VpcPeeringConnectionId ?? r.NetworkInterfaceId ?? r.InstanceId ?? r.LocalGatewayId ?? r.CarrierGatewayId ?? '?',
      state: r.State ?? 'active',
    })),
  }
}

/** The route table that governs the subnet: its explicit association, else the VPC's main table. */
export async function subnetRouteTable(client: EC2Client, subnetId: string, vpcId: string): Promise<RouteTableInfo | undefined> {
  const {DescribeRouteTablesCommand} = await ec2sdk()
  const explicit = await aws('DescribeRouteTables', () =>
    client.send(new DescribeRouteTablesCommand({Filters: [{Name: 'association.subnet-id', Values: [subnetId]}]})),
  )
  const table = explicit.RouteTables?.[0]
  if (table) return toRouteTableInfo(table, false)
  const main = await aws('DescribeRouteTables', () =>
    client.send(
      new DescribeRouteTablesCommand({
        Filters: [
          {Name: 'vpc-id', Values: [vpcId]},
          {Name: 'association.main', Values: ['true']},
        ],
      }),
    ),
  )
  const m = main.RouteTables?.[0]
  return m ? toRouteTableInfo(m, true) : undefined
}

export interface RouteVerdict {
  ok: boolean
  /** The 0.0.0.0/0 route, when there is one. */
  route?: RouteInfo
  reason: string
}

/** Can the internet reach a public address in this subnet? Only with an active 0.0.0.0/0 route to an igw-. */
export function judgeDefaultRoute(table: RouteTableInfo | undefined): RouteVerdict {
  if (!table) return {ok: false, reason: 'no route table found for the subnet'}
  const route = table.routes.find((r) => r.destination === '0.0.0.0/0')
  const which = `route table ${table.id}${table.main ? ' (the VPC\'s main table)' : ''}`
  if (!route) return {ok: false, reason: `${which} has no 0.0.0.0/0 route: the subnet is private, the internet cannot reach the bastion`}
  if (!route.target.startsWith('igw-'))
    return {ok: false, route, reason: `${which} sends 0.0.0.0/0 to ${route.target}, not to an internet gateway: the subnet is private`}
  if (route.state !== 'active') return {ok: false, route, reason: `${which}: the 0.0.0.0/0 route to ${route.target} is ${route.state}`}
  return {ok: true, route, reason: `${which} sends 0.0.0.0/0 to ${route.target}`}
}

export function toNaclEntry(e: NetworkAclEntry): NaclEntry {
  return {
    ruleNumber: e.RuleNumber ?? 32767,
    egress: e.Egress === true,
    protocol: e.Protocol ?? '-1',
    action: e.RuleAction === 'deny' ? 'deny' : 'allow',
    cidr: e.CidrBlock ?? e.Ipv6CidrBlock ?? '',
    ...(e.PortRange?.From !== undefined ? {fromPort: e.PortRange.From} : {}),
    ...(e.PortRange?.To !== undefined ? {toPort: e.PortRange.To} : {}),
  }
}

export async function subnetNacl(client: EC2Client, subnetId: string): Promise<NaclInfo | undefined> {
  const {DescribeNetworkAclsCommand} = await ec2sdk()
  const out = await aws('DescribeNetworkAcls', () =>
    client.send(new DescribeNetworkAclsCommand({Filters: [{Name: 'association.subnet-id', Values: [subnetId]}]})),
  )
  const acl = out.NetworkAcls?.[0]
  if (!acl) return undefined
  return {id: acl.NetworkAclId ?? '', entries: (acl.Entries ?? []).map(toNaclEntry)}
}

export type PortRange = [number, number]

export interface NaclVerdict {
  verdict: 'allow' | 'deny' | 'partial'
  allowed: PortRange[]
  denied: PortRange[]
  /** Rule numbers that decided some of the ports. */
  rules: number[]
  /** Deny rules that cover only part of the CIDR (some of its addresses are refused). */
  partialDenies: number[]
}

function subtract(ranges: PortRange[], [lo, hi]: PortRange): {inside: PortRange[]; outside: PortRange[]} {
  const inside: PortRange[] = []
  const outside: PortRange[] = []
  for (const [a, b] of ranges) {
    const l = Math.max(a, lo)
    const h = Math.min(b, hi)
    if (l > h) {
      outside.push([a, b])
      continue
    }
    inside.push([l, h])
    if (a < l) outside.push([a, l - 1])
    if (h < b) outside.push([h + 1, b])
  }
  return {inside, outside}
}

function merge(ranges: PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0])
  const out: PortRange[] = []
  for (const r of sorted) {
    const last = out.at(-1)
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1])
    else out.push([r[0], r[1]])
  }
  return out
}

/**
 * How a network ACL treats TCP traffic from/to `cidr` on `ports`, evaluated as AWS does: entries of the direction in
 * rule-number order, the first that matches decides, anything unmatched is denied (the `*` rule).
 */
export function evaluateNacl(entries: NaclEntry[], q: {egress: boolean; cidr: string; ports: PortRange}): NaclVerdict {
  let open: PortRange[] = [q.ports]
  const allowed: PortRange[] = []
  const denied: PortRange[] = []
  const rules: number[] = []
  const partialDenies: number[] = []
  const relevant = entries.filter((e) => e.egress === q.egress && (e.protocol === '-1' || e.protocol === '6')).sort((a, b) => a.ruleNumber - b.ruleNumber)
  for (const e of relevant) {
    if (open.length === 0) break
    const range: PortRange = e.protocol === '-1' || e.fromPort === undefined ? [0, 65535] : [e.fromPort, e.toPort ?? e.fromPort]
    if (cidrContains(e.cidr, q.cidr)) {
      const {inside, outside} = subtract(open, range)
      if (inside.length === 0) continue
      ;(e.action === 'allow' ? allowed : denied).push(...inside)
      rules.push(e.ruleNumber)
      open = outside
    } else if (e.action === 'deny' && cidrOverlaps(e.cidr, q.cidr) && subtract(open, range).inside.length > 0) {
      partialDenies.push(e.ruleNumber)
    }
  }
  denied.push(...open)
  const a = merge(allowed)
  const d = merge(denied)
  const verdict = d.length === 0 && partialDenies.length === 0 ? 'allow' : a.length === 0 ? 'deny' : 'partial'
  return {verdict, allowed: a, denied: d, rules, partialDenies}
}

export function formatPorts(ranges: PortRange[]): string {
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(', ')
}
