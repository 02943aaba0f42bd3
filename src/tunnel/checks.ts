/**
 * doctor --tunnel: pure checks over what the tunnel's host reports (tunnel-status.sh with PROBE=1). Each finding id is
 * documented in docs/checks.md. The service must run and not restart in a loop, the server's key must be pinned and
 * checked, ExitOnForwardFailure must be on (a forward the server refused must end ssh, so systemd retries), the forward
 * must be up, and from the tunnel host both the database and the server's SSH port must accept TCP.
 */
import type {Check, CheckContext, Finding, TcpProbe} from '../doctor/types.js'
import {finding, q} from '../doctor/checks/util.js'
import type {TunnelReport} from './status.js'
import {confPath, instanceName, knownHostsPath, keyPath, TUNNEL_USER} from './unit.js'

export interface TunnelFacts {
  name: string
  report: TunnelReport
  /** The --host as given, for fix commands that run bastion again. */
  host: string
}

type Ctx = CheckContext<TunnelFacts>
const AREA = 'tunnel'

function unit(ctx: Ctx): string {
  return instanceName(ctx.facts.name)
}
function journal(ctx: Ctx): string {
  return `journalctl -u ${unit(ctx)} -n 50 --no-pager`
}
function readd(ctx: Ctx, extra = ''): string {
  return `bastion tunnel add --host ${q(ctx.facts.host)} --name ${ctx.facts.name} …${extra}`
}
/** Everything below needs the tunnel to exist; without it they skip with this finding. */
function missing(ctx: Ctx, id: string, title: string): Finding[] | undefined {
  if (ctx.facts.report.configured) return undefined
  return [finding(AREA, id, title, {status: 'skip', seen: `there is no tunnel ${ctx.facts.name} (see tunnel.exists)`})]
}

export const tunnelExists: Check<TunnelFacts> = {
  ids: ['tunnel.exists'],
  area: AREA,
  run(ctx) {
    const r = ctx.facts.report
    const title = `tunnel ${ctx.facts.name} is set up on the host`
    if (r.links.length > 0)
      return [finding(AREA, 'tunnel.exists', title, {
        status: 'fail',
        seen: `${r.links.join(', ')} of the tunnel ${r.links.length === 1 ? 'is a symbolic link' : 'are symbolic links'}`,
        why: 'bastion writes and reads its tunnel files only as regular files; a link planted there could point the tunnel (running as its own account) at other files',
        fix: {command: `ls -la ${confPath(ctx.facts.name)} ${knownHostsPath(ctx.facts.name)} ${keyPath(ctx.facts.name)}*`},
      })]
    if (r.configured) return [finding(AREA, 'tunnel.exists', title, {status: 'pass', seen: `${confPath(ctx.facts.name)} and ${unit(ctx)}`})]
    return [finding(AREA, 'tunnel.exists', title, {
      status: 'fail',
      seen: r.unit.load === 'loaded' || r.unit.active !== 'inactive' ? `${unit(ctx)} is ${r.unit.active}, but ${confPath(ctx.facts.name)} is missing` : `no ${confPath(ctx.facts.name)}`,
      why: 'without its config file the service cannot start (AssertPathExists): the vendor has no tunnel',
      fix: {command: readd(ctx)},
    })]
  },
}

export const tunnelActive: Check<TunnelFacts> = {
  ids: ['tunnel.active'],
  area: AREA,
  run(ctx) {
    const title = 'systemd runs the tunnel, and starts it at boot'
    const skip = missing(ctx, 'tunnel.active', title)
    if (skip) return skip
    const u = ctx.facts.report.unit
    const state = `${u.active}/${u.sub}${u.result !== 'success' && u.result !== '-' ? ` (${u.result})` : ''}, ${u.enabled} at boot`
    if (u.active === 'active' && u.enabled === 'enabled') return [finding(AREA, 'tunnel.active', title, {status: 'pass', seen: state})]
    if (u.active === 'active')
      return [finding(AREA, 'tunnel.active', title, {
        status: 'warn',
        seen: state,
        why: 'the tunnel runs now but will not come back after a reboot',
        fix: {command: `systemctl enable ${unit(ctx)}`},
      })]
    return [finding(AREA, 'tunnel.active', title, {
      status: 'fail',
      seen: state,
      why: u.sub === 'auto-restart'
        ? 'ssh exited and systemd is waiting to start it again (see tunnel.restarts and tunnel.forward for why it exits)'
        : 'the service is not running: the vendor cannot reach the database',
      fix: {command: u.sub === 'auto-restart' ? journal(ctx) : `systemctl enable --now ${unit(ctx)}; ${journal(ctx)}`},
    })]
  },
}

