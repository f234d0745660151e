/**
 * The working-day calendar behind every deadline, reminder and escalation (DOMAIN.md §6).
 *
 * A working day in mainland China is Monday to Friday, minus the public holidays (放假) and plus
 * the weekend days the State Council designates as make-up working days (调休上班). Both change
 * every year, so they are data (data/calendar/cn-holidays.json, validated by
 * `calendarDataSchema`), never code.
 *
 * Conventions, chosen to match how Chinese law counts periods (民法典 arts. 201–203, echoed by the
 * administrative laws) and how hotline rules phrase limits ("N个工作日内办结"):
 *
 * - All day arithmetic is in Asia/Shanghai, whatever the host's TZ. Inputs and outputs are instants.
 * - **Working days.** The intake day is not counted (开始的当日不计入): day 1 is the first working
 *   day after the day of intake, whatever the time of intake, and also when intake falls on a
 *   holiday or weekend. The limit expires at the end of the Nth working day: 24:00 by default
 *   (art. 203: the last day ends at 24:00), or at the close of working hours for cities whose rules
 *   say so (`dueAt: 'endOfWorkingHours'`; art. 203's "有业务时间的，停止业务活动的时间为截止时间").
 *   24:00 is the default because it does not depend on an office-hours setting and never cuts a
 *   unit's day short.
 * - **24:00 belongs to the day it ends.** For counting, day D is the half-open span (00:00, 24:00]
 *   of D. So a deadline fed back in (an extension, a report N working days after the deadline)
 *   continues from its own day, and the arithmetic is exactly additive:
 *   `addWorkingDays(addWorkingDays(t, a), b) = addWorkingDays(t, a + b)`. The price: a ticket
 *   received at exactly 00:00:00.000 counts as received on the previous day. `isWorkingDay`
 *   answers for the calendar day containing an instant (midnight starts a day there); use
 *   `closingDay` to print a deadline's date.
 * - **Working hours** count only time inside the working-hour intervals of working days (default
 *   09:00–12:00 and 13:30–17:30, configurable); counting starts at once if intake is inside one,
 *   otherwise at the next opening; a limit that is used up exactly at a break or at closing time
 *   expires then, not after the break.
 * - **Hours** are natural hours (Beijing's urgent 2 h, water/power 24 h), no calendar involved.
 * - **Outside the covered years** the calendar falls back to Monday–Friday rather than throwing:
 *   a throw inside a ticket's workflow would stall a citizen's ticket over a data-maintenance
 *   task, while the fallback is wrong only around that year's festivals. The fallback is made
 *   visible instead: `deadline()` returns the basis of its result ('official', 'provisional',
 *   'weekdayFallback') and warnings, an `onWarning` callback hears about every use of missing or
 *   provisional years (log it, count it), and `coverage()` lets a start-up check warn ahead.
 */
import * as z from 'zod';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;
/**
 * Asia/Shanghai has been UTC+8 all year since China dropped daylight saving time after 1991, so a
 * fixed offset is exact for every year the calendar data may hold (the schema starts at 1992). It
 * keeps the arithmetic integer-only and independent of the host TZ and of the runtime's tz data.
 */
const SHANGHAI_OFFSET_MS = 8 * MS_PER_HOUR;
/** China's last DST summer was 1991; before it the fixed offset would be wrong. */
const FIRST_SUPPORTED_YEAR = 1992;
/** Bounds the loops: far beyond any hotline limit, far below a hang on a typo like 1e9. */
const MAX_WORKING_DAYS = 100_000;
const MAX_WORKING_HOURS = 500_000;

/** Days since 1970-01-01 in Asia/Shanghai local time. */
type Day = number;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const CLOCK_TIME = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;

function parseIsoDay(text: string): Day | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 2025-02-30 over to March; a round trip exposes it.
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day
  ) {
    return undefined;
  }
  return ms / MS_PER_DAY;
}

function formatDay(day: Day): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

function yearOfDay(day: Day): number {
  return new Date(day * MS_PER_DAY).getUTCFullYear();
}

