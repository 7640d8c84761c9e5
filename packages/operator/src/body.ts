import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decode, fmtCreds } from '@nats-io/jwt';
import { createUser, fromSeed } from '@nats-io/nkeys';
import {
  STORAGE_KEY_FILE,
  loadParticipantKeys,
  participantKind,
  writeParticipantKeys,
} from '@passerelle/directory';
import { generateParticipantKeys } from '@passerelle/envelope';
import type { CredentialsFile } from '@passerelle/exchange';
import { PasserelleError } from '@passerelle/errors';
import type { Approval } from './approve.js';
import { makeCertificateRequest } from './certificates.js';
import { type RegistrationRequest, makeRegistrationRequest } from './registration-request.js';

/** Files of a body's folder: its keys (private, 0600), its request, then its credentials once approved. */
export const BODY_FILES = {
  natsSeed: 'nats.nk',
  tlsKey: 'tls.key',
  request: 'request.json',
  creds: 'nats.creds',
  certificate: 'tls.pem',
  ca: 'ca.pem',
} as const;

/** How long a body's message keys are valid unless told otherwise. */
export const KEY_VALIDITY_DAYS = 365;

/**
 * `participants request`, on the body's side: makes its message keys (valid {@link KEY_VALIDITY_DAYS}
 * unless `validDays` says otherwise), its NATS user key and its TLS key in `dir` (0600), and the signed
 * registration request (`request.json`) to send to the operator. A rotation (`current`: the folder of the
 * keys in use) signs the request with the current key too, keeps the current encryption keys beside the
 * new ones (messages in flight to them still open) and the storage keyring.
 */
export async function requestRegistration(options: {
  participant: string;
  name: string;
  dir: string;
  current?: string;
  validDays?: number;
  now?: Date;
}): Promise<{ request: RegistrationRequest; file: string }> {
  const id = options.participant;
  participantKind(id);
  const dir = resolve(options.dir);
  if (existsSync(join(dir, BODY_FILES.natsSeed))) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${dir} already holds a body's keys: use a new folder.`, {
      details: { setting: '--out' },
    });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = options.now ?? new Date();
  const notAfter = new Date(
    now.getTime() + (options.validDays ?? KEY_VALIDITY_DAYS) * 86_400_000,
  ).toISOString();
  const fresh = await generateParticipantKeys(id, { notAfter });
  const current = options.current ? await loadParticipantKeys(resolve(options.current)) : undefined;
  if (current && current.participantId !== id) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `${options.current} holds the keys of ${current.participantId}, not ${id}.`,
      {
        details: { setting: '--rotate' },
      },
    );
  }
  if (current && existsSync(join(resolve(options.current!), STORAGE_KEY_FILE))) {
    await copyFile(join(resolve(options.current!), STORAGE_KEY_FILE), join(dir, STORAGE_KEY_FILE));
    await chmod(join(dir, STORAGE_KEY_FILE), 0o600);
  }
  await writeParticipantKeys(dir, {
    ...fresh,
    encryption: [...fresh.encryption, ...(current?.encryption ?? [])],
  });
  const natsUser = createUser();
  await writeFile(join(dir, BODY_FILES.natsSeed), new TextDecoder().decode(natsUser.getSeed()) + '\n', {
    mode: 0o600,
  });
  const { csr } = await makeCertificateRequest(id, join(dir, BODY_FILES.tlsKey));
  const request = await makeRegistrationRequest({
    keys: fresh,
    natsUser,
    name: options.name,
    csr,
    ...(current ? { current } : {}),
    now,
  });
  const file = join(dir, BODY_FILES.request);
  await writeFile(file, JSON.stringify(request, null, 2) + '\n');
  return { request, file };
}

/**
 * On the body's side once approved: writes its `.creds` (the user JWT it received with its own NATS seed,
 * 0600), its certificate and the CA, and `<participant>.json` for `loadCredentials()` (so that the folder
 * serves as a service's `PASSERELLE_CREDENTIALS_DIR`). Refuses an approval
 * for another participant or another NATS key than the folder's.
 */
export async function acceptApproval(approval: Approval, dir: string): Promise<{ credentials: string }> {
  const folder = resolve(dir);
  const seed = (await readFile(join(folder, BODY_FILES.natsSeed), 'utf8')).trim();
  const user = fromSeed(new TextEncoder().encode(seed));
  const claims = decode<{ type?: string }>(approval.userJwt);
  if (
    approval.typ !== 'passerelle-approval' ||
    claims.sub !== user.getPublicKey() ||
    claims.name !== approval.participant
  ) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `The approval is not for the NATS key of ${folder} (another request's, or another participant's).`,
      { details: { setting: 'approval' } },
    );
  }
  await writeFile(join(folder, BODY_FILES.creds), fmtCreds(approval.userJwt, user), { mode: 0o600 });
  await chmod(join(folder, BODY_FILES.creds), 0o600);
  await writeFile(join(folder, BODY_FILES.certificate), approval.certificate);
  await writeFile(join(folder, BODY_FILES.ca), approval.ca);
  const credentials: CredentialsFile = {
    participant: approval.participant,
    servers: approval.servers,
    credsFile: BODY_FILES.creds,
    accounts: approval.accounts,
    tls: { caFile: BODY_FILES.ca, certFile: BODY_FILES.certificate, keyFile: BODY_FILES.tlsKey },
  };
  const file = join(folder, `${approval.participant}.json`);
  await writeFile(file, JSON.stringify(credentials, null, 2) + '\n');
  return { credentials: file };
}
