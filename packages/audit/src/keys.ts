/**
 * Key types shared with `@passerelle/envelope`: the ledger verifies with the same resolver a directory client
 * or an offline directory file provides.
 */
export type { KeyResolver, PrivateJwk, PublicJwk } from '@passerelle/envelope';
