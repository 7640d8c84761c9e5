import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { OFFICER_ID_PATTERN } from '@passerelle/door/internal';
import { hashPassword, isPasswordHash, verifyPassword } from './password.js';
import { OfficerWebError } from './officer-web-error.js';

/** One case officer's account: a pseudonymous id, the hosted ids it acts for, its password's hash. */
export interface OfficerAccount {
  /** Pseudonymous (`off-3f9a27c1`, or a UUID): the administration keeps the table to its staff itself. */
  officerId: string;
  /** The hosted participant ids (a region, a commune…) this officer works for. */
  participants: string[];
  /** scrypt hash (see `hashPassword`); never the password. */
  password: string;
  /** A disabled account signs in no more, and its open sessions end at their next request. */
  disabled?: boolean;
}

/** The accounts file: JSON, mode 0600, beside the service's settings. */
interface AccountsFile {
  version: 1;
  officers: OfficerAccount[];
}

/** The shortest password an account may be given. */
export const MIN_PASSWORD_LENGTH = 12;

const PARTICIPANT_ID = /^[a-z][a-z0-9-]{1,63}$/;

function invalid(message: string, details: Record<string, unknown> = {}): OfficerWebError {
  return new OfficerWebError('ERR_OFFICER_ACCOUNT_INVALID', message, { details });
}

function checkAccount(value: unknown, where: string): OfficerAccount {
  const a = value as Record<string, unknown> | null;
  if (typeof a !== 'object' || a === null) throw invalid(`${where} is not an object`, { entry: where });
  if (typeof a.officerId !== 'string' || !OFFICER_ID_PATTERN.test(a.officerId))
    throw invalid(`${where}.officerId is not a pseudonymous officer id`, { entry: where });
  if (
    !Array.isArray(a.participants) ||
    a.participants.length === 0 ||
    !a.participants.every((p) => typeof p === 'string' && PARTICIPANT_ID.test(p))
  )
    throw invalid(`${where}.participants must list participant ids`, { entry: where });
  if (!isPasswordHash(a.password)) throw invalid(`${where}.password is not an scrypt hash`, { entry: where });
  if (a.disabled !== undefined && typeof a.disabled !== 'boolean')
    throw invalid(`${where}.disabled must be true or false`, { entry: where });
  return {
    officerId: a.officerId,
    participants: a.participants as string[],
    password: a.password,
    ...(a.disabled ? { disabled: true } : {}),
  };
}

function parseAccounts(text: string, file: string): OfficerAccount[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(`the officer accounts file ${file} is not JSON`, { file });
  }
  const d = data as Partial<AccountsFile> | null;
  if (d?.version !== 1 || !Array.isArray(d.officers))
    throw invalid(`the officer accounts file ${file} is not { "version": 1, "officers": [...] }`, { file });
  const seen = new Set<string>();
  return d.officers.map((o, i) => {
    const account = checkAccount(o, `officers[${i}]`);
    if (seen.has(account.officerId)) throw invalid(`officers[${i}] repeats an officer id`, { entry: i });
    seen.add(account.officerId);
    return account;
  });
}

/**
 * The officer accounts of one body's page, in a JSON file that the provisioning command
 * (`passerelle-officers`) writes and the page reads. The page reads it again whenever it changed, so an
 * account added, disabled or removed counts at once, without restarting the service.
 *
 * @example
 * ```ts
 * const accounts = new OfficerAccounts('/etc/passerelle/region/officers.json');
 * const officer = await accounts.signIn('off-3f9a27c1', password); // the account, or undefined
 * ```
 */
export class OfficerAccounts {
  #cache: { mtimeMs: number; size: number; accounts: OfficerAccount[] } | undefined;

  constructor(readonly file: string) {}

  /** Every account, as the file holds it now (an absent file holds none). */
  async list(): Promise<OfficerAccount[]> {
    let info;
    try {
      info = await stat(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const cached = this.#cache;
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.accounts;
    const accounts = parseAccounts(await readFile(this.file, 'utf8'), this.file);
    this.#cache = { mtimeMs: info.mtimeMs, size: info.size, accounts };
    return accounts;
  }

  /** The enabled account with this id, or undefined. */
  async find(officerId: string): Promise<OfficerAccount | undefined> {
    return (await this.list()).find((a) => a.officerId === officerId && !a.disabled);
  }

  /**
   * The enabled account whose id and password these are, or undefined. The time taken does not depend on
   * whether the account exists (a hash is computed either way).
   */
  async signIn(officerId: string, password: string): Promise<OfficerAccount | undefined> {
    const account = OFFICER_ID_PATTERN.test(officerId) ? await this.find(officerId) : undefined;
    const ok = await verifyPassword(password, account?.password);
    return ok ? account : undefined;
  }

  /**
   * Adds an account (ERR_OFFICER_ACCOUNT_INVALID when the id exists or is not pseudonymous, or the password
   * is too short). The file is written whole to a temporary file, then renamed over, mode 0600.
   */
  async add(officerId: string, participants: readonly string[], password: string): Promise<OfficerAccount> {
    const accounts = await this.list();
    if (accounts.some((a) => a.officerId === officerId))
      throw invalid(`officer ${officerId} exists already`, { officerId });
    const account = checkAccount(
      { officerId, participants: [...participants], password: await this.hashChecked(password) },
      'the new account',
    );
    await this.write([...accounts, account]);
    return account;
  }

  /** Gives an account a new password (and enables it). */
  async setPassword(officerId: string, password: string): Promise<void> {
    const hash = await this.hashChecked(password);
    await this.update(officerId, (a) => ({
      officerId: a.officerId,
      participants: a.participants,
      password: hash,
    }));
  }

  /** Disables an account: it signs in no more, and its sessions end at their next request. */
  async disable(officerId: string): Promise<void> {
    await this.update(officerId, (a) => ({ ...a, disabled: true }));
  }

  /** Removes an account (the decisions it recorded keep its id). */
  async remove(officerId: string): Promise<void> {
    const accounts = await this.list();
    if (!accounts.some((a) => a.officerId === officerId))
      throw invalid(`no officer ${officerId}`, { officerId });
    await this.write(accounts.filter((a) => a.officerId !== officerId));
  }

  private async update(officerId: string, change: (a: OfficerAccount) => OfficerAccount): Promise<void> {
    const accounts = await this.list();
    if (!accounts.some((a) => a.officerId === officerId))
      throw invalid(`no officer ${officerId}`, { officerId });
    await this.write(accounts.map((a) => (a.officerId === officerId ? change(a) : a)));
  }

  private async hashChecked(password: string): Promise<string> {
    if (password.length < MIN_PASSWORD_LENGTH)
      throw invalid(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    return hashPassword(password);
  }

  private async write(officers: OfficerAccount[]): Promise<void> {
    const file: AccountsFile = { version: 1, officers };
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.file);
    this.#cache = undefined;
  }
}
