import { S3Client } from '@aws-sdk/client-s3';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { labelledTickets } from '#adapters/dynamodb/dispatch-labels';
import { S3DispatchModelStore } from '#adapters/s3-dispatch-models';
import { now } from '#core/clock';
import type { RetrainDeps } from '#core/dispatch-model/retrain';

let deps: RetrainDeps | undefined;

/** The retraining steps' collaborators: the labelled history in the table, the model bucket. */
export function retrainDeps(): RetrainDeps {
  if (deps) return deps;
  const bucket = process.env.DISPATCH_MODEL_BUCKET;
  if (!bucket) throw new Error('DISPATCH_MODEL_BUCKET is not set');
  const table = tableName();
  deps = {
    models: new S3DispatchModelStore(new S3Client({}), bucket),
    labelled: (months) => labelledTickets(documentClient, table, months),
    now,
  };
  return deps;
}
