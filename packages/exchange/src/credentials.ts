import { readFile, stat } from 'node:fs/promises';
import { decode } from '@nats-io/jwt';
import { dirname, resolve } from 'node:path';
import { type ConnectionOptions, credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';
import { isParticipantId } from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';

/**
 * A participant's credentials file (JSON), written by the operator (`pnpm start --secure` writes one per
 * participant under `.passerelle/secure/credentials/`, and `operator.json` for the operator's tools).
 * Relative paths are resolved from the file's folder.
 */
export interface CredentialsFile {
  /** The participant these credentials belong to. */
  participant?: string;
  /** Instead of `participant`: an identity of the exchange's operators (`operator`), for the CLI. */
  identity?: string;
  /** Server URLs (`tls://127.0.0.1:4222`). */
  servers: string[];
  /**
   * NATS credentials of the identity (a `.creds` file: its user JWT, signed by its account, and its nkey
   * seed), readable by its owner only. What a secured server in operator mode expects.
   */
  credsFile?: string;
  /** Instead of `credsFile`: a bare nkey seed (`SU…`), for a server that lists users' public keys. */
  nkeySeedFile?: string;
  /** Where this participant's account reaches what is not its own (see {@link AccountSettings}). */
  accounts?: AccountSettings;
  /** Mutual TLS: the CA to trust, the client certificate and its key. */
  tls: { caFile: string; certFile: string; keyFile: string };
}

/**
 * How a participant's own NATS account reaches the shared one and other participants' (a secured server
 * gives each participant an account of its own, SECURITY.md "Accounts").
 */
export interface AccountSettings {
  /** Prefix of the EXCHANGE account's JetStream API as imported into the participant's account. */
  exchangeApiPrefix: string;
  /** Per object store name, the participants whose store of that name this account may read. */
  objectStoreOwners: Record<string, string[]>;
}

/** Where a participant's account imports the object store reads of participant `owner`. */
export function ownerApiPrefix(owner: string): string {
  return `$JS.${owner}.API`;
}

/** What {@link loadCredentials} returns: ready for `connectExchange({ servers, connection })`. */
export interface LoadedCredentials {
  participant: string;
  servers: string[];
  /** Authenticator, TLS material and the participant's private inbox prefix. */
  connection: Omit<ConnectionOptions, 'servers'>;
  /** Set on a server where the participant has its own account. */
  accounts?: AccountSettings;
  /** When the user JWT of its `.creds` expires, if it does. */
  expiresAt?: Date;
}

/** What {@link loadClientCredentials} returns: a participant's or an operator identity's connection. */
export interface LoadedClientCredentials {
  /** The participant id, or the operator identity named by `identity`. */
  identity: string;
  servers: string[];
  connection: Omit<ConnectionOptions, 'servers'>;
  accounts?: AccountSettings;
  /** When the user JWT of its `.creds` expires, if it does. */
  expiresAt?: Date;
}

/** How an operator identity is spelled: lower-case letters, digits and dashes. */
const IDENTITY = /^[a-z][a-z0-9-]{0,62}$/;

function invalid(file: string, setting: string, problem: string): PasserelleError {
  return new PasserelleError('ERR_CONFIG_INVALID', `${file}: ${setting} ${problem}.`, {
    details: { file, setting },
  });
}

async function readSecretFile(file: string, path: string, setting: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch {
    throw invalid(file, setting, `names ${path}, which cannot be read`);
  }
  // Like ssh: a key others can read is treated as already leaked.
  if ((mode & 0o077) !== 0) {
    throw invalid(file, setting, `names ${path}, which others can read (run chmod 600)`);
  }
  return readFile(path, 'utf8');
}

async function readPublicFile(file: string, path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw invalid(file, setting, `names ${path}, which cannot be read`);
  }
}

/**
 * Loads a participant's credentials file and checks every setting; a missing or wrong one fails with
 * `ERR_CONFIG_INVALID` naming the file and the setting (never the secret).
 *
 * @example
 * ```ts
 * const { participant, servers, connection } = await loadCredentials('.passerelle/secure/credentials/commune-21004.json');
 * const exchange = await connectExchange({ participant, servers, connection, provision: false, keys, directory, contracts });
 * ```
 */
export async function loadCredentials(file: string): Promise<LoadedCredentials> {
  const loaded = await readCredentials(file, 'participant');
  return {
    participant: loaded.identity,
    servers: loaded.servers,
    connection: loaded.connection,
    ...(loaded.accounts ? { accounts: loaded.accounts } : {}),
    ...(loaded.expiresAt ? { expiresAt: loaded.expiresAt } : {}),
  };
}

/**
 * Loads the credentials file of a participant or of an operator identity (`"identity": "operator"`), as
 * the CLI does with `--credentials`; the same checks as {@link loadCredentials}.
 *
 * @example
 * ```ts
 * const { servers, connection } = await loadClientCredentials('.passerelle/secure/credentials/operator.json');
 * const nc = await connectNats({ ...connection, servers });
 * ```
 */
