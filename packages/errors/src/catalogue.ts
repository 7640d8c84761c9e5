/**
 * Every error code Passerelle emits, with the sentence that explains it and whether retrying the same
 * input can succeed. `docs/errors.md` is generated from this object (`pnpm gen:errors`) and a test fails
 * when the two drift apart.
 *
 * Sections are kept per package so that each concern owns its block; codes never change once released.
 */
export const ERROR_CATALOGUE = {
  // --- configuration and runtime (walking skeleton) ---
  ERR_CONFIG_INVALID: {
    area: 'config',
    retryable: false,
    description: 'A setting is missing or malformed; the message names the setting.',
  },
  ERR_SERVER_VERSION: {
    area: 'runtime',
    retryable: false,
    description:
      'The NATS server is older than the oldest release Passerelle supports (2.12.6, the first with every fix and feature it relies on).',
  },
  ERR_NO_STREAM: {
    area: 'runtime',
    retryable: false,
    description:
      'A publish found no JetStream stream to store it (nats-server answers "no responders" or "jetstream is not enabled") through all its retries: the streams are not provisioned, or a clustered stream had no leader for that long.',
  },
  ERR_STREAM_CONFLICT: {
    area: 'runtime',
    retryable: false,
    description:
      'An existing stream has a configuration Passerelle cannot reconcile (subjects or storage differ).',
  },
  ERR_NATS_SERVER_NOT_FOUND: {
    area: 'runtime',
    retryable: false,
    description:
      'No nats-server binary was found; run scripts/setup.sh (it builds the pinned release with Go) or set PASSERELLE_NATS_SERVER.',
  },
  ERR_NATS_SERVER_TOO_OLD: {
    area: 'runtime',
    retryable: false,
    description:
      'The nats-server binary found is older than the minimum Passerelle runs on; the message names its version, the minimum and how to install the pinned release.',
  },
  ERR_NATS_SERVER_START_FAILED: {
    area: 'runtime',
    retryable: true,
    description: 'A local nats-server exited or did not become ready during start-up; its log is included.',
  },
  ERR_NATS_SERVER_PORT_IN_USE: {
    area: 'runtime',
    retryable: true,
    description:
      'A local nats-server exited at start-up because a port it was given is taken by another process; its log is included.',
  },
  ERR_DOCKER_UNAVAILABLE: {
    area: 'runtime',
    retryable: false,
    description: 'PASSERELLE_TEST_NATS=container was asked for but no Docker engine answers.',
  },
  ERR_PARTICIPANT_ID_INVALID: {
    area: 'directory',
    retryable: false,
    description:
      'A participant id does not follow the pattern region-*, immigration-office, post-*, commune-<NIS>, portal-*, auditor.',
  },

  // --- envelope (packages/envelope) ---
  ERR_ENVELOPE_TOO_LARGE: {
    area: 'envelope',
    retryable: false,
    description:
      'The envelope is larger than the size limit (default 1 MiB); checked before anything is parsed.',
  },
  ERR_ENVELOPE_MALFORMED: {
    area: 'envelope',
    retryable: false,
    description:
      'The envelope is not strict JSON (invalid UTF-8, duplicate keys, trailing data), not exactly { meta, jwe, seal }, has a malformed meta member, or a JWE/JWS that is not a compact serialization.',
  },
  ERR_ALG_NOT_ALLOWED: {
    area: 'envelope',
    retryable: false,
    description:
      'A JOSE protected header is outside the allowlist: alg other than ES256 (JWS) or ECDH-ES+A256KW/A256GCM (JWE), none, HMAC, crit, zip, embedded or remote keys (jwk, jku, x5u, x5c), another member, or no kid.',
  },
  ERR_UNKNOWN_SENDER: {
    area: 'envelope',
    retryable: false,
    description: 'The sender named in meta has no entry in the directory.',
  },
  ERR_KEY_NOT_FOUND: {
    area: 'envelope',
    retryable: false,
    description: 'The participant has no key of that use with the kid the message names.',
  },
  ERR_KEY_NOT_VALID_AT: {
    area: 'envelope',
    retryable: false,
    description: 'The key exists but its notBefore/notAfter window does not contain the message issuedAt.',
  },
  ERR_SEAL_INVALID: {
    area: 'envelope',
    retryable: false,
    description:
      'The outer seal does not verify with the sender key, or does not cover this meta and the SHA-256 of this JWE.',
  },
  ERR_DECRYPTION_FAILED: {
    area: 'envelope',
    retryable: false,
    description:
      'The JWE is encrypted to a key the recipient does not hold, or does not decrypt (tag mismatch).',
  },
  ERR_SIGNATURE_INVALID: {
    area: 'envelope',
    retryable: false,
    description:
      'The inner JWS (or a receipt/checkpoint JWS) is not a valid ES256 signature by the expected participant.',
  },
  ERR_META_MISMATCH: {
    area: 'envelope',
    retryable: false,
    description: 'The meta signed inside the JWE differs from the clear meta.',
  },
  ERR_WRONG_RECIPIENT: {
    area: 'envelope',
    retryable: false,
    description: 'The envelope is addressed (meta.recipient) to another participant than the one opening it.',
  },
  ERR_NOT_FRESH: {
    area: 'envelope',
    retryable: false,
    description:
      'issuedAt is outside the freshness window around the receiver clock (default 15 minutes each way).',
  },

  // --- directory (packages/directory) ---
  ERR_DIRECTORY_ENTRY_INVALID: {
    area: 'directory',
    retryable: false,
    description:
      'A directory entry is not signed by the trust anchor, is malformed (kind, keys, private members, version), or is stored under another id; it is ignored.',
  },
  ERR_DIRECTORY_ROLLBACK: {
    area: 'directory',
    retryable: false,
    description:
      'A directory entry signed by the trust anchor is older (by version, then date) than the one this host has accepted for the participant, in this process or before a restart (its directory state file): an earlier entry put back, e.g. one from before a key was revoked. It is refused and reported with both versions; the accepted entry stays in use.',
  },
  ERR_DIRECTORY_FILE_INVALID: {
    area: 'directory',
    retryable: false,
    description:
      'A directory export file is not JSON, not in the passerelle-directory format, or holds an entry the anchor did not sign.',
  },
  ERR_KEY_FILE_INVALID: {
    area: 'directory',
    retryable: false,
    description:
      'A key or anchor file cannot be read, is not the expected JWK form, or (for a private key) is readable by group or others.',
  },

  // --- contracts and schemas (packages/contracts) ---
  ERR_CONTRACT_FILE_INVALID: {
    area: 'contracts',
    retryable: false,
    description:
      'The exchange agreement or a message schema fails its checks at start-up; the message names the file and the JSON path.',
  },
  ERR_CONTRACT_FORBIDDEN: {
    area: 'contracts',
    retryable: false,
    description:
      'The agreement does not allow this sender kind to send this type, or this recipient kind to receive it.',
  },
  ERR_SCHEMA_INVALID: {
    area: 'contracts',
    retryable: false,
    description:
      "A payload fails its message schema; details.errors lists ajv's paths and keywords (never the values).",
  },
  ERR_UNKNOWN_TYPE: {
    area: 'contracts',
    retryable: false,
    description: 'The message type is not in the exchange agreement.',
  },
  ERR_UNKNOWN_SCHEMA_VERSION: {
    area: 'contracts',
    retryable: false,
    description: 'The message type exists but has no schema of this version.',
  },
  ERR_DOSSIER_CONTEXT_INVALID: {
    area: 'contracts',
    retryable: false,
    description:
      'The dossier context lacks what routing needs (a participant id, the outcome) or names a participant of the wrong kind.',
  },

  // --- exchange runtime (packages/exchange) ---
  ERR_PUBLISH_FAILED: {
    area: 'exchange',
    retryable: true,
    description:
      'A publish to JetStream still failed after its retries (time-outs, no stream leader, disconnection).',
  },
  ERR_EXCHANGE_CLOSED: {
    area: 'exchange',
    retryable: true,
    description:
      'The exchange or its connection closed: a send asked of a closed exchange, or whose publish was not confirmed before the closing (the cause of ERR_NOT_SENT or ERR_SEND_OUTCOME_UNKNOWN), or awaitReceipt when the exchange stops before the receipt arrives (it is recorded in the outbox whenever it does).',
  },
  ERR_NO_RECIPIENT: {
    area: 'exchange',
    retryable: false,
    description: 'A send without an explicit recipient found none in the contract for the dossier context.',
  },
  ERR_MESSAGE_TOO_LARGE: {
    area: 'exchange',
    retryable: false,
    description:
      'A sealed envelope exceeds the size limit; large documents go to the object store, referenced by hash.',
  },
  ERR_SUBJECT_MISMATCH: {
    area: 'exchange',
    retryable: false,
    description: "A message's subject (type, sender, recipient) differs from the meta inside its envelope.",
  },
  ERR_NO_HANDLER: {
    area: 'exchange',
    retryable: false,
    description: 'The receiving service has no handler for the message type it was sent.',
  },
  ERR_HANDLER_FAILED: {
    area: 'exchange',
    retryable: true,
    description:
      'The handler kept failing until the last delivery; the message can be replayed once the cause is fixed.',
  },
  ERR_DELIVERIES_EXHAUSTED: {
    area: 'exchange',
    retryable: true,
    description:
      'A message was delivered more often than the consumer allows without an outcome (processes stopped while handling it, or its idempotency record or receipt could not be written); it is kept in DEADLETTER and can be replayed.',
  },
  ERR_ALREADY_SUBSCRIBED: {
    area: 'exchange',
    retryable: false,
    description:
      "A participant's exchange already has a subscription to its inbox: one subscription takes every message type (pass all handlers to one subscribe call), since two would share the messages of one consumer.",
  },
  ERR_INTERNAL: {
    area: 'exchange',
    retryable: true,
    description: 'An unexpected failure while processing a message; see the service log by message id.',
  },
  ERR_RECEIPT_INVALID: {
    area: 'exchange',
    retryable: false,
    description:
      'A receipt does not verify: bad signature, wrong type, wrong parties, or it acknowledges other bytes.',
  },
  ERR_RECEIPT_TIMEOUT: {
    area: 'exchange',
    retryable: true,
    description: 'No verified receipt arrived for a sent message within the time asked.',
  },
  ERR_NOT_SENT: {
    area: 'exchange',
    retryable: true,
    description:
      'A send failed before any recipient could hold the message: nothing of it is stored, and it will never be delivered. Sending it again (under any id) is safe. The error names the message id and, as its cause, what failed (the outbox, the stream, the exchange closing).',
  },
  ERR_SEND_OUTCOME_UNKNOWN: {
    area: 'exchange',
    retryable: true,
    description:
      'A send failed after some recipient may have received the message (an answer was lost, or part of a fan-out went out). Send it again with the messageId the error names: the exchange then delivers it exactly once to each recipient.',
  },
  ERR_OUTBOX_UNAVAILABLE: {
    area: 'exchange',
    retryable: true,
    description:
      "The sender's outbox bucket did not answer through its retries (no leader for that long, or unreachable); the cause of ERR_NOT_SENT or ERR_SEND_OUTCOME_UNKNOWN.",
  },
  ERR_OUTBOX_CONFLICT: {
    area: 'exchange',
    retryable: true,
    description:
      'A verified receipt could not be attached to its outbox record, which kept changing; the receipt is redelivered.',
  },
  ERR_NOT_PROVISIONED: {
    area: 'exchange',
    retryable: false,
    description:
      'A participant connecting without provisioning rights finds its consumers, buckets or the document store missing (or not readable with its credentials); the operator provisions them.',
  },
  ERR_DEAD_LETTER_NOT_FOUND: {
    area: 'exchange',
    retryable: false,
    description: 'No dead letter has the given sequence in DEADLETTER.',
  },
  ERR_DEAD_LETTER_NOT_REPLAYABLE: {
    area: 'exchange',
    retryable: false,
    description: 'A dead letter has no original exchange subject to be published to again.',
  },

  ERR_DOSSIER_ERASED: {
    area: 'exchange',
    retryable: false,
    description:
      'The dossier was erased: its key was destroyed (`passerelle dossier erase`), so nothing of it can be sealed or opened any more, nor erased again.',
  },
  ERR_DOSSIER_KEY_UNAVAILABLE: {
    area: 'exchange',
    retryable: false,
    description:
      "This participant holds no copy of the dossier's key (no message of the dossier was sealed to it), or its copy opens with none of its encryption keys.",
  },
  ERR_PAYLOAD_NOT_SEALED: {
    area: 'exchange',
    retryable: false,
    description:
      "A payload is not sealed under its dossier's key, or does not open under it (altered, or another key's), where the exchange seals payloads per dossier.",
  },
  ERR_ERASURE_UNKNOWN_DOSSIER: {
    area: 'exchange',
    retryable: false,
    description:
      'An erasure names a dossier of which no key exists (nothing of it was ever sealed), or an id no envelope can carry.',
  },
  ERR_ERASURE_BASIS_MISSING: {
    area: 'exchange',
    retryable: false,
    description:
      'An erasure must state its legal basis (`--basis`): a reference of 3 to 200 printable characters, without personal data.',
  },
  // --- audit ledger (packages/audit) ---
  ERR_LEDGER_ENTRY_MALFORMED: {
    area: 'audit',
    retryable: false,
    description:
      'A ledger entry (or export line) is not valid JSON or lacks a field of the entry format; details.seq names it.',
  },
  ERR_LEDGER_GAP: {
    area: 'audit',
    retryable: false,
    description:
      'A ledger sequence number is missing or out of order (an entry was removed or moved); details.seq names the first missing one.',
  },
  ERR_LEDGER_HASH_MISMATCH: {
    area: 'audit',
    retryable: false,
    description:
      "A ledger entry's content does not hash to its recorded hash: the entry was altered after it was written.",
  },
  ERR_LEDGER_CHAIN_BROKEN: {
    area: 'audit',
    retryable: false,
    description:
      "A ledger entry's prevHash is not the hash of the entry before it: an entry was altered, removed or inserted.",
  },
  ERR_LEDGER_SEAL_INVALID: {
    area: 'audit',
    retryable: false,
    description:
      "The sender's seal recorded in an envelope entry does not verify against the directory key valid at issuedAt, or does not bind the entry's meta and jweSha256.",
  },
  ERR_LEDGER_RECEIPT_INVALID: {
    area: 'audit',
    retryable: false,
    description:
      "A receipt entry's JWS does not verify against the receiver's key, or its claims differ from the entry.",
  },
  ERR_LEDGER_CHECKPOINT_INVALID: {
    area: 'audit',
    retryable: false,
    description:
      "A checkpoint entry's Merkle root, range or auditor signature does not match the entries it covers.",
  },
  ERR_LEDGER_CONFLICT: {
    area: 'audit',
    retryable: true,
    description:
      'Another writer appended to the ledger first (expected last sequence failed) and retrying did not resolve it.',
  },
  ERR_LEDGER_INPUT_REJECTED: {
    area: 'audit',
    retryable: false,
    description:
      'The auditor refused to record an envelope or receipt whose seal or signature does not verify.',
  },
  ERR_LEDGER_ENVELOPE_STORED_AGAIN: {
    area: 'audit',
    retryable: false,
    description:
      "An envelope already recorded, and receipted by its recipient, was stored on EXCHANGE again (a new copy, not a redelivery): the recipient's idempotency record may be gone, letting it handle the message twice. The auditor records nothing again, logs it as an error and counts it in pex_auditor_replays_total.",
  },
  ERR_LEDGER_NOT_FOUND: {
    area: 'audit',
    retryable: false,
    description: 'No ledger entry (or no checkpoint after it yet) was found for the requested message id.',
  },
  ERR_LEDGER_EXPORT_INVALID: {
    area: 'audit',
    retryable: false,
    description: 'A ledger export file has no valid header line or an unsupported format version.',
  },
  ERR_LEDGER_TIMESTAMP_INVALID: {
    area: 'audit',
    retryable: false,
    description:
      "An RFC 3161 timestamp token in the ledger or an archive does not check: its message imprint, the TSA's signature, the TSA certificate chain to the trust list, or the checkpoints it names; the message names the step.",
  },
  ERR_LEDGER_TSA_FAILED: {
    area: 'audit',
    retryable: true,
    description:
      'The time-stamping authority did not answer, refused the request, or answered with a token that does not check; the auditor retries later with backoff.',
  },
  ERR_LEDGER_UNSIGNED_TAIL: {
    area: 'audit',
    retryable: false,
    description:
      'A ledger export ends on entries no signed checkpoint covers (cut or edited after its last checkpoint); details.seq names the first of them.',
  },
  ERR_LEDGER_ARCHIVE_INVALID: {
    area: 'audit',
    retryable: false,
    description:
      "A ledger archive segment's header, auditor seal, body hash or link to the previous segment does not check, or segments are missing; details.segment names it.",
  },
  ERR_PROOF_INVALID: {
    area: 'audit',
    retryable: false,
    description:
      'An inclusion proof does not check: entry hash, Merkle path, checkpoint signature or seal; the message names the step.',
  },

  // --- a case officer's web page (packages/officer-web) ---
  ERR_OFFICER_SIGN_IN_FAILED: {
    area: 'officer-web',
    retryable: false,
    description:
      "A case officer's sign-in names no enabled account of this body with that password; the page says no more (neither which part was wrong nor whether the account exists) (HTTP 401).",
  },
  ERR_CSRF_TOKEN_INVALID: {
    area: 'officer-web',
    retryable: false,
    description:
      "A form of the case officer's page was posted without the anti-forgery token of the page it came from, or with another one: refused and nothing recorded (HTTP 403).",
  },
  ERR_OFFICER_ACCOUNT_INVALID: {
    area: 'officer-web',
    retryable: false,
    description:
      'An officer account cannot be provisioned or read: its id is not pseudonymous (a prefix and 8 to 32 hexadecimal digits, or a UUID), it exists already or not at all, its password is shorter than 12 characters, or the accounts file is malformed; the message names the entry, never a password.',
  },
  // --- portal (services/portal) ---
  ERR_UNAUTHENTICATED: {
    area: 'portal',
    retryable: false,
    description:
      "Retired: the portal's integrators are its door's clients, refused with ERR_ACCESS_TOKEN_MISSING, ERR_ACCESS_TOKEN_INVALID or ERR_ACCESS_TOKEN_EXPIRED (HTTP 401); kept so that the code never means anything else.",
  },
  ERR_REQUEST_INVALID: {
    area: 'portal',
    retryable: false,
    description:
      "An HTTP request is malformed outside its route's schemas, such as an event stream's Last-Event-ID that names no event (HTTP 400).",
  },
  ERR_DOSSIER_NOT_FOUND: {
    area: 'portal',
    retryable: false,
    description:
      "No dossier of this integrator has this id (HTTP 404); another integrator's dossier is answered the same way.",
  },
  ERR_DOSSIER_CLOSED: {
    area: 'portal',
    retryable: false,
    description:
      'The dossier is closed (decided, refused, inadmissible or ended) and takes no more input (HTTP 409).',
  },
  ERR_IDEMPOTENCY_KEY_REUSED: {
    area: 'portal',
    retryable: false,
    description:
      'An Idempotency-Key was sent again with a different request (method, path or body) than its first use (HTTP 422).',
  },
  ERR_IDEMPOTENCY_IN_PROGRESS: {
    area: 'portal',
    retryable: true,
    description: 'A request with the same Idempotency-Key is still being processed; retry later (HTTP 409).',
  },
  ERR_DOCUMENT_TOO_LARGE: {
    area: 'documents',
    retryable: false,
    description: "An uploaded document is empty or larger than the portal's size limit (HTTP 413).",
  },
  ERR_MEDIA_TYPE_NOT_ALLOWED: {
    area: 'documents',
    retryable: false,
    description:
      "An uploaded document's Content-Type is not in the allow-list (PDF, JPEG, PNG, XML, JSON) (HTTP 415).",
  },
  ERR_DOCUMENT_UNKNOWN: {
    area: 'documents',
    retryable: false,
    description:
      'A document reference names no document uploaded by this integrator, or its hash, size or media type differ from the upload (HTTP 400).',
  },
  ERR_DOCUMENT_INTEGRITY: {
    area: 'documents',
    retryable: false,
    description:
      'A stored document fails decryption or its SHA-256 differs from the reference: it was altered or the key is wrong.',
  },
  ERR_DECISION_DOCUMENT_MISSING: {
    area: 'documents',
    retryable: true,
    description:
      'A decision document a message references (an annex 46, 52…) is not in the decisions store (pex-decisions): its issuer has not stored it. The message is retried, then dead-lettered with this code; replay it once the issuer has stored the document.',
  },
  ERR_DECISION_DOCUMENT_MISMATCH: {
    area: 'documents',
    retryable: false,
    description:
      'A decision document read back from the decisions store states another annex, dossier, issuer or period than the message that references it; details name the fields that differ.',
  },

  // --- procedure and services (packages/procedure, services/*) ---
  ERR_OUT_OF_SEQUENCE: {
    area: 'procedure',
    retryable: false,
    description:
      "A message or desk action does not follow from the dossier's current step (e.g. a visa before the residence grant); details name the dossier step and the message type.",
  },
  ERR_UNKNOWN_DOSSIER: {
    area: 'procedure',
    retryable: false,
    description:
      'A message refers to a dossier this body has never opened (e.g. a visa for an unknown dossier).',
  },
  ERR_DOSSIER_NOT_YET_KNOWN: {
    area: 'procedure',
    retryable: true,
    description:
      'A message from another administration overtook the application it follows; it is redelivered until the application arrives, then dead-lettered.',
  },
  // ERR_DOSSIER_CLOSED (portal section) is also thrown by the services for a message on a closed dossier.
  ERR_DUPLICATE_DECISION: {
    area: 'procedure',
    retryable: false,
    description:
      'A second decision arrived for a step already decided (e.g. a second visa for the same dossier).',
  },
  ERR_NOT_COMPETENT: {
    area: 'procedure',
    retryable: false,
    description:
      'The sender or acting body is not the one the dossier names (e.g. a visa from another consular post).',
  },
  ERR_NIS_CODE_INVALID: {
    area: 'procedure',
    retryable: false,
    description: 'A commune id or NIS code is not the five-digit code of a Belgian commune.',
  },
  ERR_DATE_INVALID: {
    area: 'procedure',
    retryable: false,
    description: 'A calendar date is not a valid RFC 3339 full-date (YYYY-MM-DD).',
  },
  ERR_PERIOD_INVALID: {
    area: 'procedure',
    retryable: false,
    description:
      'A period ends before it starts or exceeds its legal maximum (ICT 3 years, 1 year for trainees; mobility within the first member state permit).',
  },
  ERR_EXTENSION_NOT_ALLOWED: {
    area: 'procedure',
    retryable: false,
    description:
      'An annex 49 extension the law does not allow: a second renewal-pending extension (Art. 33 §6), one after the permit was issued, or one while the residence check is negative (Art. 105/47 §2).',
  },
  ERR_DOSSIER_CONFLICT: {
    area: 'procedure',
    retryable: true,
    description: 'Another instance updated the dossier state at the same time; the message is retried.',
  },
  ERR_STATE_UNREADABLE: {
    area: 'procedure',
    retryable: false,
    description:
      "A service's dossier record does not decrypt with the hosted participant's key (key replaced, or the record altered).",
  },
  ERR_NOT_HOSTED: {
    area: 'procedure',
    retryable: false,
    description: 'A desk action names a participant id this service instance does not host.',
  },
  // --- the administrations' HTTP door (packages/door) ---
  ERR_ACCESS_TOKEN_MISSING: {
    area: 'door',
    retryable: false,
    description:
      'The request to a door has no bearer access token in its Authorization header (HTTP 401, urn:problem-type:belgif:noAccessToken).',
  },
  ERR_ACCESS_TOKEN_INVALID: {
    area: 'door',
    retryable: false,
    description:
      'The bearer access token is malformed, unknown, or belongs to a client that was revoked (HTTP 401, urn:problem-type:belgif:invalidAccessToken).',
  },
  ERR_ACCESS_TOKEN_EXPIRED: {
    area: 'door',
    retryable: false,
    description:
      'The bearer access token has expired: ask the token endpoint for another (HTTP 401, urn:problem-type:belgif:expiredAccessToken).',
  },
  ERR_SCOPE_MISSING: {
    area: 'door',
    retryable: false,
    description:
      'The access token lacks the scope the operation requires (read, decide or admin); the problem lists it in requiredScopes (HTTP 403, urn:problem-type:belgif:missingScope).',
  },
  ERR_CLIENT_AUTHENTICATION_FAILED: {
    area: 'door',
    retryable: false,
    description:
      'The token endpoint could not authenticate the calling system: no HTTP Basic credentials, an unknown client id, a wrong secret or a revoked client (HTTP 401, OAuth 2.0 invalid_client).',
  },
  ERR_GRANT_INVALID: {
    area: 'door',
    retryable: false,
    description:
      'The token request is not a client-credentials grant (grant_type=client_credentials, form-encoded), or asks for a scope the client was not given (HTTP 400, OAuth 2.0 unsupported_grant_type, invalid_request or invalid_scope).',
  },
  ERR_CLIENT_NOT_FOUND: {
    area: 'door',
    retryable: false,
    description: 'No client of this door has this id (HTTP 404).',
  },
  ERR_CLIENT_EXISTS: {
    area: 'door',
    retryable: false,
    description:
      'A client with this id already exists in this door; a revoked id is not given again (HTTP 409).',
  },
  ERR_OFFICER_INVALID: {
    area: 'door',
    retryable: false,
    description:
      'The Passerelle-Officer header is missing on an operation that records who took it, or is not a pseudonymous officer id (a UUID, or a prefix and 8 to 32 hexadecimal digits such as off-3f9a27c1): never a name or an e-mail address (HTTP 400).',
  },
  ERR_IDEMPOTENCY_KEY_MISSING: {
    area: 'door',
    retryable: false,
    description:
      'An action that must be idempotent was sent without an Idempotency-Key header, or with one that is not 1 to 255 visible ASCII characters (HTTP 400).',
  },
  ERR_CURSOR_INVALID: {
    area: 'door',
    retryable: false,
    description:
      'The cursor of a collection page was not made by this door for this collection (altered, truncated or from another list): start again from the first page (HTTP 400).',
  },
  ERR_RATE_LIMITED: {
    area: 'door',
    retryable: true,
    description:
      'Too many requests from this address in the window; the problem and Retry-After say when to try again (HTTP 429, urn:problem-type:belgif:tooManyRequests).',
  },
  ERR_ROUTE_UNGUARDED: {
    area: 'door',
    retryable: false,
    description:
      'A route was added to a door without saying who may call it: its config needs { scope: "read" | "decide" | "admin" } or { public: true } (refused at start-up, and with 403 if it is reached anyway).',
  },
  ERR_EVENT_INVALID: {
    area: 'door',
    retryable: false,
    description:
      'An event does not make a valid CloudEvent for this door: type not <service>.<resourceType>.notify.<pastParticiple>, subject not an opaque resource id, or data that is not JSON; the message names the attribute.',
  },
  ERR_EVENT_NOT_FOUND: {
    area: 'door',
    retryable: false,
    description:
      "The event named (by id or position) is not in the door's event log, or no longer: it was never there or its retention has passed (HTTP 404).",
  },
  ERR_EVENT_LOG_CONFLICT: {
    area: 'door',
    retryable: true,
    description:
      "An event could not be appended after its subject's latest one: other appends to the same subject kept winning through every retry.",
  },
  ERR_WEBHOOK_URL_REFUSED: {
    area: 'door',
    retryable: false,
    description:
      'A webhook URL is not http(s), carries credentials or a fragment, or points at an address the door does not call (link-local and cloud metadata addresses, private or loopback ranges unless configured) (HTTP 400).',
  },
  ERR_SUBSCRIPTION_NOT_FOUND: {
    area: 'door',
    retryable: false,
    description: 'No webhook subscription of this client has this id (HTTP 404).',
  },
  ERR_DELIVERY_NOT_FOUND: {
    area: 'door',
    retryable: false,
    description:
      "The subscription's delivery log has no delivery of this event (never sent to it, or the log's retention has passed) (HTTP 404).",
  },
  ERR_UNKNOWN_ACTION: {
    area: 'procedure',
    retryable: false,
    description:
      "A case officer's action names a step the body's table does not have (e.g. a visa asked of a commune).",
  },
  ERR_ACTION_INPUT_INVALID: {
    area: 'procedure',
    retryable: false,
    description:
      "A case officer's action input fails the action's JSON Schema, or its step id is malformed; details.errors lists the paths and keywords (never the values).",
  },
  ERR_ACTOR_INVALID: {
    area: 'procedure',
    retryable: false,
    description:
      "A case officer's action does not name who takes it: a client id and a pseudonymous officer id (never a name) are required.",
  },
  // --- operator: participant lifecycle (packages/operator) ---
  ERR_REGISTRATION_INVALID: {
    area: 'operator',
    retryable: false,
    description:
      'A registration or rotation request is malformed, not signed by the keys it presents (its signing key and its NATS key), a rotation is not signed by the key the directory holds for the participant, or its certificate request does not name the participant.',
  },
  ERR_PARTICIPANT_STATE: {
    area: 'operator',
    retryable: false,
    description:
      "The participant lifecycle step does not fit the participant's state: approving one already active, rotating or revoking one the operator never approved or already revoked, or a kind the lifecycle does not onboard.",
  },
  ERR_ACCOUNT_UPDATE_REFUSED: {
    area: 'operator',
    retryable: true,
    description:
      "The servers' account resolver refused or did not acknowledge an account JWT the operator pushed ($SYS.REQ.CLAIMS.UPDATE); the message carries the server's reason.",
  },
} as const satisfies Record<string, { area: string; retryable: boolean; description: string }>;

/** Any code of {@link ERROR_CATALOGUE}. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;
