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
}

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
export function synthesizeLocal(outdir?: string): LocalAssembly {
  const { app, stack } = buildApp({ bundle: false, ...(outdir ? { outdir } : {}) });
  const template = app.synth().getStackByName(stack.stackName)
    .template as LocalAssembly['template'];
  const functionKeys = new Map<string, FunctionKey>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const key = resource.Metadata?.[FUNCTION_KEY_METADATA];
    if (resource.Type === 'AWS::Lambda::Function' && typeof key === 'string') {
      functionKeys.set(logicalId, key as FunctionKey);
    }
  }

  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const intrinsic = value as Record<string, unknown>;
    if (intrinsic['Fn::Join']) {
      const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
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
  return {
    template,
    stateMachines,
    functionsByArn: new Map([...functionKeys.values()].map((key) => [localFunctionArn(key), key])),
  };
}
