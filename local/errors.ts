/**
 * Something the machine must provide (a Java runtime, a free port) is missing. The message says
 * what to install or change; start-up code prints it as is, without a stack trace.
 */
export class PrerequisiteError extends Error {
  override readonly name: string = 'PrerequisiteError';
}

export class PortInUseError extends PrerequisiteError {
  override readonly name = 'PortInUseError';

  constructor(
    readonly port: number,
    readonly service: string,
    message: string,
  ) {
    super(message);
  }
}

/** A local service was started but died or never answered. */
export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
}
