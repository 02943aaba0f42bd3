/**
 * user checks: the vendor's account exists, has a group, a home and a shell sshd accepts, and is neither locked (as sshd
 * sees it), expired, nor stuck on a forced password change (which PAM turns into "no port forwarding").
 */
import type {Check, CheckContext, Finding} from '../types.js'
import {addKeyCommand, dayNumber, dayToIso, finding, judgedSpecs, q, settingLine, usePam, type Verdict} from './util.js'

const AREA = 'user'

/** A check of an account that exists: a skip (pointing at user.exists) when it does not. */
function existingUser(id: string, title: string, judge: (ctx: CheckContext, title: string) => Finding[]): Check {
  return {
    ids: [id],
    area: AREA,
    run(ctx) {
      if (!ctx.facts.user.exists) return [finding(AREA, id, title, {status: 'skip', seen: `user ${ctx.input.vendor} does not exist (see user.exists)`})]
      return judge(ctx, title)
    },
  }
}

export const userExists: Check = {
  ids: ['user.exists'],
  area: AREA,
  run(ctx) {
    const u = ctx.facts.user
    const title = `user ${ctx.input.vendor} exists`
    if (u.exists) return [finding(AREA, 'user.exists', title, {status: 'pass', seen: `${u.name} (uid ${u.uid ?? '?'}, gid ${u.gid ?? '?'})`})]
    return [finding(AREA, 'user.exists', title, {
      status: 'fail',
      seen: `no user ${ctx.input.vendor} in the bastion's user database`,
      why: 'sshd cannot log in a user that does not exist: the vendor gets "Permission denied (publickey)" (sshd logs "Invalid user"). add-vendor-key creates the user, its group, home, ~/.ssh and authorized_keys',
      fix: {command: addKeyCommand(ctx)},
    })]
  },
}

export const userGroup: Check = existingUser('user.group', 'primary group', (ctx, title) => {
  const u = ctx.facts.user
  if (!u.group) {
    return [finding(AREA, 'user.group', title, {
      status: 'warn',
      seen: `primary gid ${u.gid ?? '?'} has no entry in the group database`,
      why: 'files cannot be given to the group by name, and with AllowGroups/DenyGroups set sshd refuses a user whose groups it cannot name ("not in any group")',
      fix: {command: `groupadd -g ${q(String(u.gid ?? ''))} ${q(ctx.input.vendor)}`},
    })]
  }
  const note = u.group === ctx.input.vendor ? '' : ` (bastion creates a group named ${ctx.input.vendor}; this account uses ${u.group}, which works as well)`
  const extra = u.groups.filter((g) => g !== u.group)
  return [finding(AREA, 'user.group', title, {status: 'pass', seen: `${u.group} (gid ${u.gid ?? '?'})${extra.length ? `, also in ${extra.join(', ')}` : ''}${note}`})]
})

export const userHome: Check = existingUser('user.home', 'home directory exists', (ctx, title) => {
  const home = ctx.facts.user.home
  const fix = {command: `install -d -m 0750 -o ${q(ctx.input.vendor)} -g ${q(ctx.facts.user.group ?? ctx.input.vendor)} ${q(home || `/home/${ctx.input.vendor}`)}`}
  if (!home) {
    return [finding(AREA, 'user.home', title, {status: 'fail', seen: 'the account has no home directory set', why: 'sshd looks for ~/.ssh/authorized_keys under the home directory; with none, no key is found ("Permission denied (publickey)")', fix: {command: `usermod -d ${q(`/home/${ctx.input.vendor}`)} ${q(ctx.input.vendor)} && ${fix.command}`}})]
  }
  const st = ctx.facts.user.homeStat ?? ctx.facts.authorizedKeys.flatMap((a) => a.chain).find((s) => s.path === home)
  if (!st) return [finding(AREA, 'user.home', title, {status: 'skip', seen: `${home}: the probe gathered no stat for it`})]
  if (!st.exists) {
    return [finding(AREA, 'user.home', title, {
      status: 'fail',
      seen: `${home} does not exist`,
      why: 'sshd finds no ~/.ssh/authorized_keys, so the key is unknown ("Permission denied (publickey)")',
      fix,
    })]
  }
  const type = st.symlinkTo ? 'dir' : st.type
  if (type !== 'dir') {
    return [finding(AREA, 'user.home', title, {status: 'fail', seen: `${home} is not a directory (${st.type ?? 'unknown type'})`, why: 'sshd cannot find ~/.ssh/authorized_keys under it ("Permission denied (publickey)")'})]
  }
  return [finding(AREA, 'user.home', title, {status: 'pass', seen: `${home}${st.symlinkTo ? ` (→ ${st.symlinkTo})` : ''}`})]
})

