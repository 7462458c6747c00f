import { translatePcre } from '../../../config/route-regex.ts';
import type { Pdk } from '../../pdk/types.ts';
import { BOT_RULES } from './rules.ts';
import type { Config } from './schema.ts';

export const PRIORITY = 2500;
export const VERSION = '1.0.0';
/** Re-run on open streams after a reload: a pure decision on the request (see PluginHandler.recheck). */
export const recheck = true;

/** Kong keeps the verdict of the last 10^4 User-Agents per config. */
const CACHE_SIZE = 10_000;

export interface Compiled {
  /** User-Agent → refused? Most clients send the same few, so the regexes run once per agent. */
  readonly verdicts: Map<string, boolean>;
  readonly allow: readonly RegExp[];
  readonly deny: readonly RegExp[];
}

export function compile(config: Config): Compiled {
  const toRegex = (pattern: string) => {
    try {
      const { source, flags } = translatePcre(pattern);
      return new RegExp(source, flags);
    } catch {
      throw new Error(`'${pattern}' is not a valid regex`);
    }
  };
  return { verdicts: new Map(), allow: config.allow.map(toRegex), deny: config.deny.map(toRegex) };
}

/** Kong's order: `allow` lets an agent through whatever else it matches; then `deny`; then the bot list. */
function refused(agent: string, conf: Compiled): boolean {
  if (conf.allow.some((re) => re.test(agent))) return false;
  if (conf.deny.some((re) => re.test(agent))) return true;
  return BOT_RULES.some((re) => re.test(agent));
}

export function access(kong: Pdk, conf: Compiled): void {
  const header = kong.request.getHeaders()['user-agent'];
  if (header === undefined) return;
  if (Array.isArray(header)) {
    kong.response.error(400, 'Only one User-Agent header allowed');
    return;
  }
  const agent = (header as string).trim();
  let verdict = conf.verdicts.get(agent);
  if (verdict === undefined) {
    verdict = refused(agent, conf);
    if (conf.verdicts.size >= CACHE_SIZE) conf.verdicts.delete(conf.verdicts.keys().next().value!);
    conf.verdicts.set(agent, verdict);
  }
  if (verdict) kong.response.error(403, 'Forbidden');
}
