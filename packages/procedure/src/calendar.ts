import { type IsoDate, addDays, dayNumber, fromDayNumber } from './dates.js';

/** A legal public holiday of Belgium. */
export interface PublicHoliday {
  date: IsoDate;
  name: string;
}

/**
 * Easter Sunday of a Gregorian year, by the anonymous Gregorian computus (Meeus/Jones/Butcher).
 *
 * @example
 * ```ts
 * easterSunday(2027); // '2027-03-28'
 * ```
 */
export function easterSunday(year: number): IsoDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const holidayCache = new Map<number, PublicHoliday[]>();

/**
 * The ten legal public holidays of Belgium in a year (Law of 4 January 1974): New Year, Easter Monday,
 * Labour Day, Ascension, Whit Monday, National Day, Assumption, All Saints, Armistice, Christmas.
 *
 * @example
 * ```ts
 * belgianPublicHolidays(2027).map((h) => h.date); // ['2027-01-01', '2027-03-29', '2027-05-01', …]
 * ```
 */
export function belgianPublicHolidays(year: number): readonly PublicHoliday[] {
  const cached = holidayCache.get(year);
  if (cached) return cached;
  const y = String(year).padStart(4, '0');
  const easter = easterSunday(year);
  const list: PublicHoliday[] = [
    { date: `${y}-01-01`, name: "New Year's Day" },
    { date: addDays(easter, 1), name: 'Easter Monday' },
    { date: `${y}-05-01`, name: 'Labour Day' },
    { date: addDays(easter, 39), name: 'Ascension Day' },
    { date: addDays(easter, 50), name: 'Whit Monday' },
    { date: `${y}-07-21`, name: 'National Day' },
    { date: `${y}-08-15`, name: 'Assumption' },
    { date: `${y}-11-01`, name: "All Saints' Day" },
    { date: `${y}-11-11`, name: 'Armistice Day' },
    { date: `${y}-12-25`, name: 'Christmas Day' },
  ];
  list.sort((p, q) => dayNumber(p.date) - dayNumber(q.date));
  holidayCache.set(year, list);
  return list;
}

/** Whether `date` is a Belgian legal public holiday. */
export function isPublicHoliday(date: IsoDate): boolean {
  const year = Number(date.slice(0, 4));
  return belgianPublicHolidays(year).some((h) => h.date === date);
}

/**
 * Whether `date` is a working day: neither Saturday, Sunday nor a legal public holiday.
 *
 * @example
 * ```ts
 * isWorkingDay('2027-07-21'); // false: National Day
 * ```
 */
export function isWorkingDay(date: IsoDate): boolean {
  // Day 0 (1970-01-01) was a Thursday.
  const weekday = (((dayNumber(date) + 4) % 7) + 7) % 7; // 0 = Sunday
  if (weekday === 0 || weekday === 6) return false;
  return !isPublicHoliday(date);
}

/**
 * The `n`-th working day after `date` (`date` itself not counted): the last day of a period of `n`
 * working days starting the day after `date`. `n = 0` returns `date`.
 *
 * @example
 * ```ts
 * addWorkingDays('2027-07-16', 8); // '2027-07-29': two weekends and 21 July skipped
 * ```
 */
export function addWorkingDays(date: IsoDate, n: number): IsoDate {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('addWorkingDays: n must be a non-negative integer');
  let day = dayNumber(date);
  let left = n;
  while (left > 0) {
    day += 1;
    if (isWorkingDay(fromDayNumber(day))) left -= 1;
  }
  return fromDayNumber(day);
}

/**
 * Working days after `from` up to and including `to` (0 when `to` is not after `from`), so that
 * `workingDaysBetween(d, addWorkingDays(d, n)) === n`.
 *
 * @example
 * ```ts
 * workingDaysBetween('2027-07-16', '2027-07-29'); // 8
 * ```
 */
export function workingDaysBetween(from: IsoDate, to: IsoDate): number {
  const end = dayNumber(to);
  let count = 0;
  for (let day = dayNumber(from) + 1; day <= end; day += 1) {
    if (isWorkingDay(fromDayNumber(day))) count += 1;
  }
  return count;
}
