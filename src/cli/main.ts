import { Command, Option } from 'commander';
import { SETTINGS, SettingsError, resolveSettings, type SettingName } from '../config/settings.ts';
import { VERSION } from '../version.ts';
import { addOperatorCommands } from './operator-commands.ts';
import { runVersion } from './version.ts';

// The gateway, the config loader and the plugins load only for the commands that use them, so
// `sluice status`, `publish` and `channels` start fast.
const startCommand = () => import('./start.ts');
const pluginLoader = () => import('../plugins/load-plugins.ts');

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

/** commander turns `--proxy-listen` into `proxyListen`; map it back to the setting name. */
function flagKey(flag: string): string {
  const long = flag.split(/,\s*/).pop() ?? flag;
  return long.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('sluice')
    .description('API gateway with Kong\'s model and nchan-compatible realtime pub/sub')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();

  const start = program
    .command('start')
    .description('start the gateway: proxy, admin and internal listeners')
    .option('-s, --settings <file>', 'node settings file, kong.conf style `key = value` (SLUICE_CONF)');
  for (const spec of SETTINGS) {
    const value = spec.switch ? '[on|off]' : '<value>';
    start.addOption(new Option(`${spec.flag} ${value}`, `${spec.description} (${spec.env}, default ${spec.default || 'unset'})`));
  }
  start.action(async (options: Record<string, string | true | undefined>) => {
    const flags: Partial<Record<SettingName, string>> = {};
    for (const spec of SETTINGS) {
      const value = options[flagKey(spec.flag)];
      // A bare switch (`--watch`) means on.
      if (value !== undefined) flags[spec.name] = value === true ? 'on' : value;
    }
    let settings;
    try {
      const file = typeof options.settings === 'string' ? options.settings : process.env.SLUICE_CONF;
      settings = resolveSettings({ ...(file ? { file } : {}), env: process.env, flags });
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      err(`sluice: ${error.message}`);
      return setExitCode(1);
    }
    const { runStart } = await startCommand();
    setExitCode(await runStart(settings, { err }));
  });

  const config = program.command('config').description('work with declarative config files');
  config
    .command('check')
    .description('validate a kong.yml fully without starting; exit 1 and every error with file:line:column')
    .argument('<kong.yml>', 'declarative config file')
    .option('--plugins <list>', 'plugins to validate against (SLUICE_PLUGINS, default bundled)')
    .option('--plugins-path <dir>', 'folder of custom plugins (SLUICE_PLUGINS_PATH)')
    .action(async (file: string, options: { plugins?: string; pluginsPath?: string }) => {
      const [{ loadPlugins, PluginLoadError }, { runConfigCheck }] = await Promise.all([pluginLoader(), import('./config-check.ts')]);
      try {
        const flags = { ...(options.plugins ? { plugins: options.plugins } : {}), ...(options.pluginsPath ? { plugins_path: options.pluginsPath } : {}) };
        const settings = resolveSettings({ env: process.env, flags });
        const registry = await loadPlugins(settings.plugins, settings.plugins_path);
        setExitCode(await runConfigCheck(file, { out, err }, registry));
      } catch (error) {
        if (!(error instanceof SettingsError || error instanceof PluginLoadError)) throw error;
        err(`sluice: ${error.message}`);
        setExitCode(1);
      }
    });

  addOperatorCommands(program, config, { out, err }, setExitCode);

  program
    .command('version')
    .description('print the version')
    .action(() => setExitCode(runVersion(out)));
  return program;
}

/** Runs the CLI with `argv` (as `process.argv`) and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    // commander throws on --help/--version (exit 0) and on usage errors (already printed).
    const code = (error as { exitCode?: number }).exitCode;
    if (typeof code === 'number') return code;
    throw error;
  }
  return exitCode;
}
