import type { ApplicationSubmitted } from '@passerelle/procedure';

/**
 * The `ict` of a short-term mobility (Art. 105/43): a specialist already holding a Dutch ICT permit valid
 * until `permitValidUntil`, notified rather than applied for.
 */
export function sampleShortTermMobility(
  permitValidUntil = '2028-06-30',
): NonNullable<ApplicationSubmitted['ict']> {
  return {
    scheme: 'short-term-mobility',
    role: 'specialist',
    priorIctStayInLast3Years: false,
    firstMemberState: {
      country: 'NL',
      permitValidUntil,
      address: { street: 'Keizersgracht 1', postalCode: '1015 CJ', city: 'Amsterdam', country: 'NL' },
    },
  };
}
