import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { FunctionSpec } from '../functions/registry.ts';

/**
 * What a registry entry's declaration (functions/registry.ts) turns into: the environment
 * variable and the IAM grant for each thing the function reaches, from one place, so that a
 * function can never get the one without the other.
 */
export interface AccessTargets {
  table: ITableV2;
  /** The customer-managed key of table, bucket and secret, when `hotline:kms=true`. */
  key?: IKey;
  bulletins: IBucket;
  /** Versions of the dispatch model (智能派单) and the pointer to the promoted one. */
  dispatchModels: IBucket;
  phoneConfig: ISecret;
  lifecycleArn: string;
  bulletinRunArn: string;
  sesIdentityArn: string;
}

/**
 * Table actions. No Scan (no request or workflow path may scan) and no stream actions: the
 * functions that read the table's stream get those from their event source mapping's grant.
 */
export const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
];
export const TABLE_WRITE_ACTIONS = [
  ...TABLE_READ_ACTIONS,
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
export const WAKE_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure'];

/** The variables each declaration adds to the environment every function shares. */
export function declaredEnvironment(spec: FunctionSpec, t: AccessTargets): Record<string, string> {
  return {
    TABLE_NAME: t.table.tableName,
    ...(spec.starts ? { LIFECYCLE_STATE_MACHINE_ARN: t.lifecycleArn } : {}),
    ...(spec.phone ? { PHONE_CONFIG_SECRET_ARN: t.phoneConfig.secretArn } : {}),
    // Every bulletin function builds the site adapter, so each knows the bucket's name; only
    // `publishes` may write to it.
    ...(spec.bulletin || spec.publishes ? { BULLETIN_BUCKET: t.bulletins.bucketName } : {}),
    ...(spec.dispatchModel || spec.retrain
      ? { DISPATCH_MODEL_BUCKET: t.dispatchModels.bucketName }
      : {}),
  };
}

export function grantDeclared(fn: IGrantable, spec: FunctionSpec, t: AccessTargets): void {
  const write = (spec.table ?? 'write') === 'write';
  const add = (actions: string[], resources: string[]) =>
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
  add(write ? TABLE_WRITE_ACTIONS : TABLE_READ_ACTIONS, [
    t.table.tableArn,
    `${t.table.tableArn}/index/*`,
  ]);
  if (t.key) {
    if (write) t.key.grantEncryptDecrypt(fn);
    else t.key.grantDecrypt(fn);
  }
  if (spec.starts) add(['states:StartExecution'], [t.lifecycleArn]);
  if (spec.wakes === 'lifecycle') add(WAKE_ACTIONS, [t.lifecycleArn]);
  if (spec.wakes === 'bulletin') add(WAKE_ACTIONS, [t.bulletinRunArn]);
  if (spec.phone) t.phoneConfig.grantRead(fn);
  if (spec.publishes) {
    add(['s3:PutObject'], [t.bulletins.arnForObjects('*')]);
    if (t.key) t.key.grantEncrypt(fn);
  }
  if (spec.retrain) t.dispatchModels.grantReadWrite(fn);
  else if (spec.dispatchModel) t.dispatchModels.grantRead(fn);
  if (spec.mails) add(['ses:SendEmail'], [t.sesIdentityArn]);
}