/** A restart count this high, with the tunnel up now, is worth a warning: it keeps dropping. */
export const FLAPPING_RESTARTS = 10

export const tunnelRestarts: Check<TunnelFacts> = {
  ids: ['tunnel.restarts'],
  area: AREA,
  run(ctx) {
    const title = 'the tunnel is not restarting in a loop'
    const skip = missing(ctx, 'tunnel.restarts', title)
    if (skip) return skip
    const r = ctx.facts.report
    const n = r.unit.restarts
    const seen = `${n} restart(s) since the service was started${r.upSeconds !== undefined ? `; up for ${r.upSeconds} s` : ''}`
    const looping = r.unit.sub === 'auto-restart' || (r.forward !== 'established' && n > 0)
    if (looping)
      return [finding(AREA, 'tunnel.restarts', title, {
        status: 'fail',
        seen: `${seen}${r.problem ? `; ssh last said: ${r.problem.line}` : ''}`,
        why: `ssh keeps exiting and systemd keeps starting it again${r.problem ? `: ${r.problem.message}` : ''}. Restarting does not fix this; the cause must be fixed (tunnel.forward says what it is)`,
        fix: {command: journal(ctx)},
      })]
    if (n >= FLAPPING_RESTARTS)
      return [finding(AREA, 'tunnel.restarts', title, {
        status: 'warn',
        seen,
        why: 'the tunnel is up, but has dropped often: the vendor sees failed syncs each time. Look for keep-alive timeouts or a server that closes connections',
        fix: {command: `${journal(ctx)} | grep -iE 'timeout|closed|reset'`},
      })]
    return [finding(AREA, 'tunnel.restarts', title, {status: 'pass', seen})]
  },
}

export const tunnelHostKey: Check<TunnelFacts> = {
  ids: ['tunnel.host_key'],
  area: AREA,
  run(ctx) {
    const title = "the vendor server's host key is pinned and checked"
    const skip = missing(ctx, 'tunnel.host_key', title)
    if (skip) return skip
    const r = ctx.facts.report
    const s = r.config?.settings ?? {}
    const strict = s.stricthostkeychecking?.[0]?.toLowerCase()
    const khf = s.userknownhostsfile?.[0]
    const pinned = r.pinnedKeys.map((k) => `${k.type} ${k.fingerprint}`).join(', ')
    if (strict !== 'yes' || khf !== knownHostsPath(ctx.facts.name))
      return [finding(AREA, 'tunnel.host_key', title, {
        status: 'fail',
        seen: `StrictHostKeyChecking ${strict ?? '(not set)'}, UserKnownHostsFile ${khf ?? '(not set)'}`,
        why: 'ssh must accept only the pinned key: anything else lets whoever sits between the host and the vendor receive the tunnel, and with it the way to your database',
        fix: {command: readd(ctx)},
      })]
    if (r.pinnedKeys.length === 0)
      return [finding(AREA, 'tunnel.host_key', title, {
        status: 'fail',
        seen: `${knownHostsPath(ctx.facts.name)} holds no key`,
        why: 'with no pinned key ssh refuses every server (StrictHostKeyChecking yes): the tunnel cannot come up',
        fix: {command: readd(ctx, ' --server-host-key-fingerprint SHA256:…')},
      })]
    if (r.problem?.code === 'host-key')
      return [finding(AREA, 'tunnel.host_key', title, {
        status: 'fail',
        seen: `pinned ${pinned}; ssh said: ${r.problem.line}`,
        why: "the server presents a key that is not the pinned one, so ssh refuses to connect. Either the vendor changed its server's key (ask the vendor for the new fingerprint, then pin it), or something between this host and the vendor is not the vendor's server: do not pin a key you cannot verify",
        fix: {command: `ssh-keyscan -p ${r.config?.serverPort ?? 22} ${q(r.config?.server ?? '<server>')} | ssh-keygen -lf -   # compare with the vendor's fingerprint, then: ${readd(ctx, ' --server-host-key-fingerprint SHA256:<the vendor\'s>')}`},
      })]
    return [finding(AREA, 'tunnel.host_key', title, {status: 'pass', seen: `pinned ${pinned}; StrictHostKeyChecking yes`})]
  },
}

