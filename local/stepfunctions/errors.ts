/**
 * Errors of the Step Functions API, named exactly as the service names them: the SDK turns the
 * `__type` of a 400 response into its exception class (`TaskTimedOut`, `InvalidToken`, ...).
 */
export type ApiErrorName =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'InvalidArn'
  | 'InvalidExecutionInput'
  | 'InvalidName'
  | 'InvalidOutput'
  | 'InvalidToken'
  | 'StateMachineDoesNotExist'
  | 'TaskDoesNotExist'
  | 'TaskTimedOut'
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'ValidationException';

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly type: ApiErrorName,
    message: string,
  ) {
    super(message);
  }
}

/** The state machine definition cannot run on this endpoint; raised at start-up, not per request. */
export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
}

/**
 * A task failure handed to the interpreter. It reads `name` for Retry/Catch matching, `message` as
 * the Catch output's `Cause`, and the two `is...` getters (duck-typed) to decide whether the error
 * may be retried or caught at all: `States.Runtime` may be neither.
 */
export class StateFailure extends Error {
  private readonly catchable: boolean;

  constructor(error: string, cause: string, options: { catchable?: boolean } = {}) {
    super(cause);
    this.name = error;
    this.catchable = options.catchable ?? true;
  }

  get isRetryable(): boolean {
    return this.catchable;
  }

  get isCatchable(): boolean {
    return this.catchable;
  }
}

export function runtimeFailure(cause: string): StateFailure {
  return new StateFailure('States.Runtime', cause, { catchable: false });
}

/** Thrown into a running state when its execution is stopped, timed out or the server closes. */
export function abortedFailure(): StateFailure {
  return new StateFailure('States.Aborted', 'the execution was stopped', { catchable: false });
}
