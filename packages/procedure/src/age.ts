import { type IsoDate, addYears, dayNumber } from './dates.js';

/** Art. 105/45 §2 5°, 105/56 §2 5°: the age from which a criminal-record extract is required. */
export const CRIMINAL_RECORD_AGE = 18;

/**
 * Whether a person born on `birthDate` is older than eighteen on `on` (the day of the application,
 * Art. 105/45 §2 5°, 105/56 §2 5°). The texts say "âgé de plus de dix-huit ans"; read as having reached
 * the age of majority, the eighteenth birthday counts (PROCEDURE.md). A person born on 29 February is
 * eighteen on 28 February of a common year. An unreadable date counts as adult: the extract is asked for
 * rather than silently waived.
 *
 * @example
 * ```ts
 * isAdultOn('2009-03-01', '2027-03-01'); // true
 * isAdultOn('2009-03-02', '2027-03-01'); // false
 * ```
 */
export function isAdultOn(birthDate: IsoDate, on: IsoDate): boolean {
  try {
    return dayNumber(addYears(birthDate, CRIMINAL_RECORD_AGE)) <= dayNumber(on);
  } catch {
    return true;
  }
}
