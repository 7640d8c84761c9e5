import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ALLOWED_MEDIA_TYPES, DocumentError, type DocumentStore } from '@passerelle/documents';
import {
  type Door,
  DoorError,
  type StoredAnswer,
  assertIdempotencyKey,
  requestFingerprint,
} from '@passerelle/door';
import { isPasserelleError } from '@passerelle/errors';
import type { FastifyPluginCallback } from 'fastify';
import type { MessageBodies } from '../message-bodies.js';

/** Options of {@link documentsPlugin}. */
export interface DocumentsPluginOptions {
  documents: DocumentStore;
  door: Door;
  bodies: MessageBodies;
  /** Largest document taken, in bytes. */
  maxDocumentBytes: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The SHA-256 and size of a body, or `undefined` past `max` bytes (then it stops reading). */
async function digest(
  body: AsyncIterable<Buffer>,
  max: number,
): Promise<{ sha256: string; size: number } | undefined> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) return undefined;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), size };
}

/** A document error with what a problem shows of it: the size limit. */
function withLimit(err: unknown, maxDocumentBytes: number): unknown {
  if (!isPasserelleError(err, 'ERR_DOCUMENT_TOO_LARGE')) return err;
  return new DocumentError('ERR_DOCUMENT_TOO_LARGE', err.message, {
    details: { limit: maxDocumentBytes },
    cause: err,
  });
}

/**
 * `POST /v1/documents` (decide): a document uploaded as the raw body, streamed, stored encrypted under its
 * own key in the Object Store; the answer is the `DocumentRef` to put in the messages (a read capability:
 * as confidential as the document). Its media type must be one of the allow-list (else 415) and its size
 * 1 byte to the portal's limit (else 413, checked on `Content-Length` and again while streaming).
 *
 * `Idempotency-Key` is required, as on every POST, through the door's store: the body is a stream, so the
 * request is known by its media type first, and a replay checks the bytes against the reference it
 * answers — the same key with other bytes is 422 `ERR_IDEMPOTENCY_KEY_REUSED`. A refusal is not kept (the
 * bytes may not have been read): a retry runs again.
 */
export const documentsPlugin: FastifyPluginCallback<DocumentsPluginOptions> = (app, options, done) => {
  const { documents, door, bodies, maxDocumentBytes } = options;
  // the raw body as a stream, whatever its type: the handler checks the allow-list itself
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.post(
    '/v1/documents',
    {
      config: { scope: 'decide' },
      // the header and the body are checked by the handler (the body is a stream)
      validatorCompiler: () => () => true,
      schema: {
        summary: 'Upload a document (raw body, streamed, stored encrypted); returns its reference',
        tags: ['documents'],
        consumes: [...ALLOWED_MEDIA_TYPES],
        headers: {
          type: 'object',
          required: ['idempotency-key'],
          properties: {
            'idempotency-key': {
              type: 'string',
              pattern: '^[\\x21-\\x7e]{1,255}$',
              description:
                'Required: the same key with the same bytes gets the first answer again (`Idempotent-Replayed: true`); with other bytes it is refused (422). Kept 24 hours, per client.',
            },
          },
        },
        body: { type: 'string', description: "The document's bytes." },
        response: {
          201: {
            description:
              'Stored; the reference is a read capability: keep it as confidential as the document.',
            type: 'object',
            required: ['document'],
            properties: { document: bodies.ref('DocumentRef') },
          },
        },
      },
    },
    async (request, reply) => {
      const key = assertIdempotencyKey(request.headers['idempotency-key']);
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const declared = request.headers['content-length'];
      const body = (request.body ?? request.raw) as Readable;
      const fingerprint = requestFingerprint('POST', '/v1/documents', {}, { mediaType });
      const start = await door.idempotency.begin(request.client.id, key, fingerprint);
      if (start.kind === 'replay') {
        const first = (JSON.parse(start.answer.body) as { document?: { sha256: string; size: number } })
          .document;
        const again = await digest(body, maxDocumentBytes);
        if (!first || !again || again.sha256 !== first.sha256 || again.size !== first.size) {
          throw new DoorError(
            'ERR_IDEMPOTENCY_KEY_REUSED',
            'This Idempotency-Key was first used with another request.',
          );
        }
        request.log.info({ status: start.answer.status }, 'idempotent request replayed');
        return reply
          .code(start.answer.status as 201)
          .headers(start.answer.headers)
          .header('idempotent-replayed', 'true')
          .send(start.answer.body);
      }
      let answer: StoredAnswer;
      try {
        const document = await documents.put({
          owner: request.integrator,
          mediaType,
          body,
          maxBytes: maxDocumentBytes,
          ...(declared !== undefined ? { declaredLength: Number(declared) } : {}),
        });
        request.log.info({ size: document.size, mediaType }, 'document stored');
        answer = { status: 201, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify({ document }) };
      } catch (err) {
        await door.idempotency.fail(start);
        throw withLimit(err, maxDocumentBytes);
      }
      try {
        await door.idempotency.complete(start, answer);
      } catch (err) {
        // the document is stored and its reference goes out; a retry stores it again under another id
        request.log.error({ code: (err as { code?: unknown }).code }, 'idempotency record not completed');
      }
      return reply.code(201).headers(answer.headers).send(answer.body);
    },
  );
  done();
};