export const tunnelExitOnForwardFailure: Check<TunnelFacts> = {
  ids: ['tunnel.exit_on_forward_failure'],
  area: AREA,
  run(ctx) {
    const title = 'ssh exits when the server refuses the forward (ExitOnForwardFailure)'
    const skip = missing(ctx, 'tunnel.exit_on_forward_failure', title)
    if (skip) return skip
    const s = ctx.facts.report.config?.settings ?? {}
    const v = s.exitonforwardfailure?.[0]?.toLowerCase()
    const alive = s.serveraliveinterval?.[0]
    if (v === 'yes')
      return [finding(AREA, 'tunnel.exit_on_forward_failure', title, {status: 'pass', seen: `ExitOnForwardFailure yes${alive ? `, ServerAliveInterval ${alive}` : ''}`})]
    return [finding(AREA, 'tunnel.exit_on_forward_failure', title, {
      status: 'fail',
      seen: `ExitOnForwardFailure ${v ?? '(not set: no)'}`,
      why: 'without it ssh stays connected when the server refused the remote port (for instance while an old session still holds it): the service looks up, but the vendor reaches nothing, and systemd never retries',
      fix: {command: readd(ctx)},
    })]
  },
}

const FIXES: Record<string, (ctx: Ctx, r: TunnelReport) => string> = {
  auth: (ctx, r) => `give the vendor the tunnel's public key: ${r.publicKey ?? `cat ${keyPath(ctx.facts.name)}.pub`}`,
  forward: (ctx, r) => `ask the vendor which remote port this tunnel may use (now ${r.config?.remotePort ?? '?'}), then: ${readd(ctx, ' --remote-port <port>')}`,
  key: (ctx) => `ls -la ${keyPath(ctx.facts.name)}; ${readd(ctx)} (repairs owner and mode)`,
}

export const tunnelForward: Check<TunnelFacts> = {
  ids: ['tunnel.forward'],
  area: AREA,
  run(ctx) {
    const title = 'the remote forward is established on the vendor\'s server'
    const skip = missing(ctx, 'tunnel.forward', title)
    if (skip) return skip
    const r = ctx.facts.report
    const port = r.config?.remotePort
    if (r.forward === 'established')
      return [finding(AREA, 'tunnel.forward', title, {
        status: 'pass',
        seen: `ssh is logged in to ${r.config?.server ?? '?'}${r.connections[0] ? ` (${r.connections[0].local} → ${r.connections[0].peer})` : ''} and the server listens on port ${port ?? '?'} for the vendor`,
      })]
    const p = r.problem
    const fix = p && FIXES[p.code] ? FIXES[p.code]!(ctx, r) : journal(ctx)
    return [finding(AREA, 'tunnel.forward', title, {
      status: 'fail',
      seen: p ? `ssh said: ${p.line}` : r.forward === 'connecting' ? 'ssh runs but has not logged in to the server yet' : `the service is ${r.unit.active}/${r.unit.sub}, and ssh left no message that tells why`,
      why: p ? `${p.message}; the vendor's connections to port ${port ?? '?'} on its server reach nothing` : 'the vendor\'s connections reach nothing until ssh is logged in and the server accepted the forward',
      fix: {command: fix},
    })]
  },
}

export const tunnelKey: Check<TunnelFacts> = {
  ids: ['tunnel.key'],
  area: AREA,
  run(ctx) {
    const title = "the tunnel's private key is readable by the tunnel's account only"
    const skip = missing(ctx, 'tunnel.key', title)
    if (skip) return skip
    const k = ctx.facts.report.keyFile
    if (!k)
      return [finding(AREA, 'tunnel.key', title, {
        status: 'fail',
        seen: `no ${keyPath(ctx.facts.name)}`,
        why: 'ssh has no key to log in with; re-adding the tunnel makes a new one, which the vendor must then be given',
        fix: {command: readd(ctx)},
      })]
    const seen = `${keyPath(ctx.facts.name)}: mode ${k.mode}, owner ${k.owner}, ${k.links} link(s)`
    if (k.mode === '600' && k.owner === TUNNEL_USER && k.links === 1) return [finding(AREA, 'tunnel.key', title, {status: 'pass', seen})]
    return [finding(AREA, 'tunnel.key', title, {
      status: 'fail',
      seen,
      why: `ssh refuses a private key others can read ("UNPROTECTED PRIVATE KEY FILE"), cannot read one it does not own, and a key with other names can be read through them; it must be 0600, owned by ${TUNNEL_USER}, with one link`,
      fix: {command: FIXES.key!(ctx, ctx.facts.report)},
    })]
  },
}

