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
    description: 'The NATS server is older than the oldest release Passerelle supports (2.9.0).',
  },
  ERR_NO_STREAM: {
    area: 'runtime',
    retryable: false,
    description:
      'A publish hit a subject no JetStream stream covers (nats-server answers "jetstream is not enabled"); the streams are not provisioned.',
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
      'No nats-server binary was found; install it (apt-get install nats-server) or set PASSERELLE_NATS_SERVER.',
  },
  ERR_NATS_SERVER_START_FAILED: {
    area: 'runtime',
    retryable: true,
    description: 'A local nats-server exited or did not become ready during start-up; its log is included.',
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

  // --- directory (packages/directory) ---

  // --- contracts and schemas (packages/contracts) ---

  // --- exchange runtime (packages/exchange) ---

  // --- audit ledger (packages/audit) ---
} as const satisfies Record<string, { area: string; retryable: boolean; description: string }>;

/** Any code of {@link ERROR_CATALOGUE}. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;
