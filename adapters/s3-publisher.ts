import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BulletinSite } from '#core/bulletin/publishing';

/** The bulletin site in a bucket. Keys are fixed per issue, so rewriting one is idempotent. */
export class S3BulletinSite implements BulletinSite {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        // Index and feed change with every issue; an issue page only if it is republished.
        CacheControl: 'public, max-age=300',
      }),
    );
  }
}
