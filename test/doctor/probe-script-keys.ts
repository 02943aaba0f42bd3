/**
 * The keys a remote script can print, read statically from its text: every `say <key> …` and every literal
 * `@bastion <key>` (printf formats, stat -c formats, awk print statements) in the script's own code and in the
 * lib.sh functions it calls, directly or through other functions. Comments and here-document bodies are not code.
 */

export interface ScriptKeys {
  /** Key → where it is printed (`<file>:<function>` or `<file>:top`). */
  keys: Map<string, string[]>
  /** Output lines whose key is not written out (say "$x" …): nothing can check them. */
  dynamic: string[]
}

export interface ShellFile {
  /** For messages, e.g. lib.sh. */
  name: string
  text: string
}

type Ctx = {kind: 'code'; parens: number} | {kind: 'sq'} | {kind: 'dq'} | {kind: 'param'}

const BREAK = /[\s;&|()<>]/

/**
 * `text` with comments and here-document bodies blanked (positions kept), and the positions of the `{` and `}` that are
 * shell words (function bodies and groups; not `${…}`, not braces inside quotes such as awk programs).
 */
export function shellCode(text: string): {code: string; braces: number[]} {
  const out = text.split('')
  const braces: number[] = []
  const stack: Ctx[] = [{kind: 'code', parens: 0}]
  const heredocs: Array<{word: string; strip: boolean}> = []
  const wordStart = (i: number) => i === 0 || BREAK.test(text[i - 1] ?? '')
  const wordEnd = (i: number) => i + 1 >= text.length || BREAK.test(text[i + 1] ?? '')
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' '
  }
  let i = 0
  while (i < text.length) {
    const c = text[i]
    const next = text[i + 1]
    const top = stack[stack.length - 1]!
    if (top.kind === 'sq') {
      if (c === "'") stack.pop()
      i++
      continue
    }
    if (c === '\\') {
      i += 2
      continue
    }
    if (c === '$' && next === '(') {
      stack.push({kind: 'code', parens: 0})
      i += 2
      continue
    }
    if (c === '$' && next === '{') {
      stack.push({kind: 'param'})
      i += 2
      continue
    }
    if (top.kind === 'dq') {
      if (c === '"') stack.pop()
      i++
      continue
    }
    if (c === "'") stack.push({kind: 'sq'})
    else if (c === '"') stack.push({kind: 'dq'})
    else if (top.kind === 'param') {
      if (c === '}') stack.pop()
    } else if (c === '(') {
      top.parens++
    } else if (c === ')') {
      if (top.parens > 0) top.parens--
      else if (stack.length > 1) stack.pop()
    } else if (c === '#' && wordStart(i)) {
      const end = text.indexOf('\n', i)
      const stop = end === -1 ? text.length : end
      blank(i, stop)
      i = stop
      continue
    } else if ((c === '{' || c === '}') && wordStart(i) && wordEnd(i)) {
      braces.push(i)
    } else if (c === '<' && next === '<') {
      const m = /^<<(-?)[ \t]*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2/.exec(text.slice(i))
      if (m) {
        heredocs.push({word: m[3]!, strip: m[1] === '-'})
        i += m[0].length
        continue
      }
    } else if (c === '\n' && heredocs.length > 0) {
      // the here-documents started on this line: their bodies follow, each up to its terminator line
      let pos = i + 1
      for (const h of heredocs.splice(0)) {
        while (pos < text.length) {
          const end = text.indexOf('\n', pos)
          const stop = end === -1 ? text.length : end
          const line = text.slice(pos, stop)
          const done = (h.strip ? line.replace(/^\t+/, '') : line) === h.word
          if (!done) blank(pos, stop)
          pos = stop + 1
          if (done) break
        }
      }
      i = pos
      continue
    }
    i++
  }
  return {code: out.join(''), braces}
}

interface Region {
  where: string
  code: string
}

