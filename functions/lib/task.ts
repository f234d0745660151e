import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { ticketIdSchema } from '#core/ticket';
import { logger } from './logger.ts';
import { traced } from './tracer.ts';

export const taskInputSchema = z.object({ ticketId: ticketIdSchema });
export const tokenTaskInputSchema = taskInputSchema.extend({ taskToken: z.string().min(1) });
/** A waiting task also gets the step that sent it there: the ticket version it was decided on. */
export const waitTaskInputSchema = tokenTaskInputSchema.extend({
  step: z.object({ version: z.number().int().nonnegative().optional() }).loose().optional(),
});

/**
 * Wraps a workflow step. Input is validated like any edge; errors propagate so that the state
 * machine's Retry and Catch see them by name.
 */
export function taskHandler<S extends z.ZodType, R>(
  schema: S,
  step: (input: z.infer<S>, context: Context) => Promise<R>,
) {
  return middy<unknown, R>()
    .use(traced())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const input = schema.parse(event);
      if (input && typeof input === 'object' && 'ticketId' in input) {
        logger.appendKeys({ ticketId: (input as { ticketId: string }).ticketId });
      }
      return step(input, context);
    });
}