function chrootDirectory(ctx: CheckContext): string | undefined {
  const eff = judgedSpecs(ctx.facts)[0]?.eff
  const c = eff ? settingLine(eff, 'chrootdirectory') : undefined
  return c && c !== 'none' ? c : undefined
}

export const userShell: Check = existingUser('user.shell', 'login shell is one sshd accepts', (ctx, title) => {
  const u = ctx.facts.user
  const shell = u.shell === undefined || u.shell === '' ? '/bin/sh' : u.shell
  const shown = u.shell === '' ? '(empty: /bin/sh)' : shell
  const chroot = chrootDirectory(ctx)
  if (u.shellExecutable === undefined) return [finding(AREA, 'user.shell', title, {status: 'skip', seen: `${shown}: the probe could not tell whether it is executable`})]
  if (!u.shellExecutable) {
    if (chroot) return [finding(AREA, 'user.shell', title, {status: 'pass', seen: `${shown} is missing or not executable, but sshd does not check it with ChrootDirectory ${chroot}`})]
    return [finding(AREA, 'user.shell', title, {
      status: 'fail',
      seen: `${shown} does not exist or is not executable`,
      why: `sshd refuses users whose shell does not exist or is not executable, even for tunnels: the vendor gets "Permission denied (publickey)" and sshd logs "User ${u.name} not allowed because shell ${shell} does not exist" (or "is not executable")`,
      fix: {command: `usermod -s /usr/sbin/nologin ${q(u.name)}`},
    })]
  }
  const listed = u.shellListed === false ? ' (not in /etc/shells, which only matters where PAM uses pam_shells)' : ''
  if (/\/(nologin|false)$/.test(shell)) return [finding(AREA, 'user.shell', title, {status: 'pass', seen: `${shown}: no shell, which is all a tunnel (ssh -N) needs${listed}`})]
  return [finding(AREA, 'user.shell', title, {status: 'pass', seen: `${shown}: works for tunnels; /usr/sbin/nologin would deny a shell even if the key line lost its restrict${listed}`})]
})

export const userLocked: Check = existingUser('user.locked', 'account is not locked for key logins', (ctx, title) => {
  const u = ctx.facts.user
  if (u.password === undefined) return [finding(AREA, 'user.locked', title, {status: 'skip', seen: 'the password field (shadow) could not be read'})]
  if (u.password !== 'locked') {
    const what = {star: '"*": no password can match, and the account is not locked', empty: 'empty (see user.password)', hash: 'a password hash, not locked'}[u.password]
    return [finding(AREA, 'user.locked', title, {status: 'pass', seen: `password field ${what}`})]
  }
  const pam = usePam(ctx.facts)
  const fix = {command: `usermod -p '*' ${q(u.name)}`, script: `usermod -p '*' ${q(u.name)}`}
  if (pam === true) {
    return [finding(AREA, 'user.locked', title, {
      status: 'pass',
      seen: 'password field starts with "!" (locked), but UsePAM yes: PAM lets key logins in; were UsePAM switched off, sshd would refuse the account (bastion sets "*" instead)',
    })]
  }
  return [finding(AREA, 'user.locked', title, {
    status: pam === false ? 'fail' : 'warn',
    seen: `password field starts with "!" (locked; useradd leaves it so)${pam === false ? ' and UsePAM no' : ' and UsePAM could not be read'}`,
    why: `with UsePAM no sshd refuses locked accounts even with a valid key: "Permission denied (publickey)", and sshd logs "User ${u.name} not allowed because account is locked". "*" keeps password logins impossible without locking the account`,
    fix,
  })]
})

export const userPassword: Check = existingUser('user.password', 'account has no empty password', (ctx, title) => {
  const u = ctx.facts.user
  if (u.password === undefined) return [finding(AREA, 'user.password', title, {status: 'skip', seen: 'the password field (shadow) could not be read'})]
  if (u.password !== 'empty') return [finding(AREA, 'user.password', title, {status: 'pass', seen: u.password === 'hash' ? 'the account has a password hash (key logins do not use it)' : 'no usable password: key logins only'})]
  const eff = judgedSpecs(ctx.facts)[0]?.eff
  const pe = eff ? settingLine(eff, 'permitemptypasswords') : undefined
  return [finding(AREA, 'user.password', title, {
    status: 'warn',
    seen: `the password field is empty (a passwordless account)${pe ? `; PermitEmptyPasswords ${pe}` : ''}`,
    why: 'anyone who reaches a login that accepts passwords (su, a console, sshd with PasswordAuthentication and PermitEmptyPasswords yes) gets in without one; "*" makes password logins impossible and keeps key logins working',
    fix: {command: `usermod -p '*' ${q(u.name)}`},
  })]
})

