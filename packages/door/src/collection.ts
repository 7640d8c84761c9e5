import type { FastifyRequest } from 'fastify';
import { canonicalJson } from './fingerprint.js';
import { DoorError } from './door-error.js';
import type { DoorKeys } from './door-keys.js';

/**
 * A page of a collection, as the Belgif REST guide shapes it: `self` (this page's absolute link), `items`,
 * `pageSize` (the most items a page has) and, except on the last page, `next` (the next page's link,
 * holding an opaque cursor).
 */
export interface CollectionPage<T> {
  self: string;
  items: T[];
  pageSize: number;
  next?: string;
}

/**
 * The JSON Schema of a collection page whose items follow `itemSchema` (for a route's `response`).
 *
 * @example
 * ```ts
 * app.get('/dossiers', { schema: { response: { 200: collectionSchema({ $ref: 'DossierLink#' }) } } }, …);
 * ```
 */
export function collectionSchema(itemSchema: object, description = 'A page of the collection.') {
  return {
    description,
    type: 'object',
    required: ['self', 'items', 'pageSize'],
    properties: {
      self: { type: 'string', format: 'uri', description: 'This page.' },
      items: { type: 'array', items: itemSchema },
      pageSize: { type: 'integer', minimum: 1, description: 'The most items a page of this collection has.' },
      next: { type: 'string', format: 'uri', description: 'The next page; absent on the last one.' },
    },
  } as const;
}

/**
 * The query-string schema of a paged collection: `pageSize` (1 to `max`, default `defaultSize`), `cursor`
 * (from a `next` link) and the collection's own filters; any other parameter is refused (`unknownInput`).
 *
 * @example
 * ```ts
 * pageQuerySchema({ filters: { state: { type: 'array', items: { enum: ['open', 'closed'] } } } });
 * ```
 */
export function pageQuerySchema(
  options: { max?: number; defaultSize?: number; filters?: Record<string, object> } = {},
) {
  const max = options.max ?? 100;
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      pageSize: {
        type: 'integer',
        minimum: 1,
        maximum: max,
        default: options.defaultSize ?? Math.min(20, max),
      },
      cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'From a `next` link: opaque.' },
      ...options.filters,
    },
  } as const;
}

/**
 * Cursors of one door: the position to resume after, as base64url JSON with a MAC binding it to the
 * collection and the filters it was made for, so that a cursor altered, truncated, or taken to another
 * list or other filters is refused (`ERR_CURSOR_INVALID`, a `badRequest` naming `cursor`).
 */
export class CursorCodec {
  constructor(private readonly keys: DoorKeys) {}

  /** The collection a request reads: its route, path parameters and query filters (not the paging). */
  static collectionOf(request: FastifyRequest): string {
    const {
      cursor: _cursor,
      pageSize: _pageSize,
      ...filters
    } = (request.query ?? {}) as Record<string, unknown>;
    return canonicalJson([request.routeOptions.url, request.params, filters]);
  }

  /** A cursor for `position` in `collection`. */
  encode(collection: string, position: unknown): string {
    const payload = Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
    return `${payload}.${this.keys.mac(`${collection}\n${payload}`)}`;
  }

  /** The position of a cursor made for `collection`. */
  decode<T>(collection: string, cursor: string): T {
    const [payload = '', tag = '', extra] = cursor.split('.');
    if (extra !== undefined || !payload || !tag || !this.keys.macMatches(`${collection}\n${payload}`, tag)) {
      throw new DoorError(
        'ERR_CURSOR_INVALID',
        'This cursor was not made by this door for this collection.',
        {
          details: { in: 'query', name: 'cursor' },
        },
      );
    }
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
  }
}

/**
 * Builds a collection page for a request: `self` is the request's own path and query on the door's
 * public URL (never the Host header), `next` the same with the cursor of the page's last item when there
 * may be more.
 *
 * @example
 * ```ts
 * return collectionPage(request, {
 *   publicUrl, cursors, items, pageSize,
 *   nextPosition: items.length === pageSize ? lastSeq : undefined,
 * });
 * ```
 */
export function collectionPage<T>(
  request: FastifyRequest,
  page: { publicUrl: string; cursors: CursorCodec; items: T[]; pageSize: number; nextPosition?: unknown },
): CollectionPage<T> {
  // only the path and query of the request: an absolute request-target must not choose the link's host
  const asked = new URL(request.url, 'http://door.invalid');
  const self = new URL(`${page.publicUrl.replace(/\/+$/, '')}${asked.pathname}${asked.search}`);
  const result: CollectionPage<T> = { self: self.href, items: page.items, pageSize: page.pageSize };
  if (page.nextPosition !== undefined) {
    const next = new URL(self.href);
    next.searchParams.set(
      'cursor',
      page.cursors.encode(CursorCodec.collectionOf(request), page.nextPosition),
    );
    next.searchParams.set('pageSize', String(page.pageSize));
    result.next = next.href;
  }
  return result;
}
