/**
 * Clear routing and bookkeeping facts of one message. Never personal data: operators and the auditor read it.
 */
export interface EnvelopeMeta {
  /** UUID v7, also the `Nats-Msg-Id` of the message. */
  id: string;
  /** Message type, a NATS token in lower-case kebab case, e.g. `residence-decided`. */
  type: string;
  /** Version of the type's JSON Schema, e.g. `1`. */
  schemaVersion: number;
  /** Participant id of the sender. */
  sender: string;
  /** Participant id of the recipient. */
  recipient: string;
  /** Pseudonymous dossier id (`^[A-Za-z0-9-]{8,64}$`). */
  dossierId: string;
  /** RFC 3339 date-time in UTC (`…Z`), when the sender sealed the message. */
  issuedAt: string;
  /** Id shared by every message of one exchange. */
  correlationId: string;
  /** Id of the message that caused this one, or `null`. */
  causationId: string | null;
}

/** One message on the wire: `{ meta, jwe, seal }` (DESIGN.md, "The envelope"). */
export interface Envelope {
  meta: EnvelopeMeta;
  /** Compact JWE (ECDH-ES+A256KW, A256GCM) to the recipient, wrapping the compact JWS over `{ meta, payload }`. */
  jwe: string;
  /** Compact JWS (ES256) by the sender over `{ v: 1, meta, jweSha256 }`. */
  seal: string;
}

/** An EC P-256 public key in JWK form, with its `kid` and optional validity window. */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  use?: 'sig' | 'enc';
  alg?: string;
  /** RFC 3339: the key is not valid for messages issued before this instant. */
  notBefore?: string;
  /** RFC 3339: the key is not valid for messages issued after this instant. */
  notAfter?: string;
}

/** An EC P-256 private key in JWK form (the public members plus `d`). Never logged, never in errors. */
export interface PrivateJwk extends PublicJwk {
  d: string;
}

/** The two uses of a participant's keys. */
export type KeyUse = 'sig' | 'enc';

/**
 * Resolves a participant's public key valid at `at` for a use. Implementations throw a PasserelleError
 * `ERR_UNKNOWN_SENDER`, `ERR_KEY_NOT_FOUND` or `ERR_KEY_NOT_VALID_AT`.
 */
export interface KeyResolver {
  resolve(participantId: string, use: KeyUse, at: Date, kid?: string): Promise<PublicJwk>;
}

/** What a participant holds privately (loaded from `--keys <dir>`). */
export interface ParticipantKeys {
  participantId: string;
  /** EC P-256 signing key, with `kid`. */
  signing: PrivateJwk;
  /** EC P-256 encryption keys with `kid`; several during a rotation (the JWE `kid` names the one to use). */
  encryption: PrivateJwk[];
}
