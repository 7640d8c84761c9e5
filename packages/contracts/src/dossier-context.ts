/** How a dossier is routed: its scheme (see {@link DossierContext.scheme}). */
export type DossierScheme = 'standard' | 'ict' | 'ict-mobility' | 'ict-short-term-mobility' | 'family';

/**
 * What the sender knows of a dossier when it asks whom a message goes to: the procedure, the scheme, the
 * outcome of a decision, and the participant ids the dossier names. Holds no personal data. Every field is
 * optional: routing asks only for what the agreement's rules for the type use, and a missing field that a
 * rule needs is an `ERR_DOSSIER_CONTEXT_INVALID`.
 */
export interface DossierContext {
  /** First application or renewal. */
  procedure?: 'first' | 'renewal';
  /**
   * `ict` (intra-corporate transfer), `ict-mobility` (long-term mobility, no visa),
   * `ict-short-term-mobility` (a notification, Art. 105/43), `family` (a family member's residence
   * application, Art. 26/2 §3, 26/2/1 §3) or `standard`.
   */
  scheme?: DossierScheme;
  /** Region of the place of employment, e.g. `region-bruxelles`. */
  regionId?: string;
  /** The integrator that filed the dossier, e.g. `portal-wib`. */
  portalId?: string;
  /** Consular post competent for the residence abroad, e.g. `post-lagos`. */
  consularPostId?: string;
  /** Commune of residence, e.g. `commune-21004`. */
  communeId?: string;
  /** Outcome of a decision when the agreement routes by it (see `Contracts.outcomeOf`), e.g. `granted`. */
  outcome?: string;
}
