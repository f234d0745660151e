import { Logger } from '@aws-lambda-powertools/logger';
import { perContainer } from '#adapters/function-env';

const ownLogger = perContainer(() => new Logger({ serviceName: 'hotline-12345' }));

/**
 * The running function's logger, one per container. In Lambda that is one per process; locally,
 * where every function runs in one process, one per function (`perContainer`), so the Lambda
 * context a handler adds (`injectLambdaContext`, `addContext`: function name, request id) is its
 * own, not that of whichever function was invoked last. A proxy, so every call site and
 * middleware keeps one import and reaches the invoking function's logger at the call.
 *
 * Handlers log ids, stages and error names only: never a request body, a caller's name or phone
 * number, a token or a secret.
 */
export const logger: Logger = new Proxy(Object.create(Logger.prototype) as Logger, {
  get(_, property) {
    const own = ownLogger();
    const value = Reflect.get(own, property, own);
    return typeof value === 'function' ? value.bind(own) : value;
  },
});
