/**
 * The pieces every multi-host human rendering shares (add-vendor-key, list/remove-vendor-key, the tunnel commands):
 * a host's ✔ line, a failed host, and a dry run's script tail. Host text goes through inert().
 */
import type {HostReport} from '../ssh/pool.js'
import {inert, inertLines} from './inert.js'
import type {Style} from './style.js'

/** The command's own rendering of a failed host (BastionCommand.renderHostError). */
export type ErrorRenderer = (r: HostReport<unknown>) => string[]

/** A host that failed: the command's own rendering of the error, else its message on one line. */
export function failedHost(h: HostReport<unknown>, renderError?: ErrorRenderer): string[] {
  return renderError?.(h) ?? [`✖ ${inert(h.host)}: ${inertLines(String(h.error?.message ?? 'failed'))}`]
}

/** `✔ host (os)`: the first line of a host that succeeded. */
export function okHost(host: string, s: Style, os?: string): string {
  return `${s.ok('✔')} ${s.bold(inert(host))}${os ? s.dim(` (${inert(os)})`) : ''}`
}

/** The tail of a dry run: the exact script each host would run. */
export function scriptLines(script: string, s: Style): string[] {
  return ['', s.bold('Remote script (run once per host as: sudo -n sh -s):'), script]
}