/** 0 = Sunday … 6 = Saturday; 1970-01-01 was a Thursday. */
function weekdayOf(day: Day): number {
  return (((day + 4) % 7) + 7) % 7;
}

const WEEKDAY_NAMES = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
];

function isWeekend(day: Day): boolean {
  const w = weekdayOf(day);
  return w === 0 || w === 6;
}

/** The calendar day containing the instant: [00:00, 24:00). */
function dayContaining(ms: number): Day {
  return Math.floor((ms + SHANGHAI_OFFSET_MS) / MS_PER_DAY);
}

/** The day whose (00:00, 24:00] holds the instant: 24:00 closes its own day. */
function countingDay(ms: number): Day {
  return Math.ceil((ms + SHANGHAI_OFFSET_MS) / MS_PER_DAY) - 1;
}

function startOfDay(day: Day): number {
  return day * MS_PER_DAY - SHANGHAI_OFFSET_MS;
}

function clockToMs(text: string): number {
  if (text === '24:00') return MS_PER_DAY;
  const [h, m] = text.split(':').map(Number);
  return (h ?? 0) * MS_PER_HOUR + (m ?? 0) * MS_PER_MINUTE;
}

// ---------------------------------------------------------------------------------------------
// Data schema

const isoDateSchema = z.string().superRefine((text, ctx) => {
  if (parseIsoDay(text) === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not a calendar date (expected YYYY-MM-DD)`,
    });
  }
});

const holidaySchema = z
  .strictObject({
    /** E.g. "春节 Spring Festival"; shown in warnings and explanations. */
    name: z.string().min(1),
    start: isoDateSchema,
    /** Inclusive, as the notices write it ("1月28日至2月4日"). */
    end: isoDateSchema,
    note: z.string().min(1).optional(),
  })
  .superRefine((h, ctx) => {
    const start = parseIsoDay(h.start);
    const end = parseIsoDay(h.end);
    if (start !== undefined && end !== undefined && end < start) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `${h.name}: end ${h.end} is before start ${h.start}`,
      });
    }
  });

const makeUpWorkdaySchema = z.strictObject({
  date: isoDateSchema,
  /** The holiday whose bridge this working weekend day pays for. */
  for: z.string().min(1),
});

const sourceSchema = z.strictObject({
  /** The notice's title, e.g. 国务院办公厅关于2025年部分节假日安排的通知. */
  title: z.string().min(1),
  /** E.g. 国办发明电〔2024〕12号; required unless the year is provisional. */
  documentNumber: z.string().min(1).optional(),
  issuedOn: isoDateSchema.optional(),
  url: z.url().optional(),
});

const yearSchema = z
  .strictObject({
    year: z.int().min(FIRST_SUPPORTED_YEAR).max(9999),
    /** True while the year is a best guess (its notice not yet published): results warn. */
    provisional: z.boolean().default(false),
    note: z.string().min(1).optional(),
    source: sourceSchema,
    holidays: z.array(holidaySchema).min(1),
    makeUpWorkdays: z.array(makeUpWorkdaySchema).default([]),
  })
  .superRefine((y, ctx) => {
    if (y.provisional && !y.note) {
      ctx.addIssue({
        code: 'custom',
        path: ['note'],
        message: `${y.year} is provisional: say in "note" how its dates were derived`,
      });
    }
    if (!y.provisional && !y.source.documentNumber) {
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'documentNumber'],
        message: `${y.year} is not provisional: cite the notice's document number (e.g. 国办发明电〔2024〕12号)`,
      });
    }
    // A notice may reach across New Year (the 2024 notice's holiday began on 2023-12-30), but
    // not further: a date months away from its year is a typo.
    const first = Date.UTC(y.year - 1, 11, 1) / MS_PER_DAY;
    const last = Date.UTC(y.year + 1, 0, 31) / MS_PER_DAY;
    const outside = (text: string) => {
      const day = parseIsoDay(text);
      return day !== undefined && (day < first || day > last);
    };
    y.holidays.forEach((h, i) => {
      for (const key of ['start', 'end'] as const) {
        if (outside(h[key])) {
          ctx.addIssue({
            code: 'custom',
            path: ['holidays', i, key],
            message: `${h[key]} is listed under ${y.year} but lies outside it`,
          });
        }
      }
    });
    y.makeUpWorkdays.forEach((m, i) => {
      if (outside(m.date)) {
        ctx.addIssue({
          code: 'custom',
          path: ['makeUpWorkdays', i, 'date'],
          message: `${m.date} is listed under ${y.year} but lies outside it`,
        });
      }
    });
  });

