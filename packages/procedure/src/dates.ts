import { ProcedureError } from './procedure-error.js';

/** A calendar date, RFC 3339 full-date (`YYYY-MM-DD`): the unit of every legal period. */
export type IsoDate = string;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a calendar date; throws ERR_DATE_INVALID for anything but a real date. */
export function dayNumber(date: IsoDate): number {
  const m = DATE_PATTERN.exec(date);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = Date.UTC(y, mo - 1, d);
    const back = new Date(t);
    // Date.UTC rolls 2027-02-30 over to March: a round trip rejects such dates.
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) {
      return t / DAY_MS;
    }
  }
  // the value is not repeated: a date given at a desk may be anything, a name typed in the wrong field
  throw new ProcedureError('ERR_DATE_INVALID', 'A date is not a calendar date (YYYY-MM-DD).');
}

/** The calendar date of a day number (see {@link dayNumber}). */
export function fromDayNumber(day: number): IsoDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The calendar date of an instant in Belgium (Europe/Brussels), the date printed on decisions.
 *
 * @example
 * ```ts
 * toIsoDate(new Date('2027-03-01T23:30:00Z')); // '2027-03-02' (00:30 in Brussels)
 * ```
 */
export function toIsoDate(at: Date): IsoDate {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Brussels',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** `date` plus `days` calendar days (negative goes back). */
export function addDays(date: IsoDate, days: number): IsoDate {
  return fromDayNumber(dayNumber(date) + days);
}

/**
 * `date` plus `years` years; 29 February falls back to 28 February in a common year.
 *
 * @example
 * ```ts
 * addYears('2028-02-29', 1); // '2029-02-28'
 * ```
 */
export function addYears(date: IsoDate, years: number): IsoDate {
  dayNumber(date);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const target = y + years;
  const lastDay = new Date(Date.UTC(target, m, 0)).getUTCDate();
  return `${String(target).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
}

/**
 * `date` plus `months` calendar months; a day the target month lacks falls back to its last day.
 *
 * @example
 * ```ts
 * addMonths('2027-11-30', 3); // '2028-02-29'
 * ```
 */
export function addMonths(date: IsoDate, months: number): IsoDate {
  dayNumber(date);
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return dayNumber(to) - dayNumber(from);
}

/** The earlier of two dates. */
export function minDate(a: IsoDate, b: IsoDate): IsoDate {
  return dayNumber(a) <= dayNumber(b) ? a : b;
}
