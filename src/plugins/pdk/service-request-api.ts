import type { RequestContext, UpstreamEdits } from '../../gateway/context.ts';
import { applyHeaderEdits, firstHeader } from '../../gateway/header-edits.ts';
import { checkPhase, REQUEST_PHASES } from './phase-guard.ts';
import type { PdkScope } from './request-api.ts';
import type { HeaderValue, PdkServiceRequest } from './types.ts';

/** `kong.service.request`: changes to what goes upstream, recorded and applied once. */
export class ServiceRequestApi implements PdkServiceRequest {
  constructor(private readonly scope: PdkScope) {}

  private get ctx(): RequestContext {
    return this.scope.context;
  }

  /** The header as it will go upstream: the client's, with the edits so far applied. */
  getHeader(name: string): string | undefined {
    const lower = name.toLowerCase();
    const client = this.ctx.req.headers[lower];
    const edits = (this.ctx.upstreamEdits?.headers ?? []).filter((e) => e.name === lower);
    return firstHeader(applyHeaderEdits(client === undefined ? {} : { [lower]: client }, edits), lower);
  }
  setHeader(name: string, value: HeaderValue): void {
    this.edits('setHeader').headers.push({ op: 'set', name: name.toLowerCase(), value });
  }
  addHeader(name: string, value: string): void {
    this.edits('addHeader').headers.push({ op: 'add', name: name.toLowerCase(), value });
  }
  clearHeader(name: string): void {
    this.edits('clearHeader').headers.push({ op: 'clear', name: name.toLowerCase() });
  }
  setMethod(method: string): void {
    this.edits('setMethod').method = method.toUpperCase();
  }
  setPath(path: string): void {
    const edits = this.edits('setPath');
    if (!path.startsWith('/')) throw new TypeError('kong.service.request.setPath: the path must start with "/"');
    edits.path = path;
  }
  setRawQuery(query: string): void {
    this.edits('setRawQuery').rawQuery = query;
  }
  setQuery(query: Readonly<Record<string, string | readonly string[]>>): void {
    this.edits('setQuery').rawQuery = encodeQuery(query);
  }
  setRawBody(body: Buffer | string): void {
    this.edits('setRawBody').body = typeof body === 'string' ? Buffer.from(body) : body;
  }
  setBody(body: unknown, contentType?: string): void {
    const edits = this.edits('setBody');
    const type = contentType ?? firstHeader(this.ctx.req.headers, 'content-type') ?? 'application/json';
    const form = type.startsWith('application/x-www-form-urlencoded');
    edits.body = Buffer.from(form ? encodeQuery(body as Record<string, string>) : JSON.stringify(body));
    edits.headers.push({ op: 'set', name: 'content-type', value: type });
  }

  private edits(what: string): UpstreamEdits {
    checkPhase(this.scope.phase, REQUEST_PHASES, `kong.service.request.${what}`);
    return (this.ctx.upstreamEdits ??= { headers: [] });
  }
}

function encodeQuery(args: Readonly<Record<string, string | readonly string[]>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(args)) {
    for (const one of typeof value === 'string' ? [value] : value) params.append(name, one);
  }
  return params.toString();
}