export function loadClientCredentials(file: string): Promise<LoadedClientCredentials> {
  return readCredentials(file, 'participant or identity');
}

async function readCredentials(
  file: string,
  accepted: 'participant' | 'participant or identity',
): Promise<LoadedClientCredentials> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${file}: the credentials file cannot be read.`, {
      details: { file },
    });
  }
  let parsed: Partial<CredentialsFile>;
  try {
    parsed = JSON.parse(raw) as Partial<CredentialsFile>;
  } catch {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${file}: the credentials file is not JSON.`, {
      details: { file },
    });
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${file}: the credentials file is not a JSON object.`, {
      details: { file },
    });
  }
  const base = dirname(resolve(file));
  const at = (p: string): string => resolve(base, p);

  let identity: string;
  let participant: string | undefined;
  if (accepted === 'participant' || parsed.participant !== undefined) {
    if (typeof parsed.participant !== 'string' || !isParticipantId(parsed.participant)) {
      throw invalid(file, 'participant', 'must be a participant id');
    }
    identity = participant = parsed.participant;
  } else if (typeof parsed.identity === 'string' && IDENTITY.test(parsed.identity)) {
    identity = parsed.identity;
  } else {
    throw invalid(file, 'participant', 'or identity must name who connects (a participant id, or operator)');
  }
  const servers = parsed.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string')) {
    throw invalid(file, 'servers', 'must be a non-empty list of server URLs');
  }
  let authenticator: ConnectionOptions['authenticator'];
  let expiresAt: Date | undefined;
  if (typeof parsed.credsFile === 'string') {
    const creds = await readSecretFile(file, at(parsed.credsFile), 'credsFile');
    if (
      !/-----BEGIN NATS USER JWT-----[\s\S]+-----BEGIN USER NKEY SEED-----\s+SU[A-Z2-7]{56}\s/.test(creds)
    ) {
      throw invalid(file, 'credsFile', 'does not hold a user JWT and its nkey seed (a .creds file)');
    }
    authenticator = credsAuthenticator(new TextEncoder().encode(creds));
    expiresAt = userJwtExpiry(creds);
  } else if (typeof parsed.nkeySeedFile === 'string') {
    const seed = (await readSecretFile(file, at(parsed.nkeySeedFile), 'nkeySeedFile')).trim();
    if (!/^SU[A-Z2-7]{56}$/.test(seed)) {
      throw invalid(file, 'nkeySeedFile', 'does not hold a user nkey seed (SU…)');
    }
    authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  } else {
    throw invalid(file, 'credsFile', 'is missing');
  }
  const accounts = parsed.accounts === undefined ? undefined : checkAccounts(file, parsed.accounts);
  const tls = parsed.tls;
  if (!tls || typeof tls !== 'object') throw invalid(file, 'tls', 'is missing (caFile, certFile, keyFile)');
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    if (typeof tls[key] !== 'string') throw invalid(file, `tls.${key}`, 'is missing');
  }
  const ca = await readPublicFile(file, at(tls.caFile), 'tls.caFile');
  const cert = await readPublicFile(file, at(tls.certFile), 'tls.certFile');
  const key = await readSecretFile(file, at(tls.keyFile), 'tls.keyFile');
  return {
    identity,
    servers,
    connection: {
      name: identity,
      authenticator,
      tls: { ca, cert, key },
      // a participant's replies come on its private inbox prefix, the only one its permissions allow
      ...(participant ? { inboxPrefix: `_INBOX_${participant}` } : {}),
    },
    ...(accounts ? { accounts } : {}),
    ...(expiresAt ? { expiresAt } : {}),
  };
}

/**
 * When the user JWT of a `.creds` file expires (`exp`), or undefined when it does not or cannot be read:
 * the server, not this reader, judges the JWT (it refuses one it cannot verify).
 */
function userJwtExpiry(creds: string): Date | undefined {
  const jwt = /-----BEGIN NATS USER JWT-----\s+(\S+)/.exec(creds)?.[1];
  try {
    const exp = jwt ? decode(jwt).exp : undefined;
    return exp ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks the `accounts` setting of a credentials file. */
function checkAccounts(file: string, value: unknown): AccountSettings {
  const v = value as Partial<AccountSettings> | null;
  if (
    !v ||
    typeof v !== 'object' ||
    typeof v.exchangeApiPrefix !== 'string' ||
    !/^\$JS\.[A-Za-z0-9_-]+\.API$/.test(v.exchangeApiPrefix)
  ) {
    throw invalid(file, 'accounts.exchangeApiPrefix', 'must be a JetStream API prefix ($JS.<name>.API)');
  }
  const owners = v.objectStoreOwners ?? {};
  if (
    typeof owners !== 'object' ||
    !Object.values(owners).every(
      (ids) => Array.isArray(ids) && ids.every((id) => typeof id === 'string' && isParticipantId(id)),
    )
  ) {
    throw invalid(file, 'accounts.objectStoreOwners', 'must map store names to lists of participant ids');
  }
  return { exchangeApiPrefix: v.exchangeApiPrefix, objectStoreOwners: owners };
}
