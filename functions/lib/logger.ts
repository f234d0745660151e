import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One logger per container. Handlers log ids, stages and error names only: never a request body,
 * a caller's name or phone number, a token or a secret.
 */
export const logger = new Logger({ serviceName: 'hotline-12345' });
