import { EnvelopeError } from './envelope-error.js';

const MAX_DEPTH = 64;
// a JSON string literal: no raw control character, escapes per RFC 8259
// eslint-disable-next-line no-control-regex -- the control characters are what JSON forbids in strings
const STRING = /"[^"\\\u0000-\u001f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\u0000-\u001f]*)*"/y;
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
  // Fast path: text exactly as JSON.stringify writes it holds no duplicate key (writing the parsed value
  // again would drop one and differ). Senders write envelopes that way; anything else takes the full parser.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return parseStrictly(text, what);
  }
  if (withinDepth(parsed, MAX_DEPTH) && JSON.stringify(parsed) === text) return parsed;
  return parseStrictly(text, what);
}

/** Whether no value in `value` is nested more than `depth` levels below it (the full parser's rule). */
function withinDepth(value: unknown, depth: number): boolean {
  if (depth < 0) return false;
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!withinDepth(item, depth - 1)) return false;
    return true;
  }
  for (const key in value) if (!withinDepth((value as Record<string, unknown>)[key], depth - 1)) return false;
  return true;
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
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
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
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
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
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return result;
}

/** JSON with object keys sorted at every level: equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

/** Whether `v` is a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
