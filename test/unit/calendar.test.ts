import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CalendarDataInput,
  type CalendarWarning,
  calendarDataSchema,
  closingDay,
  parseCalendarData,
  WorkingCalendar,
} from '../../core/calendar.ts';
import raw from '../../data/calendar/cn-holidays.json' with { type: 'json' };

const DAY = 86_400_000;
const calendar = new WorkingCalendar(raw);
const closeOfBusiness = new WorkingCalendar(raw, { dueAt: 'endOfWorkingHours' });

/** An instant written in Beijing time, e.g. cst('2025-01-24 10:00'). */
function cst(local: string): Date {
  return new Date(`${local.replace(' ', 'T')}:00+08:00`);
}

/** 24:00 Asia/Shanghai at the end of a day. */
function endOf(date: string): Date {
  return new Date(cst(`${date} 00:00`).getTime() + DAY);
}

// --- An independent oracle: the tz database through Intl, string dates, day-by-day stepping. ---

const shanghaiDay = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});
const shanghaiClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Shanghai',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
}

const holidayDates = new Set<string>();
const makeUpDates = new Set<string>();
for (const year of raw.years) {
  for (const h of year.holidays) {
    for (let d = h.start; d <= h.end; d = nextDate(d)) holidayDates.add(d);
  }
  for (const m of year.makeUpWorkdays) makeUpDates.add(m.date);
}

