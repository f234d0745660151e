import type { FunctionKey } from '#functions/registry';
import { buildApp } from '../infra/app.ts';
import { FUNCTION_KEY_METADATA } from '../infra/stack.ts';

export const LOCAL_REGION = 'cn-north-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface SynthesizedStateMachine {
  logicalId: string;
  name: string;
  arn: string;
  definition: Record<string, unknown>;
}

export interface LocalAssembly {
  template: { Resources: Record<string, CfnResource> };
  stateMachines: SynthesizedStateMachine[];
  /** Local function ARN → registry key of its handler. */
  functionsByArn: Map<string, FunctionKey>;
  /**
   * Each function's `Environment.Variables` from the template, with every reference to one of
   * the stack's resources replaced by its local stand-in (`locals`, by resource type: a table's
   * name, a bucket's name, a secret's ARN).
   */
  functionEnvironment(key: FunctionKey, locals: LocalResources): Record<string, string>;
  /** The IAM actions the template's policies allow each function's role (may hold wildcards). */
  functionActions: Map<FunctionKey, string[]>;
}

/**
 * What a `Ref` stands for locally: keyed by a logical id (or its construct-id prefix, for CDK's
 * hashed ids) or by resource type.
 */
export type LocalResources = Partial<Record<string, string>>;

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export function localFunctionArn(key: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${key}`;
}

/**
 * Synthesizes the CDK app (without bundling) and returns its state machines as plain ASL with
 * every Lambda reference pointing at a local function ARN: the local stack runs exactly what the
 * cloud would.
 */
export function synthesizeLocal(
  outdir?: string,
  /** CDK context: the local stack's settings (addresses, base URL), as `-c` would give them. */
  context: Record<string, unknown> = {},
): LocalAssembly {
  const { app, stack } = buildApp({ bundle: false, context, ...(outdir ? { outdir } : {}) });
  const template = app.synth().getStackByName(stack.stackName)
    .template as LocalAssembly['template'];
  const functionKeys = new Map<string, FunctionKey>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const key = resource.Metadata?.[FUNCTION_KEY_METADATA];
    if (resource.Type === 'AWS::Lambda::Function' && typeof key === 'string') {
      functionKeys.set(logicalId, key as FunctionKey);
    }
  }

  const resolve = (value: unknown, locals: LocalResources = {}): string => {
    if (typeof value === 'string') return value;
    const intrinsic = value as Record<string, unknown>;
    if (intrinsic['Fn::Join']) {
      const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => resolve(part, locals)).join(separator);
    }
    const referenced =
      typeof intrinsic.Ref === 'string' ? template.Resources[intrinsic.Ref] : undefined;
    if (referenced) {
      // By the construct's logical id first (several buckets), then by resource type.
      const ref = intrinsic.Ref as string;
      const local =
        locals[ref] ??
        Object.entries(locals).find(([id]) => !id.includes('::') && ref.startsWith(id))?.[1] ??
        locals[referenced.Type];
      if (local !== undefined) return local;
      throw new Error(`no local stand-in for ${referenced.Type} (${intrinsic.Ref})`);
    }
    if (intrinsic['Fn::GetAtt']) {
      const [logicalId, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
      const key = functionKeys.get(logicalId);
      if (key && attribute === 'Arn') return localFunctionArn(key);
      throw new Error(`cannot resolve Fn::GetAtt ${logicalId}.${attribute} locally`);
    }
    if (intrinsic.Ref === 'AWS::Partition') return 'aws';
    if (intrinsic.Ref === 'AWS::Region') return LOCAL_REGION;
    if (intrinsic.Ref === 'AWS::AccountId') return LOCAL_ACCOUNT;
    if (intrinsic.Ref === 'AWS::StackName') return stack.stackName;
    throw new Error(`cannot resolve ${JSON.stringify(value)} locally`);
  };

  const stateMachines = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map(([logicalId, r]) => {
      const name = resolve(r.Properties?.StateMachineName ?? logicalId);
      return {
        logicalId,
        name,
        arn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`,
        definition: JSON.parse(resolve(r.Properties?.DefinitionString)) as Record<string, unknown>,
      };
    });
  const functionLogicalIds = new Map([...functionKeys].map(([id, key]) => [key, id]));
  const functionEnvironment = (key: FunctionKey, locals: LocalResources) => {
    const logicalId = functionLogicalIds.get(key);
    if (!logicalId) throw new Error(`the template has no function ${key}`);
    const variables = (
      template.Resources[logicalId]?.Properties?.Environment as
        | { Variables?: Record<string, unknown> }
        | undefined
    )?.Variables;
    return Object.fromEntries(
      Object.entries(variables ?? {}).map(([name, value]) => [name, resolve(value, locals)]),
    );
  };

  return {
    template,
    functionEnvironment,
    functionActions: policyActions(template, functionLogicalIds),
    stateMachines,
    functionsByArn: new Map([...functionKeys.values()].map((key) => [localFunctionArn(key), key])),
  };
}

/** Every action the template's IAM policies allow each function's execution role. */
function policyActions(
  template: LocalAssembly['template'],
  functions: Map<FunctionKey, string>,
): Map<FunctionKey, string[]> {
  const byRole = new Map<string, string[]>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const document = resource.Properties?.PolicyDocument as {
      Statement: { Effect: string; Action: string | string[] }[];
    };
    const actions = document.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    );
    for (const role of (resource.Properties?.Roles ?? []) as { Ref: string }[]) {
      byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...actions]);
    }
  }
  const result = new Map<FunctionKey, string[]>();
  for (const [key, logicalId] of functions) {
    const role = (template.Resources[logicalId]?.Properties?.Role as { 'Fn::GetAtt': string[] })?.[
      'Fn::GetAtt'
    ]?.[0];
    result.set(key, role ? (byRole.get(role) ?? []) : []);
  }
  return result;
}