function tcpFinding(id: string, title: string, what: string, p: TcpProbe | undefined, why: Record<'refused' | 'timeout' | 'dns' | 'noroute' | 'error', string>): Finding {
  if (!p) return finding(AREA, id, title, {status: 'skip', seen: `the host did not test ${what}`})
  const detail = p.detail ? `: ${p.detail}` : ''
  const to = p.addresses.length > 0 && p.addresses[0] !== p.host ? ` (${p.addresses.join(', ')})` : ''
  const recheck = `timeout 5 bash -c ${q(`exec 3<>/dev/tcp/${p.host}/${p.port}`)} && echo open`
  switch (p.result) {
    case 'open':
      return finding(AREA, id, title, {status: 'pass', seen: `${p.target}${to} accepted a TCP connection`})
    case 'dns':
      return finding(AREA, id, title, {status: 'fail', seen: `${p.host} does not resolve on the tunnel host`, why: why.dns, fix: {command: `getent ahosts ${q(p.host)}`}})
    case 'refused':
      return finding(AREA, id, title, {status: 'fail', seen: `${p.target}${to} refused the connection${detail}`, why: why.refused, fix: {command: recheck}})
    case 'timeout':
      return finding(AREA, id, title, {status: 'fail', seen: `no answer from ${p.target}${to}: the connection timed out${detail}`, why: why.timeout, fix: {command: `ip route get ${q(p.addresses[0] ?? p.host)}`}})
    case 'noroute':
      return finding(AREA, id, title, {status: 'fail', seen: `no route to ${p.target}${to}${detail}`, why: why.noroute, fix: {command: `ip route get ${q(p.addresses[0] ?? p.host)}`}})
    default:
      return finding(AREA, id, title, {status: 'warn', seen: `testing ${p.target} failed${detail || ': no detail'}`, why: why.error, fix: {command: recheck}})
  }
}

export const tunnelDb: Check<TunnelFacts> = {
  ids: ['tunnel.db'],
  area: AREA,
  run(ctx) {
    const title = 'the database accepts TCP from the tunnel host'
    const skip = missing(ctx, 'tunnel.db', title)
    if (skip) return skip
    return [tcpFinding('tunnel.db', `${title}: ${ctx.facts.report.config?.db ?? '?'}`, 'the database', ctx.facts.report.net?.db, {
      dns: "ssh resolves the database name on the tunnel host for each of the vendor's connections; use a name this host resolves, or the address",
      refused: 'the database host answers but nothing listens on that port (or a host firewall rejects): is the database running and listening on an address this host can reach (not only 127.0.0.1)?',
      timeout: "a firewall or security group drops the tunnel host's packets: allow this host's address to the database port",
      noroute: 'this host has no route to the database',
      error: 'the host could not tell whether the port is open (no nc and no bash)',
    })]
  },
}

export const tunnelServer: Check<TunnelFacts> = {
  ids: ['tunnel.server'],
  area: AREA,
  run(ctx) {
    const title = "the vendor server's SSH port accepts TCP from the tunnel host"
    const skip = missing(ctx, 'tunnel.server', title)
    if (skip) return skip
    const c = ctx.facts.report.config
    return [tcpFinding('tunnel.server', `${title}: ${c?.server ?? '?'}:${c?.serverPort ?? 22}`, "the vendor's server", ctx.facts.report.net?.server, {
      dns: "the server's name does not resolve on the tunnel host: check the --server given (a typo?) and this host's resolver (cat /etc/resolv.conf)",
      refused: "the server answers but refuses the SSH port: check --server-port with the vendor (Integrate.io: 50683, Holistics: 50022), or an outbound firewall that rejects",
      timeout: "nothing answers: an outbound firewall (or security group / NAT) drops this host's connections to the vendor's port; allow TCP to it",
      noroute: 'this host has no route to the server (no internet access, no NAT gateway?)',
      error: 'the host could not tell whether the port is open (no nc and no bash)',
    })]
  },
}

/** The tunnel checks, in report order. */
export const tunnelChecks: Check<TunnelFacts>[] = [
  tunnelExists, tunnelActive, tunnelRestarts, tunnelHostKey, tunnelExitOnForwardFailure, tunnelForward, tunnelKey, tunnelDb, tunnelServer,
]

export const tunnelCheckIds: string[] = tunnelChecks.flatMap((c) => c.ids)