export const userExpired: Check = existingUser('user.expired', 'account has not expired', (ctx, title) => {
  const u = ctx.facts.user
  const exp = u.expireDay
  if (exp === undefined || exp < 0) return [finding(AREA, 'user.expired', title, {status: 'pass', seen: 'the account never expires'})]
  const today = dayNumber(ctx.now)
  const pam = usePam(ctx.facts)
  // pam_unix: expired from the expiry day on; sshd without PAM (auth_shadow_acctexpired): from the day after.
  const expired = pam === false ? today > exp : today >= exp
  const fix = {command: `chage -E -1 ${q(u.name)}`, script: `chage -E -1 ${q(u.name)}`}
  if (expired) {
    return [finding(AREA, 'user.expired', title, {
      status: 'fail',
      seen: `the account expired on ${dayToIso(exp)} (shadow expire day ${exp}; today is ${dayToIso(today)})`,
      why: `an expired account cannot log in, even with a valid key: the vendor gets "Permission denied (publickey)" or "Connection closed", sshd logs "Account ${u.name} has expired" (or PAM's "account expired"). The fix removes the expiry; to keep one, run chage -E YYYY-MM-DD instead`,
      fix,
    })]
  }
  if (exp - today <= 14) {
    return [finding(AREA, 'user.expired', title, {
      status: 'warn',
      seen: `the account expires on ${dayToIso(exp)}, in ${exp - today} day(s)`,
      why: 'the vendor\'s tunnel stops then; extend it (chage -E YYYY-MM-DD) or remove the expiry if that is not intended',
      fix: {command: `chage -E -1 ${q(u.name)}`},
    })]
  }
  return [finding(AREA, 'user.expired', title, {status: 'pass', seen: `the account expires on ${dayToIso(exp)}`})]
})

export const userPasswordExpired: Check = existingUser('user.password_expired', 'no password change is forced (PAM)', (ctx, title) => {
  const u = ctx.facts.user
  const pam = usePam(ctx.facts)
  if (u.lastChange === undefined) return [finding(AREA, 'user.password_expired', title, {status: 'skip', seen: 'the password ageing fields (shadow) could not be read'})]
  const today = dayNumber(ctx.now)
  let problem: {seen: string; fix: string} | undefined
  if (u.lastChange === 0) {
    problem = {seen: 'the last password change is 0: a password change is forced at the next login', fix: `chage -d ${q(dayToIso(today))} ${q(u.name)}`}
  } else if (u.maxDays !== undefined && u.maxDays >= 0 && today - u.lastChange > u.maxDays) {
    problem = {
      seen: `the password expired on ${dayToIso(u.lastChange + u.maxDays)} (last change ${dayToIso(u.lastChange)}, maximum age ${u.maxDays} days)`,
      fix: `chage -M -1 ${q(u.name)}`,
    }
  }
  if (!problem) {
    const max = u.maxDays === undefined || u.maxDays < 0 || u.maxDays >= 99999 ? 'no maximum age' : `maximum age ${u.maxDays} days`
    return [finding(AREA, 'user.password_expired', title, {status: 'pass', seen: `last change ${dayToIso(u.lastChange)}, ${max}`})]
  }
  if (pam === false) {
    return [finding(AREA, 'user.password_expired', title, {status: 'pass', seen: `${problem.seen}; with UsePAM no, sshd ignores password ageing for key logins`})]
  }
  const v: Verdict = {
    status: 'fail',
    seen: `${problem.seen}${pam === undefined ? ' (UsePAM could not be read; Debian and Ubuntu use yes)' : ''}`,
    why: 'with UsePAM yes, PAM (pam_unix) answers "new password required": sshd then switches off port forwarding for the session and wants the password changed on a terminal, which a tunnel has not: the vendor sees "administratively prohibited: open failed" or "You are required to change your password immediately". The fix ends the forced change',
    fix: {command: problem.fix},
  }
  return [finding(AREA, 'user.password_expired', title, v)]
})

/** user checks in report order. */
export const userChecks: Check[] = [userExists, userGroup, userHome, userShell, userLocked, userPassword, userExpired, userPasswordExpired]
