import { isPasserelleError } from '@passerelle/errors';
import type { DossierKeys } from '@passerelle/exchange';
import type { RecordCipher } from '@passerelle/procedure';
import type { StateCipher } from './at-rest.js';

/** What the storage layer of a record holds once the record is sealed under its dossier's key. */
interface Layered {
  dossierSealed: string;
  /** Fields kept beside the sealed record (routing facts, never personal data): readable after erasure. */
  kept?: Record<string, string>;
}

function isLayered(value: unknown): value is Layered {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Record<string, unknown>)['dossierSealed'] === 'string'
  );
}

/** Options of {@link DossierRecordCipher}. */
export interface DossierRecordCipherOptions {
  /**
   * Fields of a record kept beside it under the storage key only, so that they still read once the
   * dossier is erased (the portal keeps which integrator filed it, to answer that integrator alone).
   * Never personal data.
   */
  keep?: (value: unknown) => Record<string, string>;
  /**
   * For records filed under another key than their dossier's (a register filed by holder): the dossier whose
   * key seals the record, read from the record itself and kept beside it (a dossier id is a routing fact).
   * A record that names no dossier (a permit entered from outside the exchange) is sealed under the storage
   * key only.
   */
  dossierOf?: (value: unknown) => string | undefined;
}

/**
 * A participant's own dossier records sealed twice: under the dossier's own key
 * (`DossierKeys.sealRecord`, the key the exchange seals the dossier's payloads with), so that `passerelle
 * dossier erase` makes them unreadable like the dossier's messages; then under the participant's storage
 * key ({@link StateCipher}, when state encryption is on), so that a storage-key rotation and `passerelle
 * storage reseal` work on them as on any record. A record of an erased dossier throws `ERR_DOSSIER_ERASED`
 * (the stores report it as such); one that does not open gives undefined (`ERR_STATE_UNREADABLE`). A record
 * written before dossier keys were turned on still reads, and is sealed under its dossier's key at its next
 * write.
 *
 * @example
 * ```ts
 * const cipher = new DossierRecordCipher(StateCipher.fromKeyring(ring, 'dossiers'), dossierKeys);
 * const store = new DossierStore(kv, { cipher: () => cipher });
 * ```
 */
export class DossierRecordCipher implements RecordCipher {
  constructor(
    private readonly storage: StateCipher | undefined,
    private readonly dossierKeys: DossierKeys,
    private readonly options: DossierRecordCipherOptions = {},
  ) {}

  async seal(value: unknown, aad: string, dossierId: string): Promise<string> {
    const { dossierOf, keep } = this.options;
    const dossier = dossierOf ? dossierOf(value) : dossierId;
    if (dossier === undefined) return this.storage ? this.storage.seal(value, aad) : JSON.stringify(value);
    const kept = { ...keep?.(value), ...(dossierOf ? { dossierId: dossier } : {}) };
    const layered: Layered = {
      dossierSealed: await this.dossierKeys.sealRecord(dossier, aad, value),
      ...(Object.keys(kept).length > 0 ? { kept } : {}),
    };
    return this.storage ? this.storage.seal(layered, aad) : JSON.stringify(layered);
  }

  /** The storage layer of a record: its sealed part and kept fields, a record of before, or undefined. */
  private outer(sealed: string, aad: string): unknown {
    if (this.storage) return this.storage.open<unknown>(sealed, aad);
    try {
      return JSON.parse(sealed) as unknown;
    } catch {
      return undefined;
    }
  }

  async open<T>(sealed: string, aad: string, dossierId: string): Promise<T | undefined> {
    const outer = this.outer(sealed, aad);
    if (outer === undefined) return undefined;
    // written before dossier keys were on: as it was, until its next write
    if (!isLayered(outer)) return outer as T;
    const dossier = this.options.dossierOf ? outer.kept?.['dossierId'] : dossierId;
    if (dossier === undefined) return undefined;
    try {
      return (await this.dossierKeys.openRecord(dossier, aad, outer.dossierSealed)) as T;
    } catch (err) {
      // altered, moved, or under a key this participant does not hold: unreadable, like any such record
      if (
        isPasserelleError(err, 'ERR_PAYLOAD_NOT_SEALED') ||
        isPasserelleError(err, 'ERR_DOSSIER_KEY_UNAVAILABLE')
      )
        return undefined;
      throw err;
    }
  }

  /** The fields kept beside a record ({@link DossierRecordCipherOptions.keep}), erased or not. */
  kept(sealed: string, aad: string): Record<string, string> | undefined {
    const outer = this.outer(sealed, aad);
    return isLayered(outer) ? outer.kept : undefined;
  }
}
