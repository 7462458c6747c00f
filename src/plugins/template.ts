import type { Pdk } from './pdk/types.ts';

/**
 * Kong's `$(...)` templates (request-transformer values, and the pub/sub channel ids), compiled
 * once at config load into a list of literal parts and getters; rendering is a concatenation.
 *
 * Kong evaluates `$(...)` as sandboxed Lua. Sluice accepts the part of it people write in
 * practice: a variable reference, optionally followed by `or "default"`:
 *
 * | reference                                   | value                                   |
 * |---------------------------------------------|-----------------------------------------|
 * | `headers.x-name`, `headers["x-name"]`       | first value of a request header (`x_name` also finds `x-name`, as nginx does) |
 * | `query_params.name`, `query_params["a b"]`  | first value of a query argument         |
 * | `uri_captures.name`, `uri_captures[1]`      | named / positional capture of a regex route path (`[0]` is the whole match) |
 * | `consumer.id`, `.username`, `.custom_id`    | the authenticated consumer              |
 * | `jwt.claims.<claim>[.<key>...]`             | `kong.ctx.shared.jwt_claims` (set by the jwt plugin) |
 * | `shared.<key>[.<key>...]`                   | `kong.ctx.shared`                       |
 *
 * A missing value renders as `""` (Kong renders `nil` as empty), or as the `or "..."` default.
 * Numbers and booleans render with `String()`, objects and arrays as JSON. `\$(` is a literal
 * `$(`. Unknown namespaces, unknown consumer fields and malformed expressions throw
 * {@link TemplateError} from {@link compileTemplate}, so a bad template is a config error at
 * load time, never a surprise at request time.
 */

/** The parts of the PDK a template reads; a `Pdk` fits, and so does a small adapter. */
export interface TemplateContext {
  readonly request: Pick<Pdk['request'], 'getHeader' | 'getQueryArg' | 'getUriCaptures'>;
  readonly client: Pick<Pdk['client'], 'getConsumer'>;
  readonly ctx: { readonly shared: Record<string, unknown> };
}

export type TemplateNamespace = 'headers' | 'query_params' | 'uri_captures' | 'consumer' | 'jwt' | 'shared';

/** One `$(...)` reference of a template, e.g. `{namespace: 'headers', path: ['x-user']}`. */
export interface TemplateVariable {
  readonly namespace: TemplateNamespace;
  /** Keys after the namespace (`jwt.claims.sub` → `['claims', 'sub']`); numbers for `[1]`. */
  readonly path: readonly (string | number)[];
  /** The expression as written between `$(` and `)`, trimmed. */
  readonly expression: string;
}

export interface Template {
  /** The template text as configured. */
  readonly source: string;
  /** True when the text has no `$(...)`: `render` always returns the same string. */
  readonly isStatic: boolean;
  /** The references, in order of appearance. */
  readonly variables: readonly TemplateVariable[];
  render(kong: TemplateContext): string;
}

/** A template that cannot be compiled; `message` says what and where. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

type Getter = (kong: TemplateContext) => unknown;
type Part = string | { readonly get: Getter; readonly fallback: string };

const CONSUMER_FIELDS = new Set(['id', 'username', 'custom_id']);

/** Compiles `text`; throws {@link TemplateError} when it is malformed. */
export function compileTemplate(text: string): Template {
  const parts: Part[] = [];
  const variables: TemplateVariable[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('\\$(', i)) {
      literal += '$(';
      i += 3;
    } else if (text.startsWith('$(', i)) {
      const parsed = new ExpressionParser(text, i + 2).parse();
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ get: getterFor(parsed.variable, text), fallback: parsed.fallback });
      variables.push(parsed.variable);
      i = parsed.end;
    } else {
      literal += text[i];
      i += 1;
    }
  }
  if (literal) parts.push(literal);
  return makeTemplate(text, parts, variables);
}

function makeTemplate(source: string, parts: readonly Part[], variables: readonly TemplateVariable[]): Template {
  if (variables.length === 0) {
    const constant = parts.join('');
    return { source, isStatic: true, variables, render: () => constant };
  }
  return {
    source,
    isStatic: false,
    variables,
    render(kong) {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : (stringify(part.get(kong)) ?? part.fallback);
      return out;
    },
  };
}

