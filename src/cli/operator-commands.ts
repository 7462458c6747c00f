/**
 * The operator commands that talk to a running node or compare configs: `publish`, `status`,
 * `channels` and `config diff`. Every failure is one line on stderr (`sluice: ...`) and exit 1.
 *
 * @example
 *   const program = new Command('sluice');
 *   const config = program.command('config');
 *   addOperatorCommands(program, config, { out, err }, (code) => (exitCode = code));
 */
import type { Command } from 'commander';
import { resolveSettings, SettingsError } from '../config/settings.ts';
import { CliError } from './api-client.ts';
import { runChannels, type ChannelsOptions } from './channels.ts';
import { adminEndpoint, internalEndpoint, type EndpointOptions } from './endpoints.ts';
import { runPublish, type PublishOptions } from './publish.ts';
import { runStatus } from './status.ts';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Errors that are the user's to fix: one line, exit 1. (PluginLoadError by name: its module loads lazily.) */
const isUserError = (error: unknown): error is Error =>
  error instanceof CliError || error instanceof SettingsError || (error instanceof Error && error.name === 'PluginLoadError');

/** Runs a command body: CliError, SettingsError and PluginLoadError become `sluice: <message>` and exit 1. */
async function guarded(io: CliIo, setExitCode: (code: number) => void, body: () => Promise<number>): Promise<void> {
  try {
    setExitCode(await body());
  } catch (error) {
    if (!isUserError(error)) throw error;
    io.err(`sluice: ${error.message}`);
    setExitCode(1);
  }
}

const SETTINGS_FLAG = ['-s, --settings <file>', 'node settings file to find the listeners in (SLUICE_CONF)'] as const;
const ADMIN_FLAG = ['--admin-url <url>', 'admin API base URL (SLUICE_ADMIN_URL, default from admin_listen)'] as const;

export function addOperatorCommands(program: Command, config: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('publish')
    .description('publish one message to a channel through the internal listener (/pub/<channel>)')
    .argument('<channel>', 'channel id')
    .option('-d, --data <text>', 'the message (default: read stdin)')
    .option('-e, --event <name>', 'EventSource event name (X-EventSource-Event)')
    .option('-t, --content-type <type>', 'the message\'s Content-Type')
    .option('--internal-url <url>', 'internal listener base URL (SLUICE_INTERNAL_URL, default from internal_listen)')
    .option(...SETTINGS_FLAG)
    .option('--json', 'print the channel info as JSON')
    .action((channel: string, options: PublishOptions & EndpointOptions) =>
      guarded(io, setExitCode, () => runPublish(internalEndpoint(options), channel, options, io.out)),
    );

  program
    .command('status')
    .description('show the node\'s status from the admin API')
    .option(...ADMIN_FLAG)
    .option(...SETTINGS_FLAG)
    .option('--json', 'print the /status answer as JSON')
    .action((options: EndpointOptions & { json?: boolean }) => guarded(io, setExitCode, () => runStatus(adminEndpoint(options), options, io.out)));

  program
    .command('channels')
    .description('list channels (all pages) from the admin API; meta/ channels only when the prefix asks')
    .argument('[prefix]', 'only channels whose id starts with this', '')
    .option(...ADMIN_FLAG)
    .option(...SETTINGS_FLAG)
    .option('--json', 'print a JSON array instead of a table')
    .option('--page-size <n>', 'channels per admin API request, 1..1000', '1000')
    .action((prefix: string, options: EndpointOptions & ChannelsOptions) =>
      guarded(io, setExitCode, () => runChannels(adminEndpoint(options), prefix, options, io.out)),
    );

  config
    .command('diff')
    .description('load two declarative files and print the entities added, removed and changed')
    .argument('<old.yml>', 'the config before')
    .argument('<new.yml>', 'the config after')
    .option('--plugins <list>', 'plugins to validate against (SLUICE_PLUGINS, default bundled)')
    .option('--plugins-path <dir>', 'folder of custom plugins (SLUICE_PLUGINS_PATH)')
    .action((before: string, after: string, options: { plugins?: string; pluginsPath?: string }) =>
      guarded(io, setExitCode, async () => {
        const flags = { ...(options.plugins ? { plugins: options.plugins } : {}), ...(options.pluginsPath ? { plugins_path: options.pluginsPath } : {}) };
        const settings = resolveSettings({ env: process.env, flags });
        // Loaded here, not at start-up: the other commands never need the loader or the plugins.
        const [{ loadPlugins }, { runConfigDiff }] = await Promise.all([import('../plugins/load-plugins.ts'), import('./config-diff.ts')]);
        const registry = await loadPlugins(settings.plugins, settings.plugins_path);
        return runConfigDiff([before, after], io, registry);
      }),
    );
}
