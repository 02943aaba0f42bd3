// The part of js-yaml 4 (https://github.com/nodeca/js-yaml) src/config/load.ts uses; the package ships no types.
declare module 'js-yaml' {
  export interface Schema {
    readonly __schema: unique symbol
  }
  export const CORE_SCHEMA: Schema
  export interface LoadOptions {
    filename?: string
    schema?: Schema
    json?: boolean
  }
  export function load(text: string, options?: LoadOptions): unknown
}
