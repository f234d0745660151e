import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { Step } from '#core/lifecycle';
import type { Workflow } from '#core/ports';
import { executionName } from '#core/stalls';

export class StepFunctionsWorkflow implements Workflow {
  constructor(
    private readonly client: SFNClient,
    /** Only the edge starts executions; the workflow's own tasks never need to know the ARN. */
    private readonly lifecycleArn: string | undefined,
  ) {}

  /**
   * The execution is named after the ticket (and the resumption), so a retried start cannot start
   * a second one: `ExecutionAlreadyExists` means this very start happened before. A stalled
   * ticket's execution has ended and its name cannot be reused: it resumes as `<id>-r<n>`.
   */
  async startLifecycle(ticketId: string, attempt = 0, step?: Step): Promise<void> {
    if (!this.lifecycleArn) throw new Error('LIFECYCLE_STATE_MACHINE_ARN is not set');
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.lifecycleArn,
          name: executionName(ticketId, attempt),
          input: JSON.stringify(step ? { ticketId, step } : { ticketId }),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }

  async resume(taskToken: string, output: unknown): Promise<'resumed' | 'stale'> {
    try {
      await this.client.send(
        new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }),
      );
      return 'resumed';
    } catch (error) {
      if (
        error instanceof TaskTimedOut ||
        error instanceof InvalidToken ||
        error instanceof TaskDoesNotExist
      ) {
        return 'stale';
      }
      throw error;
    }
  }
}
