import {
  type DossierRecord,
  type IsoDate,
  type OverrunsReported,
  type Period,
  type PostPhase,
  type Refusal,
  type ResidenceDecided,
  type ResidenceGranted,
  type VisaIssued,
  documentNumber,
  refuse,
  visaValidity,
} from '@passerelle/procedure';

/** What a consular post keeps of a dossier: the authorised stay and the visa it issued (no identity). */
export interface PostDossier extends DossierRecord {
  phase: PostPhase;
  stay: Period;
  annex46On: IsoDate;
  /** The day the copy of annex 46 came: the visa is due without delay (absent in records of older releases). */
  receivedOn?: IsoDate;
  visa?: { number: string; issuedOn: IsoDate; validity: Period };
  /** The deadline overruns reported, each once. */
  overruns?: OverrunsReported;
}

/**
 * Art. 105/46 §3 - the copy of annex 46 a post receives: a grant needing a visa, addressed to this post.
 * Anything else is refused: out of sequence (ERR_OUT_OF_SEQUENCE) or not for this post (ERR_NOT_COMPETENT).
 */
export function acceptAnnex46(
  decision: ResidenceDecided,
  postId: string,
  dossierId: string,
): ResidenceGranted | Refusal {
  if (decision.annex !== '46' || !decision.visaRequired) {
    return refuse(
      'ERR_OUT_OF_SEQUENCE',
      `A consular post acts only on an annex 46 needing a visa (dossier ${dossierId}).`,
      { dossierId, step: 'residence-decided', annex: decision.annex },
    );
  }
  if (decision.consularPostId && decision.consularPostId !== postId) {
    return refuse('ERR_NOT_COMPETENT', `The annex 46 of dossier ${dossierId} names another consular post.`, {
      dossierId,
      step: 'residence-decided',
    });
  }
  return decision;
}

/**
 * Art. 105/47 §1 - the long-stay visa (type D), issued without delay on passport and annex 46: valid from
 * issue to the end of the authorised stay, at most one year. The number is derived from the dossier so a
 * replayed step prints the same visa.
 *
 * @example
 * ```ts
 * issueVisa({ from: '2027-04-01', to: '2030-03-31' }, 'D-2027-0001', '2027-03-10'); // { visaType: 'D', validity: { from: '2027-03-10', to: '2028-03-09' }, … }
 * ```
 */
export function issueVisa(stay: Period, dossierId: string, today: IsoDate): VisaIssued {
  return {
    visaType: 'D',
    visaNumber: documentNumber('D', dossierId, 1),
    issuedOn: today,
    validity: visaValidity(today, stay),
  };
}
