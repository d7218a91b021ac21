/**
 * Errors of the serverless service. Each class carries the HTTP status it maps to; the
 * mapping to responses lives in one place ({@link toHttpResponse} in http.ts).
 */

/** Base class: `status` is the HTTP status the error maps to, `code` a stable token. */
export abstract class ServiceError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** The request field the error is about, when there is one (every 4xx names it). */
  readonly field?: string;
}

/** A request field broke a rule. The message names the field and the rule. */
export class ValidationError extends ServiceError {
  override readonly name = 'ValidationError';
  readonly status = 400;
  readonly code = 'invalid_request';
  constructor(
    override readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** Body larger than the configured limit. */
export class PayloadTooLargeError extends ServiceError {
  override readonly name = 'PayloadTooLargeError';
  readonly status = 413;
  readonly code = 'payload_too_large';
  override readonly field = 'body';
  constructor(readonly limitBytes: number) {
    super(`body: must be at most ${limitBytes} bytes`);
  }
}

/** Signature missing, stale, tampered or replayed (Slack, DingTalk). */
export class SignatureError extends ServiceError {
  override readonly name = 'SignatureError';
  readonly status = 401;
  readonly code = 'bad_signature';
}

/** The instance exists but does not carry the opt-in tag. */
export class ForbiddenError extends ServiceError {
  override readonly name = 'ForbiddenError';
  readonly status = 403;
  readonly code = 'forbidden';
}

/** Unknown instance or unknown report id. The message starts with the field (`id: ...`). */
export class NotFoundError extends ServiceError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly code = 'not_found';
  override readonly field: string;
  constructor(message: string) {
    super(message);
    this.field = /^([A-Za-z][\w.]*):/.exec(message)?.[1] ?? 'id';
  }
}

/** A provider that is not enabled in this deployment (e.g. `local` when deployed). */
export class ProviderNotEnabledError extends ServiceError {
  override readonly name = 'ProviderNotEnabledError';
  readonly status = 400;
  readonly code = 'provider_not_enabled';
  override readonly field = 'provider';
  constructor(readonly provider: string) {
    super(`provider: '${provider}' is not enabled in this deployment`);
  }
}

/** Configuration broke a rule at cold start. Never shown to callers in detail. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly rule: string,
  ) {
    super(`configuration ${variable}: ${rule}`);
  }
}

/** A dependency (DynamoDB, SNS, a cloud API) failed; `cause` is kept. */
export class UpstreamError extends ServiceError {
  override readonly name = 'UpstreamError';
  readonly status = 502;
  readonly code = 'upstream_failed';
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} failed`, options);
  }
}
