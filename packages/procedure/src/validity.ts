import { type IsoDate, addMonths, dayNumber } from './dates.js';
import type { Period } from './periods.js';

// Whether a document attached to an application is valid for the period asked: what makes a slot count
// as provided. Unknown or unreadable dates are not valid: the document is asked for again.

/** SBC art. 6 §1 a) i): months a passport must stay valid after the intended departure. */
export const PASSPORT_MARGIN_MONTHS = 3;

/**
 * Art. 105/45 §2 1°, 105/56 §2 1° (Schengen Borders Code art. 6 §1 a)): whether the passport is valid for
 * the period requested, i.e. until three months after its last day (the intended departure). Unknown
 * validity is not valid: the copy of a passport valid long enough is asked for.
 */
export function passportValidFor(expiresOn: IsoDate | undefined, period: Period): boolean {
  if (!expiresOn) return false;
  try {
    return dayNumber(expiresOn) >= dayNumber(addMonths(period.to, PASSPORT_MARGIN_MONTHS));
  } catch {
    return false;
  }
}

/**
 * Art. 105/68: whether the health insurance covers the whole period (its cover's end on or after the
 * period's last day). A proof that does not state its cover's end proves no cover for the whole stay.
 */
export function insuranceCovers(coversUntil: IsoDate | undefined, period: Period): boolean {
  if (!coversUntil) return false;
  try {
    return dayNumber(coversUntil) >= dayNumber(period.to);
  } catch {
    return false;
  }
}

/**
 * Art. 105/56 §2 4° ("en cours de validité"), 105/62 §2: whether the first member state's permit is valid
 * on the day of the application and still on the requested start.
 */
export function firstMemberStatePermitValid(
  validUntil: IsoDate | undefined,
  appliedOn: IsoDate,
  period: Period,
): boolean {
  if (!validUntil) return false;
  try {
    return dayNumber(validUntil) >= Math.max(dayNumber(appliedOn), dayNumber(period.from));
  } catch {
    return false;
  }
}
