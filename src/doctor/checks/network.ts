/**
 * network checks, from the bastion: each database name resolves there, and its port accepts a TCP connection —
 * accepted / refused / timed out / no route / DNS failure told apart, because each has a different fix.
 */
import type {Check, CheckContext, Finding, TcpProbe} from '../types.js'
import type {HostPort} from '../../input/parse.js'
import {parseAddr} from './match.js'
import {finding, list, q} from './util.js'

const AREA = 'network'

function probeFor(ctx: CheckContext, db: HostPort): TcpProbe | undefined {
  return ctx.facts.network.find((p) => p.target === db.text) ?? ctx.facts.network.find((p) => p.host === db.host && p.port === db.port)
}

function noDbs(id: string, title: string): Finding[] {
  return [finding(AREA, id, title, {status: 'skip', seen: 'no --db given: nothing to test from the bastion'})]
}

function recheck(ctx: CheckContext, db: HostPort): string {
  return ctx.facts.tools.nc ? `nc -vz -w 5 ${q(db.host)} ${q(String(db.port))}` : `timeout 5 bash -c ${q(`exec 3<>/dev/tcp/${db.host}/${db.port}`)} && echo open`
}

/** The bastion's own addresses worth naming in a firewall rule (sshd's specific listening addresses). */
function bastionAddresses(ctx: CheckContext): string[] {
  return [...new Set(ctx.facts.sshd.listening.map((l) => l.address.replace(/^\[|\]$/g, '')).filter((a) => parseAddr(a) && !/^(0\.0\.0\.0|::|127\.|::1$)/.test(a)))]
}

export const networkTools: Check = {
  ids: ['network.tools'],
  area: AREA,
  run(ctx) {
    const t = ctx.facts.tools
    const title = 'the bastion can test TCP connections'
    if (ctx.input.dbs.length === 0) return noDbs('network.tools', title)
    if (t.nc) return [finding(AREA, 'network.tools', title, {status: 'pass', seen: `nc${t.ncFlavor ? ` (${t.ncFlavor})` : ''}${t.getent ? ', getent' : ''}`})]
    if (t.bash) {
      return [finding(AREA, 'network.tools', title, {
        status: 'pass',
        seen: `no nc; the probe used bash's /dev/tcp instead${t.timeout ? ' (with timeout)' : ' (no timeout command: a silent firewall is judged by the probe\'s own deadline)'}, which needs no extra package`,
      })]
    }
    return [finding(AREA, 'network.tools', title, {
      status: 'warn',
      seen: 'neither nc nor bash is installed: TCP reachability could not be tested',
      why: 'doctor cannot tell whether the bastion reaches the database; the network findings below are unknown',
      fix: {command: /debian|ubuntu/i.test(ctx.facts.os.id) ? 'apt-get install -y netcat-openbsd' : 'dnf install -y nmap-ncat || yum install -y nmap-ncat'},
    })]
  },
}

export const networkDns: Check = {
  ids: ['network.dns'],
  area: AREA,
  run(ctx) {
    const title = 'the database name resolves on the bastion'
    if (ctx.input.dbs.length === 0) return noDbs('network.dns', title)
    return ctx.input.dbs.map((db) => {
      const t = `${title}: ${db.host}`
      if (parseAddr(db.host)) return finding(AREA, 'network.dns', t, {status: 'pass', seen: `${db.host} is an address: nothing to resolve`})
      const p = probeFor(ctx, db)
      if (!p) return finding(AREA, 'network.dns', t, {status: 'skip', seen: `the probe did not test ${db.text}`})
      if (p.result === 'dns' || (p.addresses.length === 0 && p.result !== 'open')) {
        return finding(AREA, 'network.dns', t, {
          status: 'fail',
          seen: `${db.host} does not resolve on the bastion${p.detail ? ` (${p.detail.trim()})` : ''}`,
          why: `sshd resolves the database name on the bastion when the vendor's tunnel opens; it fails: "channel 2: open failed: connect failed: Name or service not known". Use a name the bastion's resolver knows (private DNS zone, /etc/hosts) or the database's address`,
          fix: {command: `getent ahosts ${q(db.host)}`},
        })
      }
      return finding(AREA, 'network.dns', t, {status: 'pass', seen: `${db.host} resolves to ${list(p.addresses)}`})
    })
  },
}

export const networkTcp: Check = {
  ids: ['network.tcp'],
  area: AREA,
  run(ctx) {
    const title = 'the database port accepts TCP from the bastion'
    if (ctx.input.dbs.length === 0) return noDbs('network.tcp', title)
    return ctx.input.dbs.map((db) => {
      const t = `${title}: ${db.text}`
      const p = probeFor(ctx, db)
      if (!p) return finding(AREA, 'network.tcp', t, {status: 'skip', seen: `the probe did not test ${db.text}`})
      const via = `${p.ms !== undefined ? ` after ${p.ms} ms` : ''}${p.tool ? ` (${p.tool})` : ''}`
      const detail = p.detail ? `: ${p.detail.trim()}` : ''
      const addr = p.addresses[0] ?? db.host
      const to = p.addresses.length > 0 && p.addresses[0] !== db.host ? ` (${list(p.addresses)})` : ''
      switch (p.result) {
        case 'open':
          return finding(AREA, 'network.tcp', t, {status: 'pass', seen: `${db.text}${to} accepted a connection${via}`})
        case 'dns':
          return finding(AREA, 'network.tcp', t, {status: 'skip', seen: `${db.host} does not resolve (see network.dns)`})
        case 'refused':
          return finding(AREA, 'network.tcp', t, {
            status: 'fail',
            seen: `${db.text}${to} refused the connection${via}${detail}`,
            why: `the host answers but nothing listens on port ${db.port}: is the database running, listening on all interfaces (not only 127.0.0.1; e.g. PostgreSQL listen_addresses, MySQL bind-address), on this port? (A host firewall that rejects looks the same.) The vendor sees "channel 2: open failed: connect failed: Connection refused". Check it on the database host with: ss -ltn 'sport = :${db.port}'`,
            fix: {command: recheck(ctx, db)},
          })
        case 'timeout': {
          const mine = bastionAddresses(ctx)
          const src = mine.length > 0 ? list(mine, 'or') : 'the bastion\'s private address'
          return finding(AREA, 'network.tcp', t, {
            status: 'fail',
            seen: `no answer from ${db.text}${to}${via}: the connection timed out${detail}`,
            why: `a firewall or security group drops the bastion's packets: allow ${src} → ${db.host}:${db.port} (TCP) in the database's security group / firewall (or the network ACL between them). The vendor's tunnel hangs, then "channel 2: open failed: connect failed: Connection timed out". The command shows the source address the bastion uses`,
            fix: {command: `ip route get ${q(addr)}`},
          })
        }
        case 'noroute':
          return finding(AREA, 'network.tcp', t, {
            status: 'fail',
            seen: `no route to ${db.text}${to}${via}${detail}`,
            why: `the bastion has no route to ${addr} (another VPC/VNet without peering, a missing route table entry, or a host that is down): "channel 2: open failed: connect failed: No route to host". The command shows the route the bastion would take`,
            fix: {command: `ip route get ${q(addr)}`},
          })
        default:
          return finding(AREA, 'network.tcp', t, {
            status: 'warn',
            seen: `testing ${db.text} failed${via}${detail || ': no detail'}`,
            why: 'the probe could not tell whether the port is open; run the command on the bastion to see',
            fix: {command: recheck(ctx, db)},
          })
      }
    })
  },
}

/** network checks in report order. */
export const networkChecks: Check[] = [networkTools, networkDns, networkTcp]
