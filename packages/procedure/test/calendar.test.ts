import { describe, expect, test } from 'vitest';
import { addWorkingDays } from '../src/index.js';
import { belgianPublicHolidays, easterSunday, isWorkingDay, workingDaysBetween } from '../src/internal.js';

describe('working-day calendar', () => {
  test('calendar - Easter Sunday by the Gregorian computus matches known dates', () => {
    expect(easterSunday(2024)).toBe('2024-03-31');
    expect(easterSunday(2025)).toBe('2025-04-20');
    expect(easterSunday(2026)).toBe('2026-04-05');
    expect(easterSunday(2027)).toBe('2027-03-28');
    expect(easterSunday(2038)).toBe('2038-04-25');
    expect(easterSunday(2285)).toBe('2285-03-22');
  });

  test('calendar - the ten legal public holidays of 2027 (Law of 4 January 1974)', () => {
    expect(belgianPublicHolidays(2027).map((h) => h.date)).toEqual([
      '2027-01-01',
      '2027-03-29',
      '2027-05-01',
      '2027-05-06',
      '2027-05-17',
      '2027-07-21',
      '2027-08-15',
      '2027-11-01',
      '2027-11-11',
      '2027-12-25',
    ]);
  });

  test('calendar - weekends and public holidays are not working days', () => {
    expect(isWorkingDay('2027-07-21')).toBe(false); // National Day, a Wednesday
    expect(isWorkingDay('2027-07-24')).toBe(false); // Saturday
    expect(isWorkingDay('2027-07-25')).toBe(false); // Sunday
    expect(isWorkingDay('2027-07-22')).toBe(true);
    expect(isWorkingDay('2026-04-06')).toBe(false); // Easter Monday 2026
    expect(isWorkingDay('2026-05-14')).toBe(false); // Ascension 2026
    expect(isWorkingDay('2026-05-25')).toBe(false); // Whit Monday 2026
  });

  test('Art. 105/47 §2 - 8 working days after entry skip weekends and 21 July', () => {
    expect(addWorkingDays('2027-07-16', 8)).toBe('2027-07-29');
    expect(workingDaysBetween('2027-07-16', '2027-07-29')).toBe(8);
  });

  test('calendar - 8 working days across Christmas and New Year', () => {
    // Thu 23 Dec 2027: Fri 24, (25-26 weekend+Christmas), 27, 28, 29, 30, 31, (1 Jan holiday, 2 Jan Sunday), 3, 4
    expect(addWorkingDays('2027-12-23', 8)).toBe('2028-01-04');
  });

  test('calendar - workingDaysBetween is the inverse of addWorkingDays', () => {
    for (let n = 0; n < 30; n += 1)
      expect(workingDaysBetween('2027-03-20', addWorkingDays('2027-03-20', n))).toBe(n);
    expect(workingDaysBetween('2027-03-20', '2027-03-01')).toBe(0);
  });

  test('calendar - a malformed date is refused with ERR_DATE_INVALID', () => {
    expect(() => isWorkingDay('2027-02-30')).toThrow(expect.objectContaining({ code: 'ERR_DATE_INVALID' }));
    expect(() => addWorkingDays('27-1-1', 1)).toThrow(expect.objectContaining({ code: 'ERR_DATE_INVALID' }));
  });
});
