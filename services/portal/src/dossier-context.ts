import type { DossierContext } from '@passerelle/contracts';

type Json = Record<string, unknown>;

/**
 * The routing facts of an application (no personal data): what the exchange agreement needs to name the
 * recipients of the dossier's messages.
 *
 * @example
 * ```ts
 * dossierContextOf({ category: 'ict', procedure: 'first', regionId: 'region-bruxelles', ict: { scheme: 'transfer' } }, 'portal-wib');
 * // { procedure: 'first', scheme: 'ict', regionId: 'region-bruxelles', portalId: 'portal-wib' }
 * ```
 */
export function dossierContextOf(application: Json, portalId: string): DossierContext {
  const ict = application['ict'] as { scheme?: string } | undefined;
  const scheme: DossierContext['scheme'] = application['familyMemberOf']
    ? 'family'
    : application['category'] !== 'ict'
      ? 'standard'
      : ict?.scheme === 'mobility'
        ? 'ict-mobility'
        : ict?.scheme === 'short-term-mobility'
          ? 'ict-short-term-mobility'
          : 'ict';
  const context: DossierContext = {
    procedure: application['procedure'] === 'renewal' ? 'renewal' : 'first',
    scheme,
    regionId: String(application['regionId']),
    portalId,
  };
  if (typeof application['consularPostId'] === 'string')
    context.consularPostId = application['consularPostId'];
  if (typeof application['residenceCommuneId'] === 'string')
    context.communeId = application['residenceCommuneId'];
  return context;
}
