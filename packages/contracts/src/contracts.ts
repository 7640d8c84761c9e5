import type { ValidateFunction } from 'ajv/dist/2020.js';
import { participantKind, type ParticipantKind } from '@passerelle/directory';
import type { Agreement, MessageContract, RecipientRule } from './agreement.js';
import { ContractError } from './contract-error.js';
import type { DossierContext } from './dossier-context.js';
import type { MessageTypeInfo } from './message-type-info.js';
import { compileProjection, valueAt } from './pointer.js';
import { describeSchemaIssues } from './schema-issues.js';

/** A message schema as loaded, for generators. */
export interface LoadedSchema {
  type: string;
  version: number;
  /** Path relative to the repository root, e.g. `schemas/residence-decided.v1.json`. */
  file: string;
  schema: Record<string, unknown>;
}

/** A shared definitions file (`schemas/defs/*.json`), for generators. */
export interface LoadedDefinitions {
  file: string;
  schema: Record<string, unknown>;
}

/**
 * The exchange agreement at run time: who may send what to whom, what each recipient sees, and the
 * compiled validators. Build one with `loadContracts()`.
 */
export interface Contracts {
  /** Every message type of the agreement. */
  types(): MessageTypeInfo[];
  /** Throws `ERR_CONTRACT_FORBIDDEN` unless `sender` may send `type` to `recipient` (by participant kind). */
  authorize(sender: string, type: string, recipient: string): void;
  /** Participant ids a message of `type` goes to for this dossier, one message each. */
  recipientsOf(type: string, context: DossierContext): string[];
  /** The part of `payload` a recipient of `recipientKind` may see (allow-list of the agreement). */
  project(type: string, recipientKind: ParticipantKind, payload: unknown): unknown;
  /** Throws `ERR_SCHEMA_INVALID` (details.errors: `{ path, keyword, message }[]`) unless `payload` is valid. */
  validate(type: string, version: number, payload: unknown): void;
  /** Whether the recipient must send a signed receipt back. */
  receiptRequired(type: string): boolean;
  /** Days the exchange keeps a message of this type (the contract's `retentionDays`). */
  retentionDays(type: string): number;
  /** Newest schema version of `type`. */
  latestVersion(type: string): number;
  /** The routing outcome of a payload (e.g. annex 46 → `granted`), when the agreement routes `type` by outcome. */
  outcomeOf(type: string, payload: unknown): string | undefined;
  /** The agreement as loaded (read-only). */
  agreement(): Readonly<Agreement>;
  /** Every message schema, ordered by type then version. */
  schemas(): readonly LoadedSchema[];
  /** Shared definitions referenced by the message schemas. */
  definitions(): readonly LoadedDefinitions[];
}

/** Internal: what the loader hands to {@link createContracts}. */
export interface ContractsParts {
  agreement: Agreement;
  schemas: LoadedSchema[];
  definitions: LoadedDefinitions[];
  validators: Map<string, ValidateFunction>;
}

function contextIdFor(
  kind: ParticipantKind,
  context: DossierContext,
): { id: string | undefined; field: string } {
  switch (kind) {
    case 'regional-authority':
      return { id: context.regionId, field: 'regionId' };
    case 'immigration-office':
      return { id: 'immigration-office', field: '' };
    case 'consular-post':
      return { id: context.consularPostId, field: 'consularPostId' };
    case 'commune':
      return { id: context.communeId, field: 'communeId' };
    case 'portal':
      return { id: context.portalId, field: 'portalId' };
    case 'auditor':
      return { id: 'auditor', field: '' };
  }
}

/** One message type as {@link Contracts.types} lists it: the contract's facts with its schema versions. */
function typeInfo(type: string, c: MessageContract, versions: readonly number[]): MessageTypeInfo {
  return {
    type,
    title: c.title,
    article: c.article,
    channel: c.channel ?? 'message',
    versions: [...versions],
    latestVersion: versions[versions.length - 1] ?? 0,
    senders: [...c.senders],
    recipients: c.recipients.map((r) => r.kind),
    receiptRequired: c.receiptRequired,
    retentionDays: c.retentionDays,
    personalDataCategories: Object.keys(c.personalData),
  };
}

