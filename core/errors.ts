/**
 * Errors the domain and the adapters raise on purpose. The HTTP edge maps each kind to a status
 * code and a JSON body that names the field and the problem; anything else is a 500 with no detail.
 */
export interface FieldProblem {
  field: string;
  problem: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly fields: FieldProblem[];

  constructor(message: string, fields: FieldProblem[] = []) {
    super(message);
    this.name = new.target.name;
    this.fields = fields;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly code = 'invalid_request';
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly code = 'forbidden';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly code = 'not_found';
}

/** The thing exists but is no longer in a state that accepts this request (used reply link…). */
export class GoneError extends DomainError {
  readonly status = 410;
  readonly code = 'gone';
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

export function fieldError(field: string, problem: string): ValidationError {
  return new ValidationError(`${field}: ${problem}`, [{ field, problem }]);
}
