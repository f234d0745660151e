import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** The data set's bucket. Keys are fixed per batch and partition, so a retry overwrites. */
export class S3Dataset {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }
}
