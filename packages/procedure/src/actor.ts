/** Who took a person's action: the back office's client and the case officer's pseudonymous id, never a name. */
export interface Actor {
  /** The back-office client (application) the action came through. */
  clientId: string;
  /** The case officer's pseudonymous id within that client. */
  officerId: string;
}
