/**
 * `npm run schemas`: write docs/schemas/<name>.schema.json from src/schema/ and the commands' schemaVersion statics
 * (the compiled commands of this build), and remove schema files no command has any more; and write bastion.yml's
 * precompiled check, src/config/schema-check.generated.ts (scripts/schema-check.ts; rebuild after). test/schema/schemas.test.ts
 * and test/config/schema-check.test.ts fail when the committed files differ from what this writes.
 */
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Config} from '@oclif/core'
import {packageRoot} from '../src/paths.js'
import {publishedSchemas, schemaText} from '../src/schema/published.js'
import {SCHEMA_CHECK_FILE, schemaCheckSource} from './schema-check.js'

const config = await Config.load({root: packageRoot})
const schemas = await publishedSchemas(config)
const dir = join(packageRoot, 'docs', 'schemas')
mkdirSync(dir, {recursive: true})
const keep = new Set(schemas.map((s) => s.file.slice('docs/schemas/'.length)))
for (const f of readdirSync(dir)) if (f.endsWith('.schema.json') && !keep.has(f)) rmSync(join(dir, f))
for (const s of schemas) writeFileSync(join(packageRoot, s.file), schemaText(s.schema))
writeFileSync(join(packageRoot, SCHEMA_CHECK_FILE), schemaCheckSource())
process.stderr.write(`schemas: ${schemas.length} files in docs/schemas/, and ${SCHEMA_CHECK_FILE} (run npm run build to use it)\n`)