function oracleIsWorking(date: string): boolean {
  if (holidayDates.has(date)) return false;
  if (makeUpDates.has(date)) return true;
  const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** The deadline day by the rule "not the intake day; the nth working day after it". */
function oracleDeadlineDay(from: Date, n: number): string {
  // 1 ms earlier puts an instant at exactly 24:00 on the day it closes.
  let date = shanghaiDay.format(new Date(from.getTime() - 1));
  for (let counted = 0; counted < n; ) {
    date = nextDate(date);
    if (oracleIsWorking(date)) counted++;
  }
  return date;
}

// --- Arbitraries: 2024 and 2028 have no data, so the laws are checked on the fallback too. ---

const MIN = Date.parse('2024-11-01T00:00:00+08:00');
const MAX = Date.parse('2028-02-01T00:00:00+08:00');
const anyInstant = fc.integer({ min: MIN, max: MAX }).map((ms) => new Date(ms));
/** Exact midnights and working-hour edges, where off-by-one errors live. */
const edgeInstant = fc
  .tuple(
    fc.integer({ min: Math.floor(MIN / DAY), max: Math.floor(MAX / DAY) }),
    fc.constantFrom('00:00', '09:00', '12:00', '13:30', '17:30', '23:59'),
    fc.constantFrom(-1, 0, 1),
  )
  .map(([day, clock, nudge]) => {
    const date = new Date(day * DAY).toISOString().slice(0, 10);
    return new Date(cst(`${date} ${clock}`).getTime() + nudge);
  });
const instant = fc.oneof(anyInstant, edgeInstant);
const days = fc.nat({ max: 40 });

describe('calendar data', () => {
  it('parses and matches the notices day for day', () => {
    const data = parseCalendarData(raw);
    const count = (year: number) => {
      const y = data.years.find((e) => e.year === year)!;
      let holidays = 0;
      for (const h of y.holidays) for (let d = h.start; d <= h.end; d = nextDate(d)) holidays++;
      return { holidays, makeUp: y.makeUpWorkdays.length };
    };
    // 2025: 1 + 8 + 3 + 5 + 3 + 8 days off; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7.
    expect(count(2025)).toEqual({ holidays: 28, makeUp: 5 });
    expect(count(2026)).toEqual({ holidays: 33, makeUp: 6 });
    expect(data.years.find((y) => y.year === 2027)?.provisional).toBe(true);
  });

  it('gives every year the 13 statutory days off net of make-up days', () => {
    // Since 2025 the 办法 grants 13 days a year; in-lieu days and 调休 swaps only move them, so
    // (weekdays off) - (weekend days worked) = 13 for official and provisional years alike.
    for (const { year } of raw.years) {
      let weekdaysOff = 0;
      let weekendsWorked = 0;
      for (let d = `${year}-01-01`; d <= `${year}-12-31`; d = nextDate(d)) {
        const weekday = new Date(`${d}T12:00:00Z`).getUTCDay();
        const weekend = weekday === 0 || weekday === 6;
        if (!weekend && !calendar.isWorkingDay(d)) weekdaysOff++;
        if (weekend && calendar.isWorkingDay(d)) weekendsWorked++;
      }
      expect(weekdaysOff - weekendsWorked, `${year}`).toBe(13);
    }
  });

  it('reports coverage, provisional years and gaps', () => {
    expect(calendar.coverage()).toEqual({
      firstYear: 2025,
      lastYear: 2027,
      years: [2025, 2026, 2027],
      provisionalYears: [2027],
      missingYears: [],
    });
    const gappy = new WorkingCalendar({ years: [year(2025), year(2027)] });
    expect(gappy.coverage().missingYears).toEqual([2026]);
    expect(calendar.yearStatus(2026)).toBe('official');
    expect(calendar.yearStatus(2027)).toBe('provisional');
    expect(calendar.yearStatus(2028)).toBe('weekdayFallback');
  });
});

/** A minimal valid year, to break one thing at a time. */
function year(y: number, patch: Record<string, unknown> = {}): CalendarDataInput['years'][number] {
  return {
    year: y,
    source: { title: 'notice', documentNumber: `国办发明电〔${y - 1}〕1号` },
    holidays: [{ name: '元旦 New Year', start: `${y}-01-01`, end: `${y}-01-01` }],
    makeUpWorkdays: [],
    ...patch,
  } as CalendarDataInput['years'][number];
}

function rejection(input: unknown): string {
  try {
    parseCalendarData(input);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the data to be rejected');
}

describe('calendar data schema', () => {
  it('rejects a date that does not exist', () => {
    const message = rejection({
      years: [year(2025, { holidays: [{ name: 'x', start: '2025-02-30', end: '2025-03-01' }] })],
    });
    expect(message).toContain('Invalid calendar data');
    expect(message).toContain('years.0.holidays.0.start: "2025-02-30" is not a calendar date');
  });

  it('rejects a malformed date', () => {
    const message = rejection({
      years: [year(2025, { makeUpWorkdays: [{ date: '2025/1/26', for: 'x' }] })],
    });
    expect(message).toContain('years.0.makeUpWorkdays.0.date: "2025/1/26" is not a calendar date');
  });

  it('rejects a day that is both a holiday and a make-up working day', () => {
    const message = rejection({
      years: [
        year(2025, {
          holidays: [{ name: '春节 Spring Festival', start: '2025-01-28', end: '2025-02-04' }],
          makeUpWorkdays: [{ date: '2025-02-01', for: '春节 Spring Festival' }],
        }),
      ],
    });
    expect(message).toContain(
      'years.0.makeUpWorkdays.0.date: 2025-02-01 is both a holiday (春节 Spring Festival) and a make-up working day',
    );
  });

  it('rejects a make-up working day on a weekday', () => {
    const message = rejection({
      years: [year(2025, { makeUpWorkdays: [{ date: '2025-01-27', for: 'x' }] })],
    });
    expect(message).toContain(
      '2025-01-27 is a Monday; a make-up working day (调休上班) must be a Saturday or Sunday',
    );
  });

  it('rejects reversed ranges, overlaps, duplicates and strays', () => {
    expect(
      rejection({
        years: [year(2025, { holidays: [{ name: 'x', start: '2025-05-05', end: '2025-05-01' }] })],
      }),
    ).toContain('x: end 2025-05-01 is before start 2025-05-05');
    expect(
      rejection({
        years: [
          year(2025, {
            holidays: [
              { name: 'a', start: '2025-10-01', end: '2025-10-08' },
              { name: 'b', start: '2025-10-06', end: '2025-10-06' },
            ],
          }),
        ],
      }),
    ).toContain('2025-10-06 is in two holidays: a and b');
    expect(rejection({ years: [year(2025), year(2025)] })).toContain('year 2025 appears twice');
    expect(
      rejection({
        years: [year(2027, { holidays: [{ name: 'x', start: '2026-06-01', end: '2026-06-01' }] })],
      }),
    ).toContain('2026-06-01 is listed under 2027 but lies outside it');
  });

  it('accepts a notice that reaches across New Year', () => {
    // The 2024 notice: 元旦 2023-12-30 to 2024-01-01.
    const data = {
      years: [year(2024, { holidays: [{ name: '元旦', start: '2023-12-30', end: '2024-01-01' }] })],
    };
    expect(calendarDataSchema.safeParse(data).success).toBe(true);
  });

  it('requires a document number unless provisional, and a note when provisional', () => {
    expect(rejection({ years: [year(2025, { source: { title: 'notice' } })] })).toContain(
      'years.0.source.documentNumber: 2025 is not provisional: cite the notice',
    );
    expect(rejection({ years: [year(2027, { provisional: true })] })).toContain(
      'years.0.note: 2027 is provisional',
    );
  });

  it('rejects misspelt keys rather than ignoring them', () => {
    const { makeUpWorkdays: _, ...rest } = year(2025);
    expect(
      rejection({ years: [{ ...rest, makeupWorkdays: [{ date: '2025-01-26', for: 'x' }] }] }),
    ).toMatch(/years\.0: Unrecognized key.*makeupWorkdays/);
  });

  it('is enforced by the constructor too, and so are working hours', () => {
    expect(() => new WorkingCalendar({ years: [] })).toThrow(/Invalid calendar data/);
    expect(
      () => new WorkingCalendar(raw, { workingHours: [{ start: '13:00', end: '12:00' }] }),
    ).toThrow(/13:00–12:00 is empty/);
    expect(
      () =>
        new WorkingCalendar(raw, {
          workingHours: [
            { start: '09:00', end: '12:30' },
            { start: '12:00', end: '17:00' },
          ],
        }),
    ).toThrow(/starts before the previous interval ends/);
    expect(
      () => new WorkingCalendar(raw, { workingHours: [{ start: '9:00', end: '17:00' }] }),
    ).toThrow(/HH:MM/);
  });
});

describe('isWorkingDay', () => {
  it.each([
    ['2025-01-24', true], // Friday before Spring Festival
    ['2025-01-25', false], // ordinary Saturday
    ['2025-01-26', true], // Sunday, make-up working day
    ['2025-01-28', false], // 除夕
    ['2025-02-04', false], // last day of the holiday, a Tuesday
    ['2025-02-08', true], // Saturday, make-up
    ['2025-09-28', true],
    ['2025-10-08', false],
    ['2025-10-11', true],
    ['2026-01-04', true],
    ['2026-02-14', true],
    ['2026-02-23', false],
    ['2026-02-28', true],
    ['2026-09-20', true],
    ['2026-10-07', false],
    ['2026-10-10', true],
    ['2027-02-10', false], // provisional in-lieu day
    ['2028-01-03', true], // no data: Monday
    ['2028-01-01', false], // no data: Saturday
  ])('%s → %s', (date, expected) => {
    expect(calendar.isWorkingDay(date)).toBe(expected);
  });

  it('takes the Beijing calendar day of an instant', () => {
    // 2025-01-25T17:00Z is Sunday 01:00 in Beijing: a make-up working day.
    expect(calendar.isWorkingDay(new Date('2025-01-25T17:00:00Z'))).toBe(true);
    expect(calendar.isWorkingDay(new Date('2025-01-25T15:59:59Z'))).toBe(false);
  });

  it('agrees with the oracle on every day from 2024 to 2028', () => {
    for (let d = '2024-01-01'; d <= '2028-12-31'; d = nextDate(d)) {
      expect(calendar.isWorkingDay(d), d).toBe(oracleIsWorking(d));
    }
  });
});

describe('addWorkingDays around Spring Festival', () => {
  it('counts the make-up Sunday before Spring Festival 2025', () => {
    // Fri 24 Jan: day 1 is Sun 26 (make-up), day 2 Mon 27, then 28 Jan–4 Feb off, day 3 Wed 5 Feb.
    const due = calendar.addWorkingDays(cst('2025-01-24 10:00'), 3);
    expect(due).toEqual(endOf('2025-02-05'));
    expect(closingDay(due)).toBe('2025-02-05');
  });

  it('does not depend on the time of intake within the day', () => {
    for (const time of ['00:00:01', '09:00:00', '17:31:00', '23:59:59']) {
      const from = new Date(`2025-01-24T${time}+08:00`);
      expect(calendar.addWorkingDays(from, 3), time).toEqual(endOf('2025-02-05'));
    }
  });

  it('treats intake at exactly midnight as the end of the previous day', () => {
    // 00:00 Mon 27 Jan is 24:00 Sun 26 Jan, so Mon 27 is day 1.
    expect(calendar.addWorkingDays(cst('2025-01-27 00:00'), 1)).toEqual(endOf('2025-01-27'));
    expect(calendar.addWorkingDays(new Date(cst('2025-01-27 00:00').getTime() + 1), 1)).toEqual(
      endOf('2025-02-05'),
    );
  });

  it('starts counting after the holiday when intake falls inside it', () => {
    expect(calendar.addWorkingDays(cst('2025-01-30 15:00'), 1)).toEqual(endOf('2025-02-05'));
    expect(calendar.addWorkingDays(cst('2025-01-30 15:00'), 2)).toEqual(endOf('2025-02-06'));
    // Feb 5, 6, 7, Sat 8 (make-up), Mon 10.
    expect(calendar.addWorkingDays(cst('2025-02-04 23:00'), 5)).toEqual(endOf('2025-02-10'));
  });

  it('counts both make-up Saturdays of Spring Festival 2026', () => {
    expect(calendar.addWorkingDays(cst('2026-02-13 16:00'), 1)).toEqual(endOf('2026-02-14'));
    expect(calendar.addWorkingDays(cst('2026-02-13 16:00'), 2)).toEqual(endOf('2026-02-24'));
    expect(calendar.addWorkingDays(cst('2026-02-12 09:00'), 3)).toEqual(endOf('2026-02-24'));
    // A Guangdong complaint (15 working days) dispatched Tue 10 Feb 2026: 11, 12, 13, Sat 14,
    // 24, 25, 26, 27, Sat 28, 2, 3, 4, 5, 6 March, then Mon 9 March.
    expect(calendar.addWorkingDays(cst('2026-02-10 11:00'), 15)).toEqual(endOf('2026-03-09'));
  });
});

describe('addWorkingDays around National Day', () => {
  it('2025: make-up Sunday 28 Sep and Saturday 11 Oct count, 1–8 Oct do not', () => {
    const friday = cst('2025-09-26 18:00');
    expect(calendar.addWorkingDays(friday, 1)).toEqual(endOf('2025-09-28'));
    expect(calendar.addWorkingDays(friday, 2)).toEqual(endOf('2025-09-29'));
    expect(calendar.addWorkingDays(friday, 3)).toEqual(endOf('2025-09-30'));
    expect(calendar.addWorkingDays(friday, 4)).toEqual(endOf('2025-10-09'));
    expect(calendar.addWorkingDays(friday, 6)).toEqual(endOf('2025-10-11'));
    expect(calendar.addWorkingDays(cst('2025-10-03 10:00'), 1)).toEqual(endOf('2025-10-09'));
  });

  it('2026: Mid-Autumn and National Day with make-up Sunday 20 Sep and Saturday 10 Oct', () => {
    const friday = cst('2026-09-18 10:00');
    expect(calendar.addWorkingDays(friday, 1)).toEqual(endOf('2026-09-20'));
    expect(calendar.addWorkingDays(friday, 6)).toEqual(endOf('2026-09-28')); // 25–27 Sep off
    expect(calendar.addWorkingDays(friday, 9)).toEqual(endOf('2026-10-08')); // 1–7 Oct off
    expect(calendar.addWorkingDays(friday, 11)).toEqual(endOf('2026-10-10'));
    expect(calendar.addWorkingDays(friday, 12)).toEqual(endOf('2026-10-12'));
  });

  it('extends a deadline from its own day (延期 by 10 working days)', () => {
    const due = calendar.addWorkingDays(cst('2026-09-18 10:00'), 5); // end of Thu 24 Sep
    expect(due).toEqual(endOf('2026-09-24'));
    expect(calendar.addWorkingDays(due, 10)).toEqual(
      calendar.addWorkingDays(cst('2026-09-18 10:00'), 15),
    );
    // 28, 29, 30 Sep, 8, 9, Sat 10, 12, 13, 14, 15 Oct.
    expect(calendar.addWorkingDays(due, 10)).toEqual(endOf('2026-10-15'));
  });

  it('can end at closing time instead of 24:00', () => {
    expect(closeOfBusiness.addWorkingDays(cst('2025-01-24 10:00'), 3)).toEqual(
      cst('2025-02-05 17:30'),
    );
    expect(closingDay(closeOfBusiness.addWorkingDays(cst('2025-09-26 18:00'), 1))).toBe(
      '2025-09-28',
    );
  });
});

describe('addDuration', () => {
  it('counts working hours across lunch', () => {
    const monday = cst('2025-03-03 11:00');
    expect(calendar.addDuration(monday, { amount: 2, unit: 'workingHours' })).toEqual(
      cst('2025-03-03 14:30'),
    );
    // Used up exactly at the lunch break: due at 12:00, not 13:30.
    expect(calendar.addDuration(monday, { amount: 1, unit: 'workingHours' })).toEqual(
      cst('2025-03-03 12:00'),
    );
    // Received during lunch: counting starts at 13:30.
    expect(
      calendar.addDuration(cst('2025-03-03 12:40'), { amount: 1, unit: 'workingHours' }),
    ).toEqual(cst('2025-03-03 14:30'));
  });

  it('counts working hours across the evening and the weekend', () => {
    expect(calendar.addWorkingHours(cst('2025-03-03 17:00'), 1)).toEqual(cst('2025-03-04 09:30'));
    expect(calendar.addWorkingHours(cst('2025-03-03 20:00'), 2)).toEqual(cst('2025-03-04 11:00'));
    expect(calendar.addWorkingHours(cst('2025-03-07 17:00'), 1)).toEqual(cst('2025-03-10 09:30'));
    // A full day is 7 working hours by default.
    expect(calendar.addWorkingHours(cst('2025-03-03 09:00'), 7)).toEqual(cst('2025-03-03 17:30'));
    expect(calendar.addWorkingHours(cst('2025-03-03 09:00'), 7.5)).toEqual(cst('2025-03-04 09:30'));
  });

  it('works on make-up days and skips holidays in working hours', () => {
    // Fri 24 Jan 16:30: 1 h on Friday, then Sunday 26 Jan (make-up) from 09:00.
    expect(calendar.addWorkingHours(cst('2025-01-24 16:30'), 4)).toEqual(cst('2025-01-26 12:00'));
    expect(calendar.addWorkingHours(cst('2025-01-24 16:30'), 4.5)).toEqual(cst('2025-01-26 14:00'));
    // Received during National Day 2025: the clock starts on Thu 9 Oct.
    expect(calendar.addWorkingHours(cst('2025-10-03 10:00'), 2)).toEqual(cst('2025-10-09 11:00'));
  });

  it('takes working hours from the options', () => {
    const simple = new WorkingCalendar(raw, { workingHours: [{ start: '09:00', end: '17:00' }] });
    expect(simple.addWorkingHours(cst('2025-03-03 11:00'), 2)).toEqual(cst('2025-03-03 13:00'));
    expect(simple.addWorkingHours(cst('2025-03-03 16:00'), 8)).toEqual(cst('2025-03-04 16:00'));
    expect(
      new WorkingCalendar(raw, {
        dueAt: 'endOfWorkingHours',
        workingHours: [{ start: '08:30', end: '17:00' }],
      }).addWorkingDays(cst('2025-03-03 11:00'), 1),
    ).toEqual(cst('2025-03-04 17:00'));
  });

  it('adds natural hours straight through nights and holidays', () => {
    expect(calendar.addDuration(cst('2025-01-28 22:00'), { amount: 2, unit: 'hours' })).toEqual(
      cst('2025-01-29 00:00'),
    );
    expect(calendar.addDuration(cst('2025-01-24 10:00'), { amount: 72, unit: 'hours' })).toEqual(
      cst('2025-01-27 10:00'),
    );
  });

  it('delegates working days and is usable as a detached function', () => {
    const { addDuration } = calendar;
    expect(addDuration(cst('2025-01-24 10:00'), { amount: 3, unit: 'workingDays' })).toEqual(
      endOf('2025-02-05'),
    );
  });

  it('returns the start for a zero amount', () => {
    const from = cst('2025-01-25 03:00');
    for (const unit of ['hours', 'workingHours', 'workingDays'] as const) {
      expect(calendar.addDuration(from, { amount: 0, unit })).toEqual(from);
    }
  });

  it('rejects impossible amounts and dates with a RangeError', () => {
    const from = cst('2025-03-03 10:00');
    expect(() => calendar.addDuration(from, { amount: 1.5, unit: 'workingDays' })).toThrow(
      RangeError,
    );
    expect(() => calendar.addDuration(from, { amount: -1, unit: 'hours' })).toThrow(RangeError);
    expect(() => calendar.addDuration(from, { amount: Number.NaN, unit: 'workingHours' })).toThrow(
      RangeError,
    );
    expect(() => calendar.addWorkingDays(new Date('nope'), 1)).toThrow(/valid Date/);
    expect(() => calendar.isWorkingDay('2025-13-01')).toThrow(RangeError);
  });
});

describe('coverage fallback', () => {
  it('flags provisional and uncovered years on the result and through the callback', () => {
    const heard: CalendarWarning[] = [];
    const watched = new WorkingCalendar(raw, { onWarning: (w) => heard.push(w) });

    const official = watched.deadline(cst('2025-01-24 10:00'), { amount: 3, unit: 'workingDays' });
    expect(official).toMatchObject({ basis: 'official', warnings: [] });
    expect(heard).toEqual([]);

    // Wed 30 Dec 2026: Thu 31, then 1 Jan 2027 is a provisional holiday: Mon 4 … Thu 7 Jan.
    const provisional = watched.deadline(cst('2026-12-30 10:00'), {
      amount: 5,
      unit: 'workingDays',
    });
    expect(provisional.due).toEqual(endOf('2027-01-07'));
    expect(provisional.basis).toBe('provisional');
    expect(provisional.warnings).toEqual([
      expect.objectContaining({ kind: 'provisionalYear', year: 2027 }),
    ]);

    // Into 2028, which has no data: Monday to Friday, said so rather than thrown.
    const fallback = watched.deadline(cst('2027-12-30 10:00'), { amount: 5, unit: 'workingDays' });
    expect(fallback.due).toEqual(endOf('2028-01-06'));
    expect(fallback.basis).toBe('weekdayFallback');
    expect(fallback.warnings.map((w) => [w.kind, w.year])).toEqual([
      ['provisionalYear', 2027],
      ['uncoveredYear', 2028],
    ]);
    expect(fallback.warnings[1]?.message).toMatch(/No holiday data for 2028/);
    expect(heard.map((w) => w.year)).toEqual([2027, 2027, 2028]);

    expect(watched.deadline(cst('2030-05-01 10:00'), { amount: 2, unit: 'hours' }).basis).toBe(
      'official',
    );
  });
});

describe('Asia/Shanghai regardless of the host time zone', () => {
  const original = process.env.TZ;
  afterEach(() => {
    process.env.TZ = original;
  });

  it('gives the same answers in New York, Kiritimati and UTC', () => {
    const expected = [
      calendar.addWorkingDays(cst('2025-01-24 23:30'), 3).getTime(),
      calendar.addWorkingHours(cst('2025-01-24 16:30'), 4).getTime(),
      calendar.workingDaysBetween(cst('2025-09-26 18:00'), endOf('2025-10-11')),
    ];
    for (const tz of ['America/New_York', 'Pacific/Kiritimati', 'UTC']) {
      process.env.TZ = tz;
      expect(
        [
          calendar.addWorkingDays(cst('2025-01-24 23:30'), 3).getTime(),
          calendar.addWorkingHours(cst('2025-01-24 16:30'), 4).getTime(),
          calendar.workingDaysBetween(cst('2025-09-26 18:00'), endOf('2025-10-11')),
        ],
        tz,
      ).toEqual(expected);
    }
  });
});

describe('workingDaysBetween', () => {
  it('counts working days after the first day up to the second', () => {
    expect(calendar.workingDaysBetween(cst('2025-01-24 10:00'), endOf('2025-02-05'))).toBe(3);
    expect(calendar.workingDaysBetween(endOf('2025-02-05'), cst('2025-01-24 10:00'))).toBe(-3);
    expect(calendar.workingDaysBetween(cst('2025-01-28 10:00'), cst('2025-02-04 10:00'))).toBe(0);
    // Overdue: a deadline at the end of 5 Feb, now Thu 6 Feb 10:00, is 1 working day late.
    expect(calendar.workingDaysBetween(endOf('2025-02-05'), cst('2025-02-06 10:00'))).toBe(1);
  });
});

describe('laws of addWorkingDays (property-based)', () => {
  it('agrees with the independent oracle, so make-up days count and holidays never end a limit', () => {
    fc.assert(
      fc.property(instant, days, (from, n) => {
        const due = calendar.addWorkingDays(from, n);
        if (n === 0) {
          expect(due).toEqual(from);
          return;
        }
        const day = oracleDeadlineDay(from, n);
        expect(shanghaiDay.format(new Date(due.getTime() - 1))).toBe(day);
        expect(shanghaiClock.format(due)).toBe('00:00:00');
        expect(holidayDates.has(day)).toBe(false);
        expect(oracleIsWorking(day)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('ends on a working-day boundary: 24:00, or closing time with endOfWorkingHours', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 40 }), (from, n) => {
        const due = calendar.addWorkingDays(from, n);
        expect((due.getTime() + 8 * 3_600_000) % DAY).toBe(0);
        expect(calendar.isWorkingDay(closingDay(due))).toBe(true);
        const close = closeOfBusiness.addWorkingDays(from, n);
        expect(shanghaiClock.format(close)).toBe('17:30:00');
        expect(calendar.isWorkingDay(close)).toBe(true);
        expect(closingDay(close)).toBe(closingDay(due));
      }),
    );
  });

  it('is strictly increasing in n', () => {
    fc.assert(
      fc.property(instant, days, days, (from, a, b) => {
        fc.pre(a !== b);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(calendar.addWorkingDays(from, lo).getTime()).toBeLessThan(
          calendar.addWorkingDays(from, hi).getTime(),
        );
      }),
    );
  });

  it('is monotonic in the start', () => {
    fc.assert(
      fc.property(instant, instant, fc.integer({ min: 1, max: 40 }), (x, y, n) => {
        const [early, late] = x <= y ? [x, y] : [y, x];
        for (const cal of [calendar, closeOfBusiness]) {
          expect(cal.addWorkingDays(early, n).getTime()).toBeLessThanOrEqual(
            cal.addWorkingDays(late, n).getTime(),
          );
        }
      }),
    );
  });

  it('is additive: add(add(t, a), b) = add(t, a + b) for all a, b ≥ 0', () => {
    fc.assert(
      fc.property(instant, days, days, (from, a, b) => {
        for (const cal of [calendar, closeOfBusiness]) {
          expect(cal.addWorkingDays(cal.addWorkingDays(from, a), b)).toEqual(
            cal.addWorkingDays(from, a + b),
          );
        }
      }),
    );
  });

  it('is inverted by workingDaysBetween, which is antisymmetric', () => {
    fc.assert(
      fc.property(instant, days, instant, (from, n, other) => {
        expect(calendar.workingDaysBetween(from, calendar.addWorkingDays(from, n))).toBe(n);
        expect(
          closeOfBusiness.workingDaysBetween(from, closeOfBusiness.addWorkingDays(from, n)),
        ).toBe(n);
        expect(calendar.workingDaysBetween(other, from)).toBe(
          0 - calendar.workingDaysBetween(from, other),
        );
        // The largest n whose deadline is not after `other`.
        const k = calendar.workingDaysBetween(from, other);
        if (k > 0) {
          expect(calendar.addWorkingDays(from, k).getTime()).toBeLessThanOrEqual(
            endOf(closingDay(other)).getTime(),
          );
          expect(calendar.addWorkingDays(from, k + 1).getTime()).toBeGreaterThan(other.getTime());
        }
      }),
    );
  });

  it('counts every make-up day: one working day from the day before it lands on it', () => {
    const times = fc.constantFrom('00:00:01', '08:59:59', '12:00:00', '17:30:00', '23:59:59');
    fc.assert(
      fc.property(fc.constantFrom(...makeUpDates), times, (date, time) => {
        const before = new Date(Date.parse(`${date}T${time}+08:00`) - DAY);
        expect(calendar.addWorkingDays(before, 1)).toEqual(endOf(date));
      }),
    );
  });
});

describe('laws of working hours (property-based)', () => {
  const minutes = fc.integer({ min: 0, max: 60 * 40 });
  const wholeMinute = fc
    .integer({ min: MIN / 60_000, max: MAX / 60_000 })
    .map((m) => new Date(m * 60_000));

  /** Minute by minute: working day by the oracle, 09:00–12:00 and 13:30–17:30. */
  function oracleWorkingHours(from: Date, amount: number): Date {
    let t = from.getTime();
    let left = amount;
    while (left > 0) {
      const clock = shanghaiClock.format(new Date(t)).slice(0, 5);
      const open = (clock >= '09:00' && clock < '12:00') || (clock >= '13:30' && clock < '17:30');
      if (open && oracleIsWorking(shanghaiDay.format(new Date(t)))) left--;
      t += 60_000;
    }
    return new Date(t);
  }

  it('agrees with a minute-by-minute oracle', () => {
    fc.assert(
      fc.property(wholeMinute, fc.integer({ min: 1, max: 60 * 16 }), (from, m) => {
        expect(calendar.addWorkingHours(from, m / 60)).toEqual(oracleWorkingHours(from, m));
      }),
      { numRuns: 60 },
    );
  });

  it('is additive for whole minutes and never ends outside working time', () => {
    fc.assert(
      fc.property(instant, minutes, minutes, (from, a, b) => {
        const once = calendar.addWorkingHours(from, (a + b) / 60);
        expect(calendar.addWorkingHours(calendar.addWorkingHours(from, a / 60), b / 60)).toEqual(
          once,
        );
        if (a + b > 0) {
          // Inside an interval, or exactly at its end (12:00 or 17:30) of a working day.
          const endOfInterval = ['12:00:00', '17:30:00'].includes(shanghaiClock.format(once));
          expect(
            calendar.isWorkingTime(once) || (endOfInterval && calendar.isWorkingDay(once)),
          ).toBe(true);
        }
      }),
    );
  });

  it('is monotonic in the amount and in the start', () => {
    fc.assert(
      fc.property(instant, instant, minutes, minutes, (x, y, a, b) => {
        const [early, late] = x <= y ? [x, y] : [y, x];
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(calendar.addWorkingHours(x, lo / 60).getTime()).toBeLessThanOrEqual(
          calendar.addWorkingHours(x, hi / 60).getTime(),
        );
        expect(calendar.addWorkingHours(early, a / 60).getTime()).toBeLessThanOrEqual(
          calendar.addWorkingHours(late, a / 60).getTime(),
        );
      }),
    );
  });
});