/** The agreement's permission by participant kind, and no message to oneself: the rule `authorize` enforces. */
function authorizeByKind(contract: MessageContract, type: string, sender: string, recipient: string): void {
  const senderKind = participantKind(sender);
  const recipientKind = participantKind(recipient);
  if (!contract.senders.includes(senderKind)) {
    throw new ContractError(
      'ERR_CONTRACT_FORBIDDEN',
      `A ${senderKind} may not send "${type}" (senders: ${contract.senders.join(', ')}).`,
      { details: { type, sender, recipient, senderKind } },
    );
  }
  if (!contract.recipients.some((r) => r.kind === recipientKind)) {
    throw new ContractError(
      'ERR_CONTRACT_FORBIDDEN',
      `A ${recipientKind} may not receive "${type}" (recipients: ${contract.recipients.map((r) => r.kind).join(', ')}).`,
      { details: { type, sender, recipient, recipientKind } },
    );
  }
  if (sender === recipient) {
    throw new ContractError('ERR_CONTRACT_FORBIDDEN', `A participant may not send "${type}" to itself.`, {
      details: { type, sender, recipient },
    });
  }
}

/**
 * Whether a recipient rule's `when` (outcome, procedure, scheme) holds for this dossier: a rule that routes by
 * a field the context lacks is an error, not a silent skip.
 */
function ruleApplies(type: string, rule: RecipientRule, context: DossierContext): boolean {
  const when = rule.when ?? {};
  const matches = (field: 'procedure' | 'scheme' | 'outcome'): boolean => {
    const allowed: readonly string[] | undefined = when[field];
    if (!allowed) return true;
    const value = context[field];
    if (value === undefined) {
      throw new ContractError(
        'ERR_DOSSIER_CONTEXT_INVALID',
        `"${type}" is routed by ${field}: the dossier context needs "${field}"` +
          (field === 'outcome' ? ' (see outcomeOf).' : '.'),
        { details: { type, field } },
      );
    }
    return allowed.includes(value);
  };
  return matches('outcome') && matches('procedure') && matches('scheme');
}

/**
 * The participant a rule names for this dossier, checked to be of the rule's kind; `undefined` when the
 * context does not know it and the rule allows that (`skipIfUnknown`).
 */
function recipientIdOf(type: string, rule: RecipientRule, context: DossierContext): string | undefined {
  const { id, field } = contextIdFor(rule.kind, context);
  if (id === undefined) {
    if (rule.skipIfUnknown) return undefined;
    throw new ContractError(
      'ERR_DOSSIER_CONTEXT_INVALID',
      `"${type}" goes to a ${rule.kind} for this dossier but the context has no "${field}".`,
      { details: { type, field, kind: rule.kind } },
    );
  }
  let kind: ParticipantKind | undefined;
  try {
    kind = participantKind(id);
  } catch {
    kind = undefined;
  }
  if (kind !== rule.kind) {
    throw new ContractError(
      'ERR_DOSSIER_CONTEXT_INVALID',
      `The dossier context field "${field}" does not name a ${rule.kind}.`,
      { details: { type, field, kind: rule.kind } },
    );
  }
  return id;
}

