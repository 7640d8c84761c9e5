import {
  type KeyResolver,
  type ParticipantKeys,
  type PrivateJwk,
  createStaticResolver,
  generateKey,
  generateParticipantKeys,
  publicKeysOf,
  toPublicJwk,
} from '@passerelle/envelope';

/** Two participants' keys, the auditor's signing key, and a resolver that knows the three. */
export interface AuditedKeys {
  post: ParticipantKeys;
  office: ParticipantKeys;
  auditor: PrivateJwk;
  resolver: KeyResolver;
}

/** Real keys for a post and the Office, and for an auditor that signs only (it can decrypt nothing). */
export async function auditedKeys(postId: string, officeId: string): Promise<AuditedKeys> {
  const [post, office] = await Promise.all([
    generateParticipantKeys(postId),
    generateParticipantKeys(officeId),
  ]);
  const auditor = await generateKey('sig', { kid: 'auditor-sig-1' });
  const resolver = createStaticResolver([
    publicKeysOf(post),
    publicKeysOf(office),
    { participantId: 'auditor', signing: [toPublicJwk(auditor)], encryption: [] },
  ]);
  return { post, office, auditor, resolver };
}
