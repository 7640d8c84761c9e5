/**
 * JSON pointers (RFC 6901) as the agreement uses them: allow-lists of payload parts. A segment `*`
 * matches any key of an object or any index of an array; the empty pointer is the whole document.
 */

/** Splits a pointer into unescaped segments (`''` gives `[]`). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of a JSON value: payloads are parsed JSON, so no structured-clone machinery is needed. */
function cloneJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneJson((value as Record<string, unknown>)[key]);
  return out;
}

function copyAt(
  source: unknown,
  segments: readonly string[],
  target: Record<string, unknown> | unknown[],
  key: string | number,
): void {
  // Reaching the end of the pointer copies the whole subtree: allow-listing `/holder` grants all of it.
  if (segments.length === 0) {
    (target as Record<string | number, unknown>)[key] = cloneJson(source);
    return;
  }
  const [head, ...rest] = segments as [string, ...string[]];
  const existing = (target as Record<string | number, unknown>)[key];
  if (Array.isArray(source)) {
    const out = Array.isArray(existing) ? existing : [];
    (target as Record<string | number, unknown>)[key] = out;
    const indexes =
      head === '*' ? source.map((_, i) => i) : /^(0|[1-9]\d*)$/.test(head) ? [Number(head)] : [];
    for (const i of indexes) if (i < source.length) copyAt(source[i], rest, out, i);
    return;
  }
  if (isRecord(source)) {
    const out = isRecord(existing) ? existing : {};
    (target as Record<string | number, unknown>)[key] = out;
    const keys = head === '*' ? Object.keys(source) : Object.hasOwn(source, head) ? [head] : [];
    for (const k of keys) copyAt(source[k], rest, out, k);
    if (Object.keys(out).length === 0 && !isRecord(existing))
      delete (target as Record<string | number, unknown>)[key];
    return;
  }
  // A pointer that goes deeper than the data selects nothing.
}

/**
 * A copy of `document` holding only the parts named by `pointers`; parts the pointers name but the
 * document lacks are simply absent.
 *
 * @example
 * ```ts
 * pick({ a: 1, b: { c: 2, d: 3 } }, ['/b/c']); // { b: { c: 2 } }
 * ```
 */
export function pick(document: unknown, pointers: readonly string[]): unknown {
  return compileProjection(pointers)(document);
}

/**
 * A projection function for a fixed allow-list, with the pointers parsed once: what `Contracts.project`
 * keeps per (type, recipient kind).
 */
export function compileProjection(pointers: readonly string[]): (document: unknown) => unknown {
  if (pointers.includes('')) return cloneJson;
  const parsed = pointers.map(parsePointer);
  return (document) => {
    const holder: Record<string, unknown> = {};
    for (const segments of parsed) copyAt(document, segments, holder, 'root');
    return holder.root ?? (Array.isArray(document) ? [] : {});
  };
}

/** The value at a pointer without wildcards, or `undefined`. */
export function valueAt(document: unknown, pointer: string): unknown {
  let current: unknown = document;
  for (const segment of parsePointer(pointer)) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isRecord(current)) current = Object.hasOwn(current, segment) ? current[segment] : undefined;
    else return undefined;
  }
  return current;
}

/** Whether pointer `inner` names `outer` itself or a part of it (wildcards match any segment). */
export function pointerCovers(outer: string, inner: string): boolean {
  const o = parsePointer(outer);
  const i = parsePointer(inner);
  if (o.length > i.length) return false;
  return o.every((segment, n) => segment === '*' || i[n] === '*' || segment === i[n]);
}

/** Whether two pointers overlap: one names a part of the other. */
export function pointersOverlap(a: string, b: string): boolean {
  return pointerCovers(a, b) || pointerCovers(b, a);
}
