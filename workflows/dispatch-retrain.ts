import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  type IChainable,
  JsonPath,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

export interface RetrainFunctions {
  train: IFunction;
  promote: IFunction;
}

/**
 * 智能派单's retraining run, started by the schedule (or by hand). Train stores a candidate and
 * scores it beside the current model on the same held-back slice; only a candidate that is not
 * worse is promoted. Started with {"promote": "<version>"}, the run promotes that stored version
 * directly: the rollback to the previous model (its version is in the pointer object).
 */
export function dispatchRetrainWorkflow(scope: Construct, fns: RetrainFunctions): IChainable {
  const train = new LambdaInvoke(scope, 'TrainCandidate', {
    lambdaFunction: fns.train,
    // The run's input as it is: {} on schedule, or {"months": n, "epochs": n} by hand.
    payload: TaskInput.fromObject({ options: JsonPath.objectAt('$') }),
    payloadResponseOnly: true,
    resultPath: '$.trained',
    comment: 'Seed corpus + labelled history → candidate (stored, not promoted) and both scores',
    retryOnServiceExceptions: true,
  });
  const promote = (id: string, version: string) =>
    new LambdaInvoke(scope, id, {
      lambdaFunction: fns.promote,
      payload: TaskInput.fromObject({ version }),
      payloadResponseOnly: true,
      resultPath: '$.promoted',
      comment: 'Containers load the promoted model at their next check',
      retryOnServiceExceptions: true,
    });
  const promoted = new Succeed(scope, 'Promoted');
  const refused = new Succeed(scope, 'PromotionRefused', {
    comment: 'The candidate scored worse than the current model: it stays stored, unpromoted',
  });
  const defaults = new Choice(scope, 'RollbackOrTrain')
    .when(
      Condition.isPresent('$.promote'),
      promote('PromoteRequested', JsonPath.stringAt('$.promote')).next(promoted),
    )
    .otherwise(
      train.next(
        new Choice(scope, 'NotWorse')
          .when(
            Condition.booleanEquals('$.trained.notWorse', true),
            promote('PromoteCandidate', JsonPath.stringAt('$.trained.candidate.version')).next(
              promoted,
            ),
          )
          .otherwise(refused),
      ),
    );
  return defaults;
}
