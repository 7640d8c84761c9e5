import { createHash } from 'node:crypto';
import { fromPublic, type KeyPair } from '@nats-io/nkeys';
import { type ParticipantKind, isParticipantId, participantKind } from '@passerelle/directory';
import {
  type ParticipantKeys,
  type PublicJwk,
  signCompact,
  toPublicJwk,
  verifyCompact,
} from '@passerelle/envelope';
import { decodeBase64Url, isPublicJwk } from '@passerelle/envelope/internal';
import { PasserelleError } from '@passerelle/errors';

/** `typ` of a registration request's JWS, so no other signed object can pass for one. */
export const REGISTRATION_TYP = 'pex-registration+jws';
/** `typ` of the proof that the participant's current key asks for a rotation. */
export const ROTATION_PROOF_TYP = 'pex-rotation-proof+jws';

/** What a body asks the operator for: everything public, nothing secret. */
export interface RegistrationClaims {
  participant: string;
  kind: ParticipantKind;
  /** Name of the body (an administration, never a person). */
  name: string;
  /** Its new ES256 public keys (the JWS is signed by the first). */
  signing: PublicJwk[];
  encryption: PublicJwk[];
  /** Public key of its NATS user (`U…`): the operator issues the user JWT for it. */
  natsUser: string;
  /** PKCS#10 request (PEM) for its TLS client certificate. */
  csr: string;
  /** RFC 3339. */
  requestedAt: string;
  /** A rotation of an approved participant's keys rather than a first registration. */
  rotation: boolean;
}

/** A request as it travels to the operator (a JSON file). */
export interface RegistrationRequest {
  /** Compact JWS over {@link RegistrationClaims}, by the request's new signing key. */
  request: string;
  /** The NATS user key's signature (nkeys, Ed25519) over the bytes of `request`, base64url. */
  natsProof: string;
  /** A rotation: compact JWS by the participant's current signing key over the SHA-256 of `request`. */
  rotationProof?: string;
}

function invalid(reason: string, participant?: string, cause?: unknown): PasserelleError {
  return new PasserelleError('ERR_REGISTRATION_INVALID', `Registration request: ${reason}.`, {
    details: participant ? { participantId: participant } : {},
    ...(cause ? { cause } : {}),
  });
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * Makes a signed registration request from a body's freshly made keys: its message keys sign it, its NATS
 * user key signs it too (proof that it holds both), and for a rotation its current signing key says so.
 *
 * @example
 * ```ts
 * const request = await makeRegistrationRequest({ keys, natsUser, name: 'Commune de Schaerbeek', csr });
 * ```
 */
export async function makeRegistrationRequest(options: {
  keys: ParticipantKeys;
  natsUser: KeyPair;
  name: string;
  csr: string;
  /** The keys in use today, for a rotation. */
  current?: ParticipantKeys;
  now?: Date;
}): Promise<RegistrationRequest> {
  const { keys } = options;
  const claims: RegistrationClaims = {
    participant: keys.participantId,
    kind: participantKind(keys.participantId),
    name: options.name,
    signing: [toPublicJwk(keys.signing)],
    encryption: keys.encryption.map(toPublicJwk),
    natsUser: options.natsUser.getPublicKey(),
    csr: options.csr,
    requestedAt: (options.now ?? new Date()).toISOString(),
    rotation: options.current !== undefined,
  };
  const request = await signCompact(claims, keys.signing, { typ: REGISTRATION_TYP });
  const natsProof = Buffer.from(options.natsUser.sign(new TextEncoder().encode(request))).toString(
    'base64url',
  );
  return {
    request,
    natsProof,
    ...(options.current
      ? {
          rotationProof: await signCompact({ request: digest(request) }, options.current.signing, {
            typ: ROTATION_PROOF_TYP,
          }),
        }
      : {}),
  };
}

/** The claims of a request, unverified: to find the key that verifies it. */
function peekClaims(jws: string): Partial<RegistrationClaims> {
  const segment = jws.split('.')[1];
  if (!segment) throw invalid('not a compact JWS');
  try {
    return JSON.parse(
      new TextDecoder().decode(decodeBase64Url(segment, 'the request')),
    ) as Partial<RegistrationClaims>;
  } catch (cause) {
    throw invalid('its payload is not JSON', undefined, cause);
  }
}

function checkShape(c: Partial<RegistrationClaims>): RegistrationClaims {
  const id = typeof c.participant === 'string' ? c.participant : undefined;
  if (!id || !isParticipantId(id)) throw invalid('participant is not a participant id');
  if (c.kind !== participantKind(id)) throw invalid(`kind does not match ${id}`, id);
  if (typeof c.name !== 'string' || c.name.length === 0 || c.name.length > 200) {
    throw invalid('name must be the name of the body', id);
  }
  for (const use of ['signing', 'encryption'] as const) {
    const keys = c[use];
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => isPublicJwk(k))) {
      throw invalid(`${use} must be a non-empty list of public P-256 JWKs`, id);
    }
  }
  if (typeof c.natsUser !== 'string' || !/^U[A-Z2-7]{55}$/.test(c.natsUser)) {
    throw invalid('natsUser must be a NATS user public key (U…)', id);
  }
  if (typeof c.csr !== 'string' || !c.csr.includes('BEGIN CERTIFICATE REQUEST')) {
    throw invalid('csr must be a PEM certificate request', id);
  }
  if (typeof c.requestedAt !== 'string' || Number.isNaN(Date.parse(c.requestedAt))) {
    throw invalid('requestedAt must be an RFC 3339 date-time', id);
  }
  if (typeof c.rotation !== 'boolean') throw invalid('rotation must be true or false', id);
  return c as RegistrationClaims;
}

