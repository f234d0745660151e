import { S3Client } from '@aws-sdk/client-s3';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoBulletinStore } from '#adapters/dynamodb/bulletin-store';
import { documentClient, tableName } from '#adapters/dynamodb/client';
import { env, perContainer, requiredEnv } from '#adapters/function-env';
import { S3BulletinSite } from '#adapters/s3-publisher';
import { SesMailer } from '#adapters/ses-mailer';
import { StepFunctionsWorkflow } from '#adapters/sfn-workflow';
import type { BulletinDeps } from '#core/bulletin/publishing';
import { now } from '#core/clock';
import { newReplyId } from '../lib/deps.ts';

const addresses = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);

/** One transaction holds the issue, its draft, the previous issue and every case. */
const MAX_CASES_LIMIT = 90;

function maxCases(): number {
  const value = Number(env('BULLETIN_MAX_CASES') || 20);
  if (!Number.isInteger(value) || value < 1 || value > MAX_CASES_LIMIT) {
    throw new Error(`BULLETIN_MAX_CASES must be a whole number from 1 to ${MAX_CASES_LIMIT}`);
  }
  return value;
}

/** Built once per container from the environment; only AWS_ENDPOINT_URL_* differ locally. */
export const bulletinDeps = perContainer((): BulletinDeps => {
  const publicBaseUrl = requiredEnv('PUBLIC_BASE_URL').replace(/\/$/, '');
  const siteUrl = (env('BULLETIN_SITE_URL') || `${publicBaseUrl}/bulletins/`).replace(/\/?$/, '/');
  return {
    store: new DynamoBulletinStore(documentClient, tableName()),
    site: new S3BulletinSite(
      // Path-style addressing for S3-compatible local servers, which have no bucket host names.
      new S3Client({ forcePathStyle: Boolean(env('AWS_ENDPOINT_URL_S3')) }),
      requiredEnv('BULLETIN_BUCKET'),
    ),
    mailer: new SesMailer(
      new SESClient({}),
      requiredEnv('MAIL_FROM'),
      env('SES_CONFIGURATION_SET'),
    ),
    workflow: new StepFunctionsWorkflow(new SFNClient({}), undefined),
    config: {
      maxCases: maxCases(),
      reviewers: addresses(env('BULLETIN_REVIEWERS')),
      subscribers: addresses(env('BULLETIN_SUBSCRIBERS')),
      siteUrl,
      draftUrl: (draftId) => `${publicBaseUrl}/bulletin-drafts/${draftId}`,
      reviewUrl: (ticketId, holdId) =>
        `${publicBaseUrl}/bulletin-cases/${ticketId}/review/${holdId}`,
    },
    now,
    newDraftId: newReplyId,
  };
});
