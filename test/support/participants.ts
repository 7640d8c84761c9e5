// The participant ids the secured-deployment scenarios (test/security, test/faults) play, named once.
/** A consular post: the sender in most scenarios. */
export const POST = 'post-ankara';
/** The Immigration Office: the recipient in most scenarios. */
export const OE = 'immigration-office';
export const REGION = 'region-bruxelles';
export const PORTAL = 'portal-employers';
