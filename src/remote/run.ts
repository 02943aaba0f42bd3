/**
 * Run a rendered shell script on a host in one round trip: the script goes on stdin to `sudo -n sh -s`
 * (or plain `sh -s` for root / when sudo is not wanted). sudo problems become BastionErrors with the fix.
 */
import {BastionError, Exit} from '../errors.js'
import type {ExecResult, SshSession} from '../ssh/types.js'

/** Runs one rendered script on one host with root rights (`sudo -n sh -s`), one round trip. */
export type ScriptRunner = (script: string) => Promise<ExecResult>

export interface RemoteScriptOptions {
  /** Run as root through `sudo -n` (default true). Ignored when the login user is root. */
  sudo?: boolean
}

/** The command line used to run a script read from stdin. */
export function remoteShellCommand(loginUser: string, sudo = true): string {
  return sudo && loginUser !== 'root' ? 'sudo -n sh -s' : 'sh -s'
}

/** sudoers line that lets `user` run everything without a password. */
export function sudoersLine(user: string): string {
  return `${user} ALL=(ALL) NOPASSWD:ALL`
}

/** Recognise sudo's own failures in a finished exec; undefined when the script itself ran. */
export function classifySudoFailure(result: ExecResult, user: string, host: string): BastionError | undefined {
  if (result.code === 0) return undefined
  const err = result.stderr
  const detail = {host, user, code: result.code, stderr: err.slice(0, 2000)}
  if (/^sudo: (a password is required|a terminal is required)/m.test(err) || /^sudo: .*(incorrect password attempt|password is required)/m.test(err)) {
    return new BastionError('SUDO_PASSWORD', `sudo on ${host} wants a password for ${user}, and bastion runs sudo non-interactively (sudo -n).`, {
      exit: Exit.SUDO, detail, suggestions: [
        `On the host, grant ${user} passwordless sudo: echo '${sudoersLine(user)}' | sudo tee /etc/sudoers.d/90-${user.replace(/[^A-Za-z0-9_-]/g, '_')} && sudo chmod 0440 /etc/sudoers.d/90-${user.replace(/[^A-Za-z0-9_-]/g, '_')} (check with visudo -c).`,
        'Or log in as a user that already has it (cloud images: ubuntu, admin, ec2-user, azureuser have NOPASSWD sudo).',
      ]})
  }
  if (/^sudo: sorry, you must have a tty/m.test(err)) {
    return new BastionError('SUDO_TTY', `sudo on ${host} is configured with "requiretty", so it cannot run from a non-interactive SSH command.`, {
      exit: Exit.SUDO, detail, suggestions: [
        `On the host, add 'Defaults:${user} !requiretty' to a file in /etc/sudoers.d/ (edit with visudo).`,
      ]})
  }
  if (/is not in the sudoers file|is not allowed to (execute|run sudo)|may not run sudo/m.test(err)) {
    return new BastionError('SUDO_DENIED', `${user} is not allowed to use sudo on ${host}.`, {
      exit: Exit.SUDO, detail, suggestions: [
        `Log in as a user with sudo rights, or grant ${user} passwordless sudo: '${sudoersLine(user)}' in /etc/sudoers.d/ (edit with visudo).`,
      ]})
  }
  if (result.code === 127 && /sudo: (command )?not found|sudo: No such file/i.test(err)) {
    return new BastionError('SUDO_MISSING', `sudo is not installed on ${host}, so ${user} cannot run the script as root.`, {
      exit: Exit.SUDO, detail, suggestions: [
        'Install sudo on the host (Debian/Ubuntu: apt-get install sudo; RHEL/Amazon Linux: dnf install sudo) and grant the user NOPASSWD sudo,',
        'or log in as root (--user root), if the host allows root logins.',
      ]})
  }
  return undefined
}

/**
 * Run `script` on the host with one exec: `sudo -n sh -s` (or `sh -s` for root / sudo:false) reading the script on stdin.
 * Returns the exit code and output of the script; throws BastionError SUDO_* (exit 5) when sudo itself refused.
 */
export async function runRemoteScript(session: SshSession, script: string, opts: RemoteScriptOptions = {}): Promise<ExecResult> {
  const user = session.target.user
  const sudo = opts.sudo ?? true
  const command = remoteShellCommand(user, sudo)
  const result = await session.exec(command, script)
  if (command.startsWith('sudo')) {
    const sudoError = classifySudoFailure(result, user, session.target.input)
    if (sudoError) throw sudoError
  }
  return result
}
