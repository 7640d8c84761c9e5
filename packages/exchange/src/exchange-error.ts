import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** An error of the exchange runtime (publish, consume, receipts, dead letters). */
export class ExchangeError<C extends ErrorCode = ErrorCode> extends PasserelleError<C> {}