/**
 * The calendar data file. Cross-checks: each year once; no day both a holiday and a make-up
 * working day; no day in two holidays or listed twice as a make-up day; make-up working days fall
 * on a Saturday or Sunday (a weekday is a working day already, so it would be a data error).
 */
export const calendarDataSchema = z
  .strictObject({
    description: z.string().optional(),
    years: z.array(yearSchema).min(1),
  })
  .superRefine((data, ctx) => {
    const seenYears = new Map<number, number>();
    const holidayAt = new Map<Day, string>();
    const makeUpAt = new Map<Day, string>();
    data.years.forEach((y, yi) => {
      const previous = seenYears.get(y.year);
      if (previous !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['years', yi, 'year'],
          message: `year ${y.year} appears twice (entries ${previous} and ${yi})`,
        });
      }
      seenYears.set(y.year, yi);
      y.holidays.forEach((h, hi) => {
        const start = parseIsoDay(h.start);
        const end = parseIsoDay(h.end);
        if (start === undefined || end === undefined) return;
        for (let day = start; day <= end; day++) {
          const other = holidayAt.get(day);
          if (other !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: ['years', yi, 'holidays', hi],
              message: `${formatDay(day)} is in two holidays: ${other} and ${h.name}`,
            });
          }
          holidayAt.set(day, h.name);
        }
      });
      y.makeUpWorkdays.forEach((m, mi) => {
        const day = parseIsoDay(m.date);
        if (day === undefined) return;
        const path = ['years', yi, 'makeUpWorkdays', mi, 'date'];
        if (!isWeekend(day)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `${m.date} is a ${WEEKDAY_NAMES[weekdayOf(day)]}; a make-up working day (调休上班) must be a Saturday or Sunday`,
          });
        }
        if (makeUpAt.has(day)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `${m.date} is listed twice as a make-up working day`,
          });
        }
        makeUpAt.set(day, m.for);
      });
    });
    for (const [day, name] of holidayAt) {
      if (!makeUpAt.has(day)) continue;
      const yi = data.years.findIndex((y) =>
        y.makeUpWorkdays.some((m) => parseIsoDay(m.date) === day),
      );
      const mi = data.years[yi]?.makeUpWorkdays.findIndex((m) => parseIsoDay(m.date) === day) ?? -1;
      ctx.addIssue({
        code: 'custom',
        path: ['years', yi, 'makeUpWorkdays', mi, 'date'],
        message: `${formatDay(day)} is both a holiday (${name}) and a make-up working day`,
      });
    }
  });

export type CalendarData = z.output<typeof calendarDataSchema>;
/** The JSON as written: `provisional` and `makeUpWorkdays` may be left out. */
export type CalendarDataInput = z.input<typeof calendarDataSchema>;

/** Validates calendar data, naming every bad entry in one message (like parseLifecycleConfig). */
export function parseCalendarData(input: unknown): CalendarData {
  const result = calendarDataSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`Invalid calendar data:\n${lines.join('\n')}`);
}

