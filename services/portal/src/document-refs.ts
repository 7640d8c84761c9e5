import { type DocumentRef, type DocumentStore, DocumentError } from '@passerelle/documents';
import { isPasserelleError } from '@passerelle/errors';

type Json = Record<string, unknown>;

/** Each document reference of a `DossierDocuments`-like object, with its JSON pointer under `base`. */
export function documentRefs(documents: unknown, base: string): { path: string; ref: DocumentRef }[] {
  const out: { path: string; ref: DocumentRef }[] = [];
  if (typeof documents !== 'object' || documents === null) return out;
  for (const [slot, value] of Object.entries(documents as Json)) {
    if (slot === 'other' && Array.isArray(value)) {
      value.forEach((ref: DocumentRef, i) => out.push({ path: `${base}/other/${i}`, ref }));
    } else if (slot === 'healthInsurance') {
      out.push({
        path: `${base}/healthInsurance/document`,
        ref: (value as { document: DocumentRef }).document,
      });
    } else {
      out.push({ path: `${base}/${slot}`, ref: value as DocumentRef });
    }
  }
  return out;
}

/**
 * Checks that the integrator uploaded every document a body names, with that hash, type and size (without
 * decrypting). One that it did not is `ERR_DOCUMENT_UNKNOWN`, a bad request whose issue names the body
 * input by its JSON pointer (`referencedResourceNotFound`).
 */
export async function checkDocuments(
  store: DocumentStore,
  documents: unknown,
  integrator: string,
  base: string,
): Promise<void> {
  for (const { path, ref } of documentRefs(documents, base)) {
    try {
      await store.check(ref, integrator, path);
    } catch (err) {
      if (!isPasserelleError(err, 'ERR_DOCUMENT_UNKNOWN')) throw err;
      throw new DocumentError('ERR_DOCUMENT_UNKNOWN', err.message, {
        details: { in: 'body', name: path, type: 'referencedResourceNotFound' },
        cause: err,
      });
    }
  }
}
