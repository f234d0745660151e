import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseLifecycleConfig } from '../core/config.ts';
import { HotlineStack } from './stack.ts';

function context(app: App, key: string): string {
  return String(app.node.tryGetContext(key) ?? '');
}

/**
 * Builds the app. `bundle: false` skips esbuild (the local stack and the tests only need the
 * template); `cdk synth` and `cdk deploy` bundle every function.
 */
export function buildApp(
  options: {
    bundle?: boolean;
    nag?: boolean;
    outdir?: string;
    /** CDK context, as `-c key=value` gives it (tests, and the local stack's own settings). */
    context?: Record<string, unknown>;
  } = {},
) {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...options.context,
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  // A customer-managed key for the table is per region, so that choice needs the stack's region.
  const region = context(app, 'hotline:region') || process.env.CDK_DEFAULT_REGION;
  if (context(app, 'hotline:kms') === 'true' && !region) {
    throw new Error('hotline:kms=true needs the region: -c hotline:region=… or CDK_DEFAULT_REGION');
  }
  const stack = new HotlineStack(app, 'Hotline12345', {
    ...(region ? { env: { region, account: process.env.CDK_DEFAULT_ACCOUNT } } : {}),
    mailFrom: context(app, 'hotline:sesFromAddress') || 'no-reply@12345.example.gov.cn',
    centreMail: context(app, 'hotline:centreMail') || 'dispatch@12345.example.gov.cn',
    supervisorMail: context(app, 'hotline:supervisorMail') || 'supervision@12345.example.gov.cn',
    // An invalid configuration stops synthesis, so it can never reach a deployed function.
    lifecycleConfig: parseLifecycleConfig(app.node.tryGetContext('hotline:lifecycleConfig') ?? {}),
    sesConfigurationSet: context(app, 'hotline:sesConfigurationSet') || undefined,
    jwtIssuer: context(app, 'hotline:jwtIssuer') || 'https://id.example.gov.cn',
    jwtAudience: (context(app, 'hotline:jwtAudience') || 'hotline-12345').split(','),
    publicBaseUrl: context(app, 'hotline:publicBaseUrl') || undefined,
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().app.synth();
}