/** Local office hours as HH:MM intervals, in order and not overlapping; "24:00" may end one. */
export const workingHoursSchema = z
  .array(
    z.strictObject({
      start: z.string().regex(CLOCK_TIME, 'expected HH:MM between 00:00 and 24:00'),
      end: z.string().regex(CLOCK_TIME, 'expected HH:MM between 00:00 and 24:00'),
    }),
  )
  .min(1)
  .superRefine((intervals, ctx) => {
    let previousEnd = 0;
    intervals.forEach((interval, i) => {
      if (!CLOCK_TIME.test(interval.start) || !CLOCK_TIME.test(interval.end)) return;
      const start = clockToMs(interval.start);
      const end = clockToMs(interval.end);
      if (end <= start) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `${interval.start}–${interval.end} is empty`,
        });
      } else if (start < previousEnd) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `${interval.start}–${interval.end} starts before the previous interval ends`,
        });
      }
      previousEnd = Math.max(previousEnd, end);
    });
  });
export type WorkingHours = z.infer<typeof workingHoursSchema>;

/** Common government office hours: a lunch break, closing at 17:30. */
export const DEFAULT_WORKING_HOURS: WorkingHours = [
  { start: '09:00', end: '12:00' },
  { start: '13:30', end: '17:30' },
];

// ---------------------------------------------------------------------------------------------
// The calendar

/** Same shape as the lifecycle configuration's time limits. */
export type Duration = { amount: number; unit: 'hours' | 'workingHours' | 'workingDays' };

/**
 * How far a result can be trusted, worst day consulted wins: 'official' (published notices only),
 * 'provisional' (a year built from the statutory days), 'weekdayFallback' (a year with no data).
 */
export type CalendarBasis = 'official' | 'provisional' | 'weekdayFallback';

export interface CalendarWarning {
  kind: 'uncoveredYear' | 'provisionalYear';
  year: number;
  message: string;
}

export interface DeadlineResult {
  due: Date;
  basis: CalendarBasis;
  warnings: CalendarWarning[];
}

export interface CalendarCoverage {
  firstYear: number;
  lastYear: number;
  /** Every year with data, ascending. */
  years: number[];
  provisionalYears: number[];
  /** Years between first and last with no data; they fall back to Monday–Friday too. */
  missingYears: number[];
}

/** When a working-day limit expires on its last day; see the module comment. */
export type DueAt = 'endOfDay' | 'endOfWorkingHours';

export interface WorkingCalendarOptions {
  /** Defaults to DEFAULT_WORKING_HOURS. Used by 'workingHours' limits and 'endOfWorkingHours'. */
  workingHours?: WorkingHours;
  /** Defaults to 'endOfDay' (24:00 Asia/Shanghai). */
  dueAt?: DueAt;
  /** Hears each use of a year that has no data or only provisional data. Must not throw. */
  onWarning?: (warning: CalendarWarning) => void;
}

const BASIS_RANK: Record<CalendarBasis, number> = {
  official: 0,
  provisional: 1,
  weekdayFallback: 2,
};

