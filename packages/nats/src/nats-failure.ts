import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from '@nats-io/nats-core';

/**
 * What a failed NATS request says about the operation it carried:
 * - `closed`: the connection is closed or draining; nothing more will be carried by it;
 * - `unavailable`: nothing answered (no stream or bucket leader at that moment, which nats.js reports as
 *   `JetStreamNotEnabled` around a `NoRespondersError`) or JetStream said it is briefly unable to serve:
 *   the operation did not happen, and may succeed once an election is over;
 * - `unknown`: no answer in time, or the link dropped while waiting: the operation may have happened;
 * - `refused`: the server answered with an error (permission, a JetStream API error), or the caller's own
 *   code refused before asking (a typed error, a wrong argument): it did not happen, and the same request
 *   would be refused again.
 */
export type NatsFailure = 'closed' | 'unavailable' | 'unknown' | 'refused';

/** JetStream API codes of a state that passes (an election, a peer catching up): retried. */
const PASSING_API_CODES: ReadonlySet<number> = new Set([
  10008, // JetStream system temporarily unavailable
  10009, // cluster can not handle request (no leader here)
  10118, // stream is offline
  10119, // consumer is offline
  10163, // expected last sequence per subject temporarily unavailable
  10194, // stream is offline: reason
  10195, // consumer is offline: reason
]);

/** The error and its causes: nats.js wraps no-responders and time-outs in request and JetStream errors. */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    out.push(e);
    e = e.cause;
  }
  return out;
}

/** Classifies a failed NATS or JetStream request by the client's error types, never by their text. */
export function classifyNatsFailure(err: unknown): NatsFailure {
  const chain = causes(err);
  const has = (type: abstract new (...args: never[]) => Error): boolean =>
    chain.some((e) => e instanceof type);
  if (has(ClosedConnectionError) || has(DrainingConnectionError)) return 'closed';
  if (has(PermissionViolationError)) return 'refused';
  if (has(NoRespondersError)) return 'unavailable';
  const api = chain.find((e): e is JetStreamApiError => e instanceof JetStreamApiError);
  if (api) return PASSING_API_CODES.has(api.code) ? 'unavailable' : 'refused';
  // a time-out, a request or connection lost on the way, an answer that did not parse: the outcome is open
  if (has(TimeoutError) || has(RequestError) || has(ConnectionError) || has(JetStreamError)) return 'unknown';
  // anything else is a decision or a mistake of the caller's (a typed refusal, a wrong argument)
  return 'refused';
}

/** Whether a failure may pass by itself, so that the same request is worth sending again. */
export function isPassing(failure: NatsFailure): boolean {
  return failure === 'unavailable' || failure === 'unknown';
}
