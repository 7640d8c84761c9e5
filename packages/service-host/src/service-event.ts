/** What a service reports as it works (demo output, dashboards); never personal data. */
export interface ServiceEvent {
  /** Service name, e.g. `commune`. */
  service: string;
  /** Hosted participant id concerned. */
  participant: string;
  dossierId?: string;
  /**
   * `received`: a message was handled; `sent`: a message was published; `rejected`: a message went to the
   * dead letters (with `code`); `deadline`: a legal deadline was overrun; `notice`: anything else worth showing.
   */
  kind: 'received' | 'sent' | 'rejected' | 'deadline' | 'notice';
  /** Message type or desk action. */
  type?: string;
  /** Error code of a rejection. */
  code?: string;
  /** Short human text (ids, dates, annex numbers; no names). */
  detail?: string;
  /** Other participant (sender of a received message, recipient of a sent one). */
  peer?: string;
  at: string;
}

/** Receives {@link ServiceEvent}s. */
export type ServiceEventListener = (event: ServiceEvent) => void;
