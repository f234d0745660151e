import { S3Client } from '@aws-sdk/client-s3';
import { env, perContainer } from '#adapters/function-env';
import { S3DispatchModelStore } from '#adapters/s3-dispatch-models';
import { readSeedModel } from '#adapters/seed-dispatch-model';
import { StoredModelClassifier } from '#core/dispatch-model/classifier';
import { provide } from './deps.ts';
import { logger } from './logger.ts';

/**
 * The dispatch model (智能派单), one per container: the promoted model in DISPATCH_MODEL_BUCKET,
 * else the seed model (a file beside the bundle, read only then). DISPATCH_THRESHOLD overrides
 * the model's own threshold. Imported by the functions that file or classify tickets
 * (`dispatchModel` in the registry) only.
 */
export const topicClassifier = perContainer((): StoredModelClassifier => {
  const bucket = env('DISPATCH_MODEL_BUCKET');
  const threshold = Number(env('DISPATCH_THRESHOLD'));
  return new StoredModelClassifier(
    bucket
      ? new S3DispatchModelStore(
          new S3Client({ forcePathStyle: Boolean(env('AWS_ENDPOINT_URL_S3')) }),
          bucket,
        )
      : undefined,
    readSeedModel,
    {
      ...(threshold > 0 && threshold <= 1 ? { threshold } : {}),
      onError: (error) =>
        logger.warn('dispatch model store unreadable; using the last model loaded', {
          error: (error as Error).name,
        }),
    },
  );
});

provide({ classifier: topicClassifier });
