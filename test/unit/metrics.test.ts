import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkingCalendar } from '#core/calendar';
import { type Catalogue, catalogueSchema, routeByCatalogue } from '#core/catalogue';
import { parseLifecycleConfig } from '#core/config';
import { type Context, dispatchTicket, dueDeadlineEvent, openTicket } from '#core/lifecycle';
import { intakeSchema } from '#core/ticket';
import calendarData from '#data/calendar/cn-holidays.json' with { type: 'json' };
import sampleCounty from '#data/sample-county.json' with { type: 'json' };
import {
  countStalled,
  countTransition,
  countWebhookRefused,
  METRICS_NAMESPACE,
  metricOfTransition,
} from '#functions/lib/metrics';

const county: Catalogue = catalogueSchema.parse(sampleCounty);
const units = new Map(county.units.map((u) => [u.id, u]));
const config = parseLifecycleConfig({});
const calendar = new WorkingCalendar(calendarData);
const monday = new Date('2026-11-16T02:00:00Z');
const ctx = (at: Date): Context => ({ at, config, add: calendar.addDuration });
const PHONE = '13912345678';

/** The EMF lines Powertools writes to stdout, which CloudWatch turns into metrics. */
function captureEmf(): { lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  return {
    lines: () =>
      written
        .flatMap((w) => w.split('\n'))
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

afterEach(() => vi.restoreAllMocks());

function filedAndDispatched() {
  const filed = openTicket({
    id: '20261116-000001',
    intake: intakeSchema.parse({
      caller: { name: '王五', phone: PHONE },
      content: '小区停水',
      category: '投诉',
      topic: 'water-supply',
      place: { district: 'qingshan', township: 'chengguan' },
    }),
    actor: { kind: 'operator', id: 'op' },
    at: monday,
  });
  const route = routeByCatalogue(
    county.topics.find((t) => t.id === 'water-supply')!,
    filed.ticket.place,
    units,
  );
  if (route.kind !== 'unit') throw new Error('expected a unit');
  const dispatched = dispatchTicket(
    filed.ticket,
    { lead: route.lead, assist: route.assist, actor: { kind: 'operator', id: 'op' }, reason: 't' },
    ctx(monday),
  );
  return { filed, dispatched };
}

describe('business metrics (embedded metric format)', () => {
  it('names filed, dispatched and overdue tickets from the stored transitions', () => {
    const { filed, dispatched } = filedAndDispatched();
    expect(metricOfTransition(filed)).toBe('TicketsFiled');
    expect(metricOfTransition(dispatched)).toBe('TicketsDispatched');
    let ticket = dispatched.ticket;
    const seen: [string, string | undefined][] = [];
    for (let day = 1; day < 30; day++) {
      const due = dueDeadlineEvent(ticket, ctx(new Date(monday.getTime() + day * 86_400_000)));
      if (!due) continue;
      seen.push([due.history.event, metricOfTransition(due)]);
      ticket = due.ticket;
    }
    // Both overdue events count, and no reminder or report mark does (a day's step passes the
    // sign-for reminder's moment, and a late reminder is skipped).
    expect(seen).toEqual([
      ['sign_overdue', 'TicketsOverdue'],
      ['reminded', undefined],
      ['overdue', 'TicketsOverdue'],
      ['marked_for_report', undefined],
    ]);
  });

  it('writes one EMF count in the Hotline12345 namespace, with no ticket, unit or caller in it', () => {
    const emf = captureEmf();
    const { filed, dispatched } = filedAndDispatched();
    countTransition(filed);
    countTransition(dispatched);
    countStalled();
    countWebhookRefused('signature_mismatch');
    const lines = emf.lines();
    vi.restoreAllMocks();
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const aws = line._aws as { CloudWatchMetrics: { Namespace: string }[] };
      expect(aws.CloudWatchMetrics[0]!.Namespace).toBe(METRICS_NAMESPACE);
      expect(line.service).toBe('hotline-12345');
      const text = JSON.stringify(line);
      for (const secret of [PHONE, '王五', '20261116-000001', 'water-supply']) {
        expect(text).not.toContain(secret);
      }
    }
    expect(
      lines.map((l) =>
        Object.keys(l).find((k) => k.startsWith('Tickets') || k.startsWith('Webhook')),
      ),
    ).toEqual(['TicketsFiled', 'TicketsDispatched', 'TicketsStalled', 'WebhookDeliveriesRefused']);
    expect(lines[3]!.reason).toBe('signature_mismatch');
  });
});
