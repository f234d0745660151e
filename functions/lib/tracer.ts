import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';

/**
 * X-Ray tracing (the functions run with active tracing). It switches itself off outside Lambda,
 * so the local runtime runs the same code untraced. Responses and errors stay out of the trace:
 * a ticket view or an error message may name a caller.
 */
export const tracer = new Tracer({ serviceName: 'hotline-12345' });

export const traced = () => captureLambdaHandler(tracer, { captureResponse: false });