/** Split a file into its function bodies and the code outside them (its top level). */
function regions(file: ShellFile): {functions: Map<string, Region>; top: Region} {
  const {code, braces} = shellCode(file.text)
  const braceSet = new Set(braces)
  const functions = new Map<string, Region>()
  const cut: Array<[number, number]> = []
  for (const m of code.matchAll(/(^|[\s;&|])([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(\)[ \t]*\{/g)) {
    const open = (m.index ?? 0) + m[0].length - 1
    if (!braceSet.has(open)) continue
    let depth = 0
    let close = -1
    for (const b of braces) {
      if (b < open) continue
      depth += code[b] === '{' ? 1 : -1
      if (depth === 0) {
        close = b
        break
      }
    }
    if (close === -1) throw new Error(`${file.name}: the body of ${m[2]}() does not end`)
    functions.set(m[2]!, {where: `${file.name}:${m[2]}`, code: code.slice(open + 1, close)})
    cut.push([(m.index ?? 0) + m[1]!.length, close + 1])
  }
  let top = ''
  let from = 0
  for (const [a, b] of cut) {
    if (a < from) continue
    top += code.slice(from, a)
    from = b
  }
  top += code.slice(from)
  return {functions, top: {where: `${file.name}:top`, code: top}}
}

/** The keys printed in one region of code, and the output lines in it whose key is not written out. */
function printedIn(region: Region, isSay: boolean): {keys: string[]; dynamic: string[]} {
  const keys: string[] = []
  const dynamic: string[] = []
  // say <key> …, say "<key> …": the key is the first word after say, perhaps inside the quotes
  for (const m of region.code.matchAll(/(?:^|[\s;&|({])say[ \t]+(\S*)/g)) {
    const key = /^"?([a-z][a-z0-9_]*)(?=[\s";)&|]|$)/.exec(m[1]!)?.[1]
    if (key) keys.push(key)
    else dynamic.push(`${region.where}: say ${m[1]}`)
  }
  if (!isSay) {
    for (const m of region.code.matchAll(/@bastion[ \t]+(\S+)/g)) {
      const key = /^[a-z][a-z0-9_]*/.exec(m[1]!)?.[0]
      if (key) keys.push(key)
      else dynamic.push(`${region.where}: @bastion ${m[1]}`)
    }
  }
  return {keys, dynamic}
}

function calls(code: string, names: Iterable<string>): string[] {
  const out: string[] = []
  for (const name of names) {
    if (new RegExp(`(^|[^A-Za-z0-9_-])${name}([^A-Za-z0-9_-]|$)`).test(code)) out.push(name)
  }
  return out
}

/**
 * The keys `script` can print when it runs after `libs` (as renderScript puts lib.sh in front): its top-level code, the
 * libraries' top-level code, and every function reached from them.
 */
export function scriptKeys(script: ShellFile, libs: ShellFile[] = []): ScriptKeys {
  const files = [...libs, script].map(regions)
  const functions = new Map<string, Region>()
  for (const f of files) for (const [name, r] of f.functions) functions.set(name, r)
  const keys = new Map<string, string[]>()
  const dynamic: string[] = []
  const seen = new Set<string>()
  const queue: Array<{region: Region; name?: string}> = files.map((f) => ({region: f.top}))
  while (queue.length > 0) {
    const {region, name} = queue.shift()!
    const found = printedIn(region, name === 'say')
    for (const k of found.keys) keys.set(k, [...new Set([...(keys.get(k) ?? []), region.where])])
    dynamic.push(...found.dynamic)
    for (const called of calls(region.code, functions.keys())) {
      if (seen.has(called)) continue
      seen.add(called)
      queue.push({region: functions.get(called)!, name: called})
    }
  }
  return {keys, dynamic}
}

/** What the script prints that `declared` lacks, and what `declared` holds that the script never prints. */
export function keyMismatch(printed: Iterable<string>, declared: Iterable<string>): {undeclared: string[]; unprinted: string[]} {
  const p = new Set(printed)
  const d = new Set(declared)
  return {undeclared: [...p].filter((k) => !d.has(k)).sort(), unprinted: [...d].filter((k) => !p.has(k)).sort()}
}
