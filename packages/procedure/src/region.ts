import { type REGION_IDS } from '@passerelle/directory';
import { ProcedureError } from './procedure-error.js';

/** One of the four regional labour authorities' participant ids. */
export type RegionId = (typeof REGION_IDS)[number];

/** The nine municipalities of the German-speaking Community (NIS codes), all in the province of Liège. */
export const GERMAN_SPEAKING_COMMUNES: Readonly<Record<string, string>> = {
  '63001': 'Amel',
  '63012': 'Büllingen',
  '63013': 'Bütgenbach',
  '63023': 'Eupen',
  '63040': 'Kelmis',
  '63048': 'Lontzen',
  '63061': 'Raeren',
  '63067': 'Sankt Vith',
  '63087': 'Burg-Reuland',
};

/** The nineteen municipalities of the Brussels-Capital Region (NIS 21001–21019). */
export const BRUSSELS_COMMUNES: Readonly<Record<string, string>> = {
  '21001': 'Anderlecht',
  '21002': 'Auderghem',
  '21003': 'Berchem-Sainte-Agathe',
  '21004': 'Bruxelles',
  '21005': 'Etterbeek',
  '21006': 'Evere',
  '21007': 'Forest',
  '21008': 'Ganshoren',
  '21009': 'Ixelles',
  '21010': 'Jette',
  '21011': 'Koekelberg',
  '21012': 'Molenbeek-Saint-Jean',
  '21013': 'Saint-Gilles',
  '21014': 'Saint-Josse-ten-Noode',
  '21015': 'Schaerbeek',
  '21016': 'Uccle',
  '21017': 'Watermael-Boitsfort',
  '21018': 'Woluwe-Saint-Lambert',
  '21019': 'Woluwe-Saint-Pierre',
};

/**
 * The NIS code of a commune id (`commune-21004` → `21004`) or of a bare code; throws ERR_NIS_CODE_INVALID.
 */
export function nisCode(communeIdOrCode: string): string {
  const m = /^(?:commune-)?(\d{5})$/.exec(communeIdOrCode);
  if (!m?.[1]) {
    throw new ProcedureError('ERR_NIS_CODE_INVALID', 'A commune is named by its five-digit NIS code.', {
      details: { value: communeIdOrCode.slice(0, 32) },
    });
  }
  return m[1];
}

/**
 * The regional labour authority competent for a place of employment, from its commune's NIS code: the
 * nine German-speaking municipalities → `region-dg`, Brussels-Capital's nineteen → `region-bruxelles`,
 * otherwise the province (first digits): Antwerp 1, Flemish Brabant 23/24, West Flanders 3, East
 * Flanders 4, Limburg 7 → Flanders; Walloon Brabant 25, Hainaut 5, Liège 6, Luxembourg 8, Namur 9 → Wallonia.
 *
 * @example
 * ```ts
 * competentRegion('commune-63023'); // 'region-dg' (Eupen)
 * competentRegion('62063');         // 'region-wallonie' (Liège)
 * ```
 */
export function competentRegion(communeIdOrCode: string): RegionId {
  const nis = nisCode(communeIdOrCode);
  if (nis in GERMAN_SPEAKING_COMMUNES) return 'region-dg';
  if (nis in BRUSSELS_COMMUNES) return 'region-bruxelles';
  const province = nis.slice(0, 2);
  switch (nis[0]) {
    case '1':
    case '3':
    case '4':
    case '7':
      return 'region-vlaanderen';
    case '5':
    case '6':
    case '8':
    case '9':
      return 'region-wallonie';
    case '2':
      if (province === '23' || province === '24') return 'region-vlaanderen';
      if (province === '25') return 'region-wallonie';
      break;
    default:
      break;
  }
  throw new ProcedureError('ERR_NIS_CODE_INVALID', `No Belgian commune has NIS code ${nis}.`, {
    details: { nis },
  });
}
