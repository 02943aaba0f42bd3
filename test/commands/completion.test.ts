/** Shell completion, as users install it (`bastion autocomplete zsh`): flag values with a fixed set complete too. */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {isolatedHome, runCli} from '../helpers/cli.js'

describe('shell completion', () => {
  it('zsh completes the values of flags with a fixed set (doctor --format <TAB>: human json junit github)', async () => {
    const home = isolatedHome()
    const r = await runCli(['autocomplete', 'zsh', '--refresh-cache'], {home, env: {XDG_CACHE_HOME: join(home, '.cache')}})
    assert.equal(r.code, 0, r.stderr)
    const zsh = readFileSync(join(home, '.cache', 'bastion', 'autocomplete', 'functions', 'zsh', '_bastion'), 'utf8')
    assert.match(zsh, /format options:\(human json junit github\)/)
    assert.match(zsh, /add-vendor-key/)
  })
})
