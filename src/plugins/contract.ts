import type { TSchema } from '@sinclair/typebox';

/**
 * What a plugin is: a config schema plus a handler with a PRIORITY (Kong's contract).
 * The phase handlers and their context arrive with the plugin-system issue; the gateway
 * core only needs the registry to validate `plugins:` entries in a declarative config.
 */
export interface PluginDefinition {
  readonly name: string;
  readonly PRIORITY: number;
  readonly VERSION: string;
  /** TypeBox schema of `config`, with defaults. */
  readonly schema: TSchema;
  /** Kong's `no_consumer` / `no_route` / `no_service` scope restrictions. */
  readonly scopes?: { readonly consumer?: boolean; readonly route?: boolean; readonly service?: boolean };
}
