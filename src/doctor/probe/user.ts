/** The vendor account's facts from the probe: passwd entry, groups, shell, the class of its password, ageing, home. */
import type {HostFacts} from '../types.js'
import {statFact, type StatIndex} from './files.js'
import type {AreaRecords} from './records.js'

const PASSWORD_CLASSES = new Set(['locked', 'star', 'empty', 'hash'])

/** The vendor's account; `stats` gives the home's stat. */
export function readUser(records: AreaRecords<'user'>, stats: StatIndex): HostFacts['user'] {
  const entry = records.first('user')
  const absent = records.first('user_absent')
  const user: HostFacts['user'] = {name: entry?.name ?? absent?.name ?? '', exists: entry !== undefined, groups: []}
  if (!entry) return user

  user.uid = entry.uid
  user.gid = entry.gid
  if (entry.group !== '-') user.group = entry.group
  const home = records.first('user_home')?.path
  if (home !== undefined) user.home = home
  const shell = records.first('user_shell')?.path
  if (shell !== undefined) user.shell = shell
  user.groups = (records.first('user_groups')?.groups ?? []).filter(Boolean)
  const shellInfo = records.first('user_shellinfo')
  if (shellInfo) {
    user.shellListed = shellInfo.listed
    user.shellExecutable = shellInfo.executable
  }
  const shadow = records.first('shadow')
  if (shadow && shadow.class !== '-') {
    if (PASSWORD_CLASSES.has(shadow.class)) user.password = shadow.class as NonNullable<HostFacts['user']['password']>
    const ageing = ['lastChange', 'minDays', 'maxDays', 'warnDays', 'inactiveDays', 'expireDay'] as const
    for (const k of ageing) {
      const n = shadow[k]
      if (n !== undefined) user[k] = n
    }
  } else if (shadow) {
    user.shadowReadable = false
  }
  if (user.home !== undefined) user.homeStat = statFact(user.home, stats)
  const homeReal = records.first('user_home_real')?.path
  if (homeReal) user.homeReal = homeReal
  const shared = records.first('home_shared')
  if (shared) {
    user.homeShared = shared.accounts.split('\n').filter((l) => l.includes(':')).map((l) => {
      const i = l.indexOf(':')
      return {name: l.slice(0, i), home: l.slice(i + 1)}
    })
  }
  return user
}
