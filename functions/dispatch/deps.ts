import { S3Client } from '@aws-sdk/client-s3';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { labelledTickets } from '#adapters/dynamodb/dispatch-labels';
import { env, perContainer, requiredEnv } from '#adapters/function-env';
import { S3DispatchModelStore } from '#adapters/s3-dispatch-models';
import { readSeedModel } from '#adapters/seed-dispatch-model';
import { now } from '#core/clock';
import type { RetrainDeps } from '#core/dispatch-model/retrain';

/**
 * The retraining steps' collaborators: the labelled history in the table, the model bucket, and
 * the seed model the first candidate is compared with.
 */
export const retrainDeps = perContainer(
  (): RetrainDeps => ({
    models: new S3DispatchModelStore(
      // Path-style addressing for S3-compatible local servers, which have no bucket host names.
      new S3Client({ forcePathStyle: Boolean(env('AWS_ENDPOINT_URL_S3')) }),
      requiredEnv('DISPATCH_MODEL_BUCKET'),
    ),
    seed: readSeedModel,
    labelled: (months) => labelledTickets(documentClient, tableName(), months),
    now,
  }),
);