/**
 * Checks a request: its shape, its signature by the signing key it presents, the NATS key's signature,
 * and for a rotation the proof by one of `currentSigning` (the keys the directory holds today, valid at
 * `now`). Returns the claims; anything else is `ERR_REGISTRATION_INVALID`.
 */
export async function verifyRegistrationRequest(
  value: unknown,
  options: { currentSigning?: readonly PublicJwk[]; now?: Date } = {},
): Promise<RegistrationClaims> {
  const r = value as Partial<RegistrationRequest> | null;
  if (!r || typeof r !== 'object' || typeof r.request !== 'string' || typeof r.natsProof !== 'string') {
    throw invalid('it must hold request and natsProof');
  }
  const claims = checkShape(peekClaims(r.request));
  const id = claims.participant;
  let verified: { payload: unknown; header: object };
  try {
    verified = await verifyCompact(r.request, (kid) => {
      const key = claims.signing.find((k) => k.kid === kid);
      if (!key) throw new Error('signed by a key the request does not present');
      return Promise.resolve(key);
    });
  } catch (cause) {
    throw invalid('it is not signed by the signing key it presents', id, cause);
  }
  if ((verified.header as { typ?: unknown }).typ !== REGISTRATION_TYP) {
    throw invalid(`typ must be ${REGISTRATION_TYP}`, id);
  }
  let natsOk = false;
  try {
    natsOk = fromPublic(claims.natsUser).verify(
      new TextEncoder().encode(r.request),
      decodeBase64Url(r.natsProof, 'natsProof'),
    );
  } catch {
    natsOk = false;
  }
  if (!natsOk) throw invalid('natsProof is not the NATS user key’s signature of the request', id);
  if (claims.rotation) {
    const current = options.currentSigning;
    if (!current || current.length === 0)
      throw invalid('a rotation needs the participant’s current keys', id);
    if (typeof r.rotationProof !== 'string') throw invalid('a rotation must carry rotationProof', id);
    const now = (options.now ?? new Date()).getTime();
    let proof: { payload: unknown; header: object };
    try {
      proof = await verifyCompact(r.rotationProof, (kid) => {
        const key = current.find(
          (k) =>
            k.kid === kid &&
            (k.notBefore === undefined || Date.parse(k.notBefore) <= now) &&
            (k.notAfter === undefined || now <= Date.parse(k.notAfter)),
        );
        if (!key) throw new Error('not signed by a current key of the participant');
        return Promise.resolve(key);
      });
    } catch (cause) {
      throw invalid(
        'rotationProof is not signed by a signing key the directory holds for it today',
        id,
        cause,
      );
    }
    if (
      (proof.header as { typ?: unknown }).typ !== ROTATION_PROOF_TYP ||
      (proof.payload as { request?: unknown }).request !== digest(r.request)
    ) {
      throw invalid('rotationProof does not vouch for this request', id);
    }
  }
  return claims;
}
