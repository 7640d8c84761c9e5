import { EnvelopeError } from './envelope-error.js';

const MAX_DEPTH = 64;
// a JSON string literal: no raw control character, escapes per RFC 8259
// eslint-disable-next-line no-control-regex -- the control characters are what JSON forbids in strings
const STRING = /"[^"\\\u0000-\u001f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\u0000-\u001f]*)*"/y;
// a number (RFC 8259 grammar, any length, as JSON.parse reads it) or a literal
const SCALAR = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly: invalid sequences are an error rather than U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', `${what} is not valid UTF-8.`, { cause });
  }
}

/**
 * Parses JSON like `JSON.parse` but refuses duplicate object keys (which `JSON.parse` silently resolves
 * to the last one, letting two readers see two different messages) and nesting deeper than 64.
 *
 * @example
 * ```ts
 * parseStrictJson('{"a":1,"a":2}', 'envelope'); // throws ERR_ENVELOPE_MALFORMED
 * ```
 */
export function parseStrictJson(text: string, what: string): unknown {
  // Fast path: JSON.parse, then the keys the text spells against the members the parsed objects kept. A
  // duplicate key is the only way the text can spell more (JSON.parse keeps the last one); then, or when
  // JSON.parse refuses the text, the full parser runs and says where.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return parseStrictly(text, what);
  }
  const members = countMembers(parsed, MAX_DEPTH);
  if (members >= 0 && members === countKeys(text)) return parsed;
  return parseStrictly(text, what);
}

/**
 * Members of every object in `value`, nested ones included, or −1 when a value is nested more than `depth`
 * levels below it (the full parser's rule).
 */
function countMembers(value: unknown, depth: number): number {
  if (depth < 0) return -1;
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  const items = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
  if (!Array.isArray(value)) n += items.length;
  for (const item of items) {
    const inner = countMembers(item, depth - 1);
    if (inner < 0) return -1;
    n += inner;
  }
  return n;
}

/**
 * Keys spelled in text that JSON.parse accepted: strings followed, after optional whitespace, by a colon.
 * Only quotes are visited (`indexOf`); in valid JSON an unescaped quote always opens or closes a string.
 */
function countKeys(text: string): number {
  let keys = 0;
  let open = text.indexOf('"');
  while (open !== -1) {
    let close = text.indexOf('"', open + 1);
    while (close !== -1 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
    if (close === -1) return -1;
    let next = close + 1;
    while (isWhitespace(text.charCodeAt(next))) next++;
    if (text.charCodeAt(next) === 0x3a) keys++;
    open = text.indexOf('"', next);
  }
  return keys;
}

/** Whether the quote at `at` is escaped: preceded by an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let backslashes = 0;
  for (let k = at - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
  return backslashes % 2 === 1;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** The full parser: every token checked, duplicate keys and depth refused with the offset. */
function parseStrictly(text: string, what: string): unknown {
  let i = 0;
  const fail = (reason: string): never => {
    throw new EnvelopeError(
      'ERR_ENVELOPE_MALFORMED',
      `${what} is not valid JSON: ${reason} at offset ${i}.`,
      {
        details: { offset: i },
      },
    );
  };
  const ws = (): void => {
    while (isWhitespace(text.charCodeAt(i))) i++;
  };
  const str = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (!m) return fail('bad string');
    i = STRING.lastIndex;
    const literal = m[0];
    // most strings (base64url segments, ids) have no escape: skip the decode
    return literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
  };
  /** Whether the container is closed here by `close` (consumed). */
  const closes = (close: '}' | ']'): boolean => {
    ws();
    if (text[i] !== close) return false;
    i++;
    return true;
  };
  /** After a member or an element: `true` at the closing `close`, `false` after a comma, else a failure. */
  const endOf = (close: '}' | ']'): boolean => {
    if (closes(close)) return true;
    if (text[i] !== ',') fail(`expected "," or "${close}"`);
    i++;
    return false;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      if (closes('}')) return obj;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = str();
        if (seen.has(key)) fail('duplicate key');
        seen.add(key);
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        // defineProperty so that a "__proto__" key stays a plain own property
        Object.defineProperty(obj, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (endOf('}')) return obj;
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      if (closes(']')) return arr;
      for (;;) {
        arr.push(value(depth + 1));
        if (endOf(']')) return arr;
      }
    }
    if (c === '"') return str();
    SCALAR.lastIndex = i;
    const m = SCALAR.exec(text);
    if (!m) return fail('unexpected token');
    i = SCALAR.lastIndex;
    return JSON.parse(m[0]) as unknown;
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/** Whether `v` is a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
