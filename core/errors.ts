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

/** Record keys are sender data (a key could be a phone number): only plain names are shown. */
export function describePathSegment(segment: PropertyKey): string {
  if (typeof segment === 'number') return String(segment);
  const text = String(segment);
  return /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(text) && !/[0-9]{5}/.test(text) ? text : '*';
}

/**
 * Schema failures as field problems that never echo what the sender sent. zod's messages name
 * the expected form, except for unknown keys, whose message lists the sender's own key names.
 */
export function schemaProblems(
  issues: readonly { path: readonly PropertyKey[]; code: string; message: string }[],
  root = '(body)',
): FieldProblem[] {
  return issues.map((issue) => ({
    field: issue.path.map(describePathSegment).join('.') || root,
    problem: issue.code === 'unrecognized_keys' ? 'has fields that are not allowed' : issue.message,
  }));
}