function requireInstant(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${name} must be a valid Date`);
  return ms;
}

/**
 * A working-day calendar built from validated data. Its operations are arrow-function properties
 * so each can be handed around on its own, e.g. `calendar.addDuration` as lifecycle's AddDuration.
 */
export class WorkingCalendar {
  private readonly holidays = new Map<Day, string>();
  private readonly makeUpWorkdays = new Map<Day, string>();
  private readonly years = new Map<number, { provisional: boolean; note: string | undefined }>();
  /** Milliseconds after local midnight. */
  private readonly intervals: ReadonlyArray<readonly [number, number]>;
  private readonly dueAt: DueAt;
  private readonly onWarning: ((warning: CalendarWarning) => void) | undefined;

  constructor(data: CalendarDataInput, options: WorkingCalendarOptions = {}) {
    // Validated again even when typed: a typed object can still hold 2025-02-30.
    const parsed = parseCalendarData(data);
    for (const y of parsed.years) {
      this.years.set(y.year, { provisional: y.provisional, note: y.note });
      for (const h of y.holidays) {
        const end = parseIsoDay(h.end)!;
        for (let day = parseIsoDay(h.start)!; day <= end; day++) this.holidays.set(day, h.name);
      }
      for (const m of y.makeUpWorkdays) this.makeUpWorkdays.set(parseIsoDay(m.date)!, m.for);
    }
    const hours = workingHoursSchema.safeParse(options.workingHours ?? DEFAULT_WORKING_HOURS);
    if (!hours.success) {
      const lines = hours.error.issues.map(
        (i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`,
      );
      throw new Error(`Invalid working hours:\n${lines.join('\n')}`);
    }
    this.intervals = hours.data.map((i) => [clockToMs(i.start), clockToMs(i.end)] as const);
    this.dueAt = options.dueAt ?? 'endOfDay';
    this.onWarning = options.onWarning;
  }

  /** Whether the Asia/Shanghai calendar day containing `date` (or the day 'YYYY-MM-DD') is a working day. */
  readonly isWorkingDay = (date: Date | string): boolean => {
    let day: Day | undefined;
    if (typeof date === 'string') {
      day = parseIsoDay(date);
      if (day === undefined) throw new RangeError(`"${date}" is not a calendar date (YYYY-MM-DD)`);
    } else {
      day = dayContaining(requireInstant(date, 'date'));
    }
    const seen = new Set<number>();
    const working = this.working(day, seen);
    this.report(seen);
    return working;
  };

  /** Whether `at` falls inside working hours of a working day (an interval's end is outside). */
  readonly isWorkingTime = (at: Date): boolean => {
    const ms = requireInstant(at, 'at');
    const day = dayContaining(ms);
    const seen = new Set<number>();
    const working = this.working(day, seen);
    this.report(seen);
    const offset = ms - startOfDay(day);
    return working && this.intervals.some(([s, e]) => offset >= s && offset < e);
  };

  /**
   * The end of the nth working day after the day of `from` (24:00, or closing time with
   * `dueAt: 'endOfWorkingHours'`). n = 0 returns `from` unchanged, which keeps the law
   * add(add(t, a), b) = add(t, a + b) true for every a, b ≥ 0.
   */
  readonly addWorkingDays = (from: Date, n: number): Date =>
    this.deadline(from, { amount: n, unit: 'workingDays' }).due;

  /** `from` plus `hours` of working time; 0 returns `from` unchanged. */
  readonly addWorkingHours = (from: Date, hours: number): Date =>
    this.deadline(from, { amount: hours, unit: 'workingHours' }).due;

  /** The instant a limit expires; `deadline` gives the same with its basis and warnings. */
  readonly addDuration = (from: Date, duration: Duration): Date =>
    this.deadline(from, duration).due;

  /** The instant a limit expires, with how far that can be trusted. */
  readonly deadline = (from: Date, duration: Duration): DeadlineResult => {
    const start = requireInstant(from, 'from');
    const { amount, unit } = duration;
    if (!Number.isFinite(amount) || amount < 0) {
      throw new RangeError(`a duration needs a finite amount ≥ 0, got ${amount} ${unit}`);
    }
    const seen = new Set<number>();
    let due: number;
    switch (unit) {
      case 'hours':
        due = start + Math.round(amount * MS_PER_HOUR);
        break;
      case 'workingHours':
        if (amount > MAX_WORKING_HOURS)
          throw new RangeError(`${amount} working hours is out of range`);
        due = this.addWorkingTime(start, Math.round(amount * MS_PER_HOUR), seen);
        break;
      case 'workingDays':
        if (!Number.isInteger(amount) || amount > MAX_WORKING_DAYS) {
          throw new RangeError(
            `working days must be a whole number ≤ ${MAX_WORKING_DAYS}, got ${amount}`,
          );
        }
        due = this.addDays(start, amount, seen);
        break;
      default:
        throw new RangeError(`unknown duration unit ${String(unit satisfies never)}`);
    }
    const warnings = this.report(seen);
    let basis: CalendarBasis = 'official';
    for (const year of seen) {
      const b = this.yearStatus(year);
      if (BASIS_RANK[b] > BASIS_RANK[basis]) basis = b;
    }
    return { due: new Date(due), basis, warnings };
  };

  /**
   * Working days in the days after a's day up to and including b's day (days counted as in
   * addWorkingDays, so 24:00 closes its own day); negative when b is before a. The inverse of
   * addWorkingDays: workingDaysBetween(t, addWorkingDays(t, n)) = n. After a deadline, it is the
   * number of working days overdue counting the current one.
   */
  readonly workingDaysBetween = (a: Date, b: Date): number => {
    const from = countingDay(requireInstant(a, 'a'));
    const to = countingDay(requireInstant(b, 'b'));
    const [low, high, sign] = from <= to ? [from, to, 1] : [to, from, -1];
    const seen = new Set<number>();
    let count = 0;
    for (let day = low + 1; day <= high; day++) if (this.working(day, seen)) count++;
    this.report(seen);
    return sign * count || 0;
  };

  readonly coverage = (): CalendarCoverage => {
    const years = [...this.years.keys()].sort((x, y) => x - y);
    const firstYear = years[0]!;
    const lastYear = years[years.length - 1]!;
    const missingYears: number[] = [];
    for (let y = firstYear; y <= lastYear; y++) if (!this.years.has(y)) missingYears.push(y);
    return {
      firstYear,
      lastYear,
      years,
      provisionalYears: years.filter((y) => this.years.get(y)?.provisional),
      missingYears,
    };
  };

  readonly yearStatus = (year: number): CalendarBasis => {
    const entry = this.years.get(year);
    if (!entry) return 'weekdayFallback';
    return entry.provisional ? 'provisional' : 'official';
  };

  private working(day: Day, seen: Set<number>): boolean {
    seen.add(yearOfDay(day));
    if (this.holidays.has(day)) return false;
    if (this.makeUpWorkdays.has(day)) return true;
    return !isWeekend(day);
  }

  private addDays(start: number, n: number, seen: Set<number>): number {
    if (n === 0) return start;
    let day = countingDay(start);
    for (let counted = 0; counted < n; ) {
      day++;
      if (this.working(day, seen)) counted++;
    }
    if (this.dueAt === 'endOfDay') return startOfDay(day + 1);
    return startOfDay(day) + this.intervals[this.intervals.length - 1]![1];
  }

  private addWorkingTime(start: number, ms: number, seen: Set<number>): number {
    if (ms === 0) return start;
    let remaining = ms;
    for (let day = dayContaining(start); ; day++) {
      if (!this.working(day, seen)) continue;
      const base = startOfDay(day);
      for (const [s, e] of this.intervals) {
        const from = Math.max(start, base + s);
        const available = base + e - from;
        if (available <= 0) continue;
        if (remaining <= available) return from + remaining;
        remaining -= available;
      }
    }
  }

  private report(seen: Set<number>): CalendarWarning[] {
    const warnings: CalendarWarning[] = [];
    for (const year of [...seen].sort((x, y) => x - y)) {
      const entry = this.years.get(year);
      if (!entry) {
        warnings.push({
          kind: 'uncoveredYear',
          year,
          message: `No holiday data for ${year}: its working days are taken as Monday to Friday. Add ${year}'s State Council holiday notice to the calendar data.`,
        });
      } else if (entry.provisional) {
        warnings.push({
          kind: 'provisionalYear',
          year,
          message: `Holiday data for ${year} is provisional: deadlines in ${year} may move when the State Council notice is published.`,
        });
      }
    }
    if (this.onWarning) for (const w of warnings) this.onWarning(w);
    return warnings;
  }
}

/** The hotline's calendar day (Asia/Shanghai, UTC+8 all year) of an instant, as YYYY-MM-DD. */
export function shanghaiDate(at: Date | string): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${String(at)}`);
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);
}

/**
 * The Asia/Shanghai date (YYYY-MM-DD) of the day an instant falls in, 24:00 counting as the end of
 * its day: the date to print for a deadline ("reply by 2025-02-05", not 02-06 00:00).
 */
export function closingDay(instant: Date): string {
  return formatDay(countingDay(requireInstant(instant, 'instant')));
}
