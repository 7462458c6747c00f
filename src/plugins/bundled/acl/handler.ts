import type { CompileEnv } from '../../contract.ts';
import type { Pdk } from '../../pdk/types.ts';
import { groupIndexFor, type ConsumerGroups, type GroupIndex } from './group-index.ts';
import { checkLists, type Config } from './schema.ts';

/**
 * Kong's acl: allows or denies the authenticated consumer by its groups (`acls` credentials).
 * Runs after the auth plugins (lower PRIORITY), which is what makes a consumer known.
 */
export const PRIORITY = 950;
export const VERSION = '1.0.0';
/** Re-run on open streams after a reload: a pure decision on the request (see PluginHandler.recheck). */
export const recheck = true;

const FORBIDDEN = 'You cannot consume this service';
const CONSUMER_GROUPS = 'X-Consumer-Groups';
const AUTHENTICATED_GROUPS = 'X-Authenticated-Groups';

export interface Compiled {
  /** true: `deny` list (a listed group blocks); false: `allow` list (only listed groups pass). */
  readonly deny: boolean;
  readonly groups: ReadonlySet<string>;
  readonly hideGroupsHeader: boolean;
  readonly alwaysUseAuthenticatedGroups: boolean;
  readonly consumers: GroupIndex;
  /** Per consumer id: blocked, or allowed. The groups of a snapshot never change, nor does the verdict. */
  readonly verdicts: Map<string, boolean>;
}

/** Load-time check: exactly one of allow and deny lists groups. */
export function validate(config: Config): readonly string[] {
  return checkLists(config);
}

export function compile(config: Config, env: CompileEnv): Compiled {
  const deny = (config.deny?.length ?? 0) > 0;
  return {
    deny,
    groups: new Set((deny ? config.deny : config.allow) ?? []),
    hideGroupsHeader: config.hide_groups_header,
    alwaysUseAuthenticatedGroups: config.always_use_authenticated_groups,
    consumers: groupIndexFor(env),
    verdicts: new Map(),
  };
}

/**
 * Kong's decision (`acl/handler.lua`): the groups come from the consumer's `acls`, unless an
 * auth plugin that has no consumer (or authenticated anonymously, or
 * `always_use_authenticated_groups`) supplied "authenticated groups". No identity at all is
 * 401; a credential whose consumer has no groups on an allow list is 403, anonymous 401.
 */
export function access(kong: Pdk, conf: Compiled): void {
  const consumer = kong.client.getConsumer();
  const credential = kong.client.getCredential();
  const authenticated = consumer && credential && !conf.alwaysUseAuthenticatedGroups ? undefined : authenticatedGroups(kong);
  if (authenticated) {
    if (blocked(conf, authenticated)) return forbid(kong);
    return passGroups(kong, conf, AUTHENTICATED_GROUPS, authenticated.join(', '));
  }
  if (!consumer) return refuse(kong, credential !== undefined);
  const groups = conf.consumers.get(consumer.id);
  if (!groups && !conf.deny) return refuse(kong, credential !== undefined);
  if (consumerBlocked(conf, consumer.id, groups)) return forbid(kong);
  passGroups(kong, conf, CONSUMER_GROUPS, groups?.header ?? '');
}

function consumerBlocked(conf: Compiled, consumerId: string, groups: ConsumerGroups | undefined): boolean {
  let verdict = conf.verdicts.get(consumerId);
  if (verdict === undefined) {
    verdict = blocked(conf, groups?.list ?? []);
    conf.verdicts.set(consumerId, verdict);
  }
  return verdict;
}

function blocked(conf: Compiled, groups: readonly string[]): boolean {
  const member = groups.some((g) => conf.groups.has(g));
  return conf.deny ? member : !member;
}

/**
 * Groups an auth plugin vouched for without a consumer of ours (Kong's
 * `ngx.ctx.authenticated_groups`, set by ldap-auth or oauth2): `kong.ctx.shared.authenticated_groups`.
 */
function authenticatedGroups(kong: Pdk): readonly string[] | undefined {
  const groups = kong.ctx.shared.authenticated_groups;
  if (!Array.isArray(groups)) return undefined;
  const names = groups.filter((g): g is string => typeof g === 'string');
  return names.length > 0 ? names : undefined;
}

/** No usable identity: 401 as Kong (`kong.response.error(401)`), 403 when a credential was presented. */
function refuse(kong: Pdk, hasCredential: boolean): void {
  if (hasCredential) forbid(kong);
  else kong.response.error(401, 'Unauthorized');
}

function forbid(kong: Pdk): void {
  kong.response.error(403, FORBIDDEN);
}

/**
 * Tells the upstream the groups that let the request through. A client-sent header of that
 * name is never passed on: it is replaced, or removed when hidden or empty.
 */
function passGroups(kong: Pdk, conf: Compiled, header: string, value: string): void {
  if (conf.hideGroupsHeader || value === '') kong.service.request.clearHeader(header);
  else kong.service.request.setHeader(header, value);
}
