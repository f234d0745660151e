import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type DispatchModel, MODEL_FORMAT } from '#core/dispatch-model/model';
import type { DispatchModelStore } from '#core/ports';

const PREFIX = 'dispatch-models';

interface Pointer {
  version: string;
  previous?: string;
  promotedAt: string;
}

/**
 * Dispatch models in a bucket: every version under its own key (never overwritten, so any can be
 * rolled back to) and one small pointer object naming the current one and its predecessor.
 */
export class S3DispatchModelStore implements DispatchModelStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  private async read<T>(key: string): Promise<T | undefined> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return JSON.parse(await object.Body!.transformToString()) as T;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  private async write(key: string, value: unknown): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }

  pointer(): Promise<Pointer | undefined> {
    return this.read<Pointer>(`${PREFIX}/current.json`);
  }

  /**
   * A model in a format this code does not know is refused, not misread: after a rollback of the
   * code, a model promoted by a newer release must not classify with weights it cannot interpret
   * (the classifier then keeps its last model or the seed, and says why).
   */
  async get(version: string): Promise<DispatchModel | undefined> {
    const model = await this.read<DispatchModel>(`${PREFIX}/versions/${version}.json`);
    if (model && model.format !== MODEL_FORMAT) {
      throw new Error(
        `dispatch model ${version} has format ${String(model.format)}, not ${MODEL_FORMAT}`,
      );
    }
    return model;
  }

  put(model: DispatchModel): Promise<void> {
    return this.write(`${PREFIX}/versions/${model.version}.json`, model);
  }

  async promote(version: string, at: Date): Promise<void> {
    const current = await this.pointer();
    if (current?.version === version) return;
    const pointer: Pointer = {
      version,
      ...(current ? { previous: current.version } : {}),
      promotedAt: at.toISOString(),
    };
    await this.write(`${PREFIX}/current.json`, pointer);
  }
}