/** Kong-like rendering: nil → missing, scalars as text, tables as JSON. */
function stringify(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function getterFor(v: TemplateVariable, text: string): Getter {
  const [first, ...rest] = v.path;
  const fail: (why: string) => never = (why) => {
    throw new TemplateError(`invalid template ${JSON.stringify(text)}: $(${v.expression}): ${why}`);
  };
  switch (v.namespace) {
    case 'headers': {
      if (v.path.length !== 1) fail('expected headers.<name> or headers["<name>"]');
      const name = String(first).toLowerCase();
      const dashed = name.replace(/_/g, '-');
      return dashed === name
        ? (kong) => kong.request.getHeader(name)
        : (kong) => kong.request.getHeader(name) ?? kong.request.getHeader(dashed);
    }
    case 'query_params': {
      if (v.path.length !== 1) fail('expected query_params.<name> or query_params["<name>"]');
      const name = String(first);
      return (kong) => kong.request.getQueryArg(name);
    }
    case 'uri_captures': {
      if (v.path.length !== 1) fail('expected uri_captures.<name> or uri_captures[<n>]');
      if (typeof first === 'number') return (kong) => kong.request.getUriCaptures().unnamed[first];
      const name = String(first);
      return (kong) => kong.request.getUriCaptures().named[name];
    }
    case 'consumer': {
      if (v.path.length !== 1 || !CONSUMER_FIELDS.has(String(first))) fail('expected consumer.id, consumer.username or consumer.custom_id');
      const field = String(first) as 'id' | 'username' | 'custom_id';
      return (kong) => kong.client.getConsumer()?.[field];
    }
    case 'jwt': {
      if (first !== 'claims' || rest.length === 0) fail('expected jwt.claims.<claim>');
      return (kong) => dig(kong.ctx.shared['jwt_claims'], rest);
    }
    case 'shared': {
      if (v.path.length === 0) fail('expected shared.<key>');
      return (kong) => dig(kong.ctx.shared, v.path);
    }
  }
}

function dig(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(key)] : (current as Record<string, unknown>)[String(key)];
  }
  return current;
}

const NAMESPACES = new Set<string>(['headers', 'query_params', 'uri_captures', 'consumer', 'jwt', 'shared']);

/**
 * Parses `ref ("or" "string")? ")"` starting right after `$(`. Keys after `.` may contain `-`
 * (header names) since Sluice never evaluates arithmetic.
 */
class ExpressionParser {
  #pos: number;
  readonly #start: number;

  constructor(
    readonly text: string,
    start: number,
  ) {
    this.#pos = start;
    this.#start = start;
  }

  parse(): { variable: TemplateVariable; fallback: string; end: number } {
    this.#skipSpace();
    const namespace = this.#name();
    if (!namespace) this.#fail(this.#pos >= this.text.length || this.text[this.#pos] === ')' ? 'empty expression' : 'expected a variable name');
    if (!NAMESPACES.has(namespace)) {
      this.#fail(`unknown variable '${namespace}' (expected one of ${[...NAMESPACES].join(', ')})`);
    }
    const path: (string | number)[] = [];
    for (;;) {
      const c = this.text[this.#pos];
      if (c === '.') {
        this.#pos += 1;
        const key = this.#name();
        if (!key) this.#fail("expected a name after '.'");
        path.push(/^\d+$/.test(key) && namespace === 'uri_captures' ? Number(key) : key);
      } else if (c === '[') {
        this.#pos += 1;
        this.#skipSpace();
        path.push(this.#bracketKey());
        this.#skipSpace();
        if (this.text[this.#pos] !== ']') this.#fail("expected ']'");
        this.#pos += 1;
      } else break;
    }
    this.#skipSpace();
    let fallback = '';
    if (this.text.startsWith('or', this.#pos) && /[\s"']/.test(this.text[this.#pos + 2] ?? '')) {
      this.#pos += 2;
      this.#skipSpace();
      const quote = this.text[this.#pos];
      if (quote !== '"' && quote !== "'") this.#fail("expected a quoted string after 'or'");
      fallback = this.#string();
      this.#skipSpace();
    }
    if (this.#pos >= this.text.length) this.#fail("missing ')'");
    if (this.text[this.#pos] !== ')') this.#fail(`unexpected '${this.text[this.#pos]}'`);
    const expression = this.text.slice(this.#start, this.#pos).trim();
    return { variable: { namespace: namespace as TemplateNamespace, path, expression }, fallback, end: this.#pos + 1 };
  }

  #name(): string {
    const match = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.#pos));
    if (!match) return '';
    this.#pos += match[0].length;
    return match[0];
  }

  #bracketKey(): string | number {
    const c = this.text[this.#pos];
    if (c === '"' || c === "'") return this.#string();
    const match = /^\d+/.exec(this.text.slice(this.#pos));
    if (!match) this.#fail('expected a quoted name or a number inside [ ]');
    this.#pos += match[0].length;
    return Number(match[0]);
  }

  /** A Lua-style quoted string with `\\`, `\"`, `\'` escapes. */
  #string(): string {
    const quote = this.text[this.#pos];
    this.#pos += 1;
    let out = '';
    while (this.#pos < this.text.length) {
      const c = this.text[this.#pos] ?? '';
      if (c === quote) {
        this.#pos += 1;
        return out;
      }
      if (c === '\\' && this.#pos + 1 < this.text.length) {
        out += this.text[this.#pos + 1];
        this.#pos += 2;
        continue;
      }
      out += c;
      this.#pos += 1;
    }
    return this.#fail('unterminated string');
  }

  #skipSpace(): void {
    while (this.#pos < this.text.length && /\s/.test(this.text[this.#pos] ?? '')) this.#pos += 1;
  }

  #fail(why: string): never {
    throw new TemplateError(`invalid template ${JSON.stringify(this.text)} at column ${this.#pos + 1}: ${why}`);
  }
}
