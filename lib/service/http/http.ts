/**
 * HTTP edge helpers for API Gateway HTTP API (payload v2) events: raw body with a size
 * limit, JSON parsing, responses, and the one error -> HTTP mapping every handler uses.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { MiddlewareObj } from '@middy/core';
import httpErrorHandlerMiddleware from '@middy/http-error-handler';
import { PayloadTooLargeError, ServiceError, ValidationError } from '../errors';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** Minimal logger surface (Powertools Logger satisfies it). */
export interface ErrorLog {
  error(message: string, ...extra: unknown[]): void;
}

/**
 * The exact bytes the client sent, as a string. Signature schemes (Slack v0, DingTalk)
 * sign these bytes, so nothing may re-encode them first.
 */
export function rawBody(event: HttpEvent, limitBytes: number): string {
  const body = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > limitBytes) throw new PayloadTooLargeError(limitBytes);
  return bytes.toString('utf8');
}

/** A body declared as something other than JSON is refused by name (an absent type is read as JSON). */
export function requireJsonType(event: HttpEvent): void {
  const type = header(event, 'content-type');
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new ValidationError('content-type', 'must be application/json');
  }
}

/** Parses a JSON body; a syntax error names `body`, never echoes it back. */
export function jsonBody(event: HttpEvent, limitBytes: number): unknown {
  const text = rawBody(event, limitBytes);
  if (text.trim() === '') throw new ValidationError('body', 'must be a JSON object');
  requireJsonType(event);
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('body', 'must be valid JSON');
  }
}

/** Case-insensitive header lookup (API Gateway v2 lower-cases them, local servers may not). */
export function header(event: HttpEvent, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === want) return v;
  return undefined;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** The body every unexpected failure answers with: nothing internal ever leaves. */
const INTERNAL = JSON.stringify({ error: 'internal', message: 'internal error' });

/** An error as @middy/http-error-handler answers it: status, JSON body, exposed. */
interface HttpError {
  statusCode: number;
  message: string;
  expose: boolean;
}

/**
 * The one error -> HTTP mapping. Our errors keep their status and message (they never hold
 * stack traces or secrets) and name their field; anything else becomes a 500 with a generic
 * body, logged in full.
 */
export function toHttpError(err: unknown, log?: ErrorLog): HttpError {
  if (err instanceof ServiceError) {
    // Every 4xx names its field: explicitly, or as the `field: rule` its message starts with.
    const field = err.field ?? /^([A-Za-z][\w.-]*): /.exec(err.message)?.[1];
    const extra = field !== undefined ? { field } : {};
    if (err.status >= 500) log?.error('upstream failure', { error: err, cause: err.cause });
    return { statusCode: err.status, message: JSON.stringify({ error: err.code, message: err.message, ...extra }), expose: true };
  }
  log?.error('unhandled error', { error: err });
  return { statusCode: 500, message: INTERNAL, expose: true };
}

/**
 * The error handling of every HTTP function: {@link toHttpError} turns the error into an HTTP
 * error, and @middy/http-error-handler answers it (middy runs `onError`s in reverse order of
 * use, so the mapping runs first). Its own logging is off: the mapping logs what is not ours.
 */
export function httpErrorHandler(log?: ErrorLog): MiddlewareObj<HttpEvent, HttpResult>[] {
  return [
    httpErrorHandlerMiddleware({ logger: false, fallbackMessage: INTERNAL }) as MiddlewareObj<HttpEvent, HttpResult>,
    {
      onError: async (request) => {
        if (request.response !== undefined) return;
        request.error = toHttpError(request.error, log) as unknown as Error;
      },
    },
  ];
}
