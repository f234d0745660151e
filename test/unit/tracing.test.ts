import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { httpHandler } from '../../functions/lib/http.ts';
import { taskHandler } from '../../functions/lib/task.ts';
import { tracer } from '../../functions/lib/tracer.ts';

/**
 * In Lambda each invocation must open exactly one "## handler" subsegment and close it, leaving
 * the function's segment current for the next invocation. Tracing is off outside Lambda, so the
 * tracer's segment calls are replaced by a recording segment (the one port this test isolates).
 */
function recordSegments() {
  const opened: { name: string; closed: boolean }[] = [];
  const lambdaSegment = {
    name: 'lambda',
    addNewSubsegment: (name: string) => {
      const sub = {
        name,
        closed: false,
        close() {
          sub.closed = true;
        },
        addNewSubsegment: lambdaSegment.addNewSubsegment,
      };
      opened.push(sub);
      return sub;
    },
  };
  let current: unknown = lambdaSegment;
  vi.spyOn(tracer, 'isTracingEnabled').mockReturnValue(true);
  vi.spyOn(tracer, 'getSegment').mockImplementation(() => current as never);
  vi.spyOn(tracer, 'setSegment').mockImplementation((segment) => {
    current = segment;
  });
  vi.spyOn(tracer, 'annotateColdStart').mockImplementation(() => {});
  vi.spyOn(tracer, 'addServiceNameAnnotation').mockImplementation(() => {});
  vi.spyOn(tracer, 'addErrorAsMetadata').mockImplementation(() => {});
  return { opened, current: () => current, lambdaSegment };
}

const context = { functionName: 'test', awsRequestId: 'r1' } as Context;

describe('X-Ray tracing of a handler', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('an HTTP route opens one handler subsegment per invocation and closes it', async () => {
    const trace = recordSegments();
    const handler = httpHandler(async () => ({ statusCode: 204, headers: {}, body: '' }));
    await handler({} as never, context);
    await handler({} as never, context);
    expect(trace.opened).toHaveLength(2);
    expect(trace.opened.every((s) => s.closed)).toBe(true);
    expect(trace.current()).toBe(trace.lambdaSegment);
  });

  it('a workflow task opens one handler subsegment per invocation and closes it', async () => {
    const trace = recordSegments();
    const handler = taskHandler(z.object({ ticketId: z.string() }), async () => 'done');
    await handler({ ticketId: '20261130-000001' }, context);
    expect(trace.opened).toHaveLength(1);
    expect(trace.opened[0]?.closed).toBe(true);
    expect(trace.current()).toBe(trace.lambdaSegment);
  });
});