/** The routing of `recipientsOf`: each applicable rule's participant once, in the agreement's order. */
function routeByDossier(type: string, contract: MessageContract, context: DossierContext): string[] {
  if ((contract.channel ?? 'message') === 'receipt') {
    throw new ContractError(
      'ERR_CONTRACT_FORBIDDEN',
      `"${type}" is not routed by dossier: it goes back to the sender of the message it acknowledges.`,
      { details: { type } },
    );
  }
  const ids: string[] = [];
  for (const rule of contract.recipients) {
    if (!ruleApplies(type, rule, context)) continue;
    const id = recipientIdOf(type, rule, context);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** The `ERR_SCHEMA_INVALID` of a payload ajv refused, naming the first issue and counting the rest. */
function schemaInvalid(
  type: string,
  version: number,
  all: NonNullable<ValidateFunction['errors']>,
): ContractError {
  const { errors, summary } = describeSchemaIssues(all);
  return new ContractError(
    'ERR_SCHEMA_INVALID',
    `Payload of "${type}" v${version} fails its schema${summary}.`,
    { details: { type, version, errors, total: all.length } },
  );
}

/** Builds the {@link Contracts} object from checked parts (see `loadContracts`). */
export function createContracts(parts: ContractsParts): Contracts {
  const { agreement, validators } = parts;
  const versions = new Map<string, number[]>();
  for (const s of parts.schemas) versions.set(s.type, [...(versions.get(s.type) ?? []), s.version]);
  for (const list of versions.values()) list.sort((a, b) => a - b);

  const contractOf = (type: string): MessageContract => {
    const contract = Object.hasOwn(agreement.messages, type) ? agreement.messages[type] : undefined;
    if (!contract) {
      throw new ContractError(
        'ERR_UNKNOWN_TYPE',
        `Message type "${type.slice(0, 64)}" is not in the agreement.`,
        {
          details: { type: type.slice(0, 64) },
        },
      );
    }
    return contract;
  };
  const ruleFor = (type: string, kind: ParticipantKind): RecipientRule | undefined =>
    contractOf(type).recipients.find((r) => r.kind === kind);
  const projections = new Map<string, (payload: unknown) => unknown>();
  for (const [type, contract] of Object.entries(agreement.messages)) {
    for (const rule of contract.recipients)
      projections.set(`${type}>${rule.kind}`, compileProjection(rule.projection));
  }

  const contracts: Contracts = {
    types() {
      return Object.entries(agreement.messages).map(([type, c]) =>
        typeInfo(type, c, versions.get(type) ?? []),
      );
    },

    authorize(sender, type, recipient) {
      authorizeByKind(contractOf(type), type, sender, recipient);
    },

    recipientsOf(type, context) {
      return routeByDossier(type, contractOf(type), context);
    },

    project(type, recipientKind, payload) {
      const projection = projections.get(`${type}>${recipientKind}`);
      if (!ruleFor(type, recipientKind) || !projection) {
        throw new ContractError('ERR_CONTRACT_FORBIDDEN', `A ${recipientKind} may not receive "${type}".`, {
          details: { type, recipientKind },
        });
      }
      return projection(payload);
    },

    validate(type, version, payload) {
      contractOf(type);
      const validator = validators.get(`${type}@${version}`);
      if (!validator) {
        throw new ContractError(
          'ERR_UNKNOWN_SCHEMA_VERSION',
          `No schema version ${version} for "${type}" (known: ${(versions.get(type) ?? []).join(', ')}).`,
          { details: { type, version } },
        );
      }
      if (validator(payload)) return;
      throw schemaInvalid(type, version, validator.errors ?? []);
    },

    retentionDays(type) {
      return contractOf(type).retentionDays;
    },

    receiptRequired(type) {
      return contractOf(type).receiptRequired;
    },

    latestVersion(type) {
      contractOf(type);
      const v = versions.get(type) ?? [];
      const latest = v[v.length - 1];
      if (latest === undefined) {
        throw new ContractError('ERR_UNKNOWN_SCHEMA_VERSION', `No schema for "${type}".`, {
          details: { type },
        });
      }
      return latest;
    },

    outcomeOf(type, payload) {
      const outcome = contractOf(type).outcome;
      if (!outcome) return undefined;
      const raw = valueAt(payload, outcome.pointer);
      return typeof raw === 'string' && Object.hasOwn(outcome.values, raw) ? outcome.values[raw] : undefined;
    },

    agreement() {
      return agreement;
    },
    schemas() {
      return parts.schemas;
    },
    definitions() {
      return parts.definitions;
    },
  };
  return contracts;
}
