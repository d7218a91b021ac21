/**
 * The middy middlewares the functions share: the start of every HTTP function's chain,
 * cold-start dependencies (built once, rebuilt after a failure) and body validation in `before` (Powertools parser), so handlers receive
 * typed input.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { ParseError } from '@aws-lambda-powertools/parser/errors';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { httpErrorHandler, rawBody, requireJsonType, type ErrorLog, type HttpEvent, type HttpResult } from './http';
import { ForbiddenError, ValidationError } from '../errors';
import { isOffline } from '../offline';
import { validationErrorOf } from './schemas';

/** Lambda context plus the function's dependencies. */
export type DepsContext<D> = Context & { deps: D };

/**
 * Builds dependencies on the first invocation of a container and reuses them; a failed
 * build (bad configuration, unreachable secret store) is retried on the next invocation.
 */
export function coldStart<E, R, D>(load: () => D | Promise<D>): MiddlewareObj<E, R, Error, DepsContext<D>> {
  let pending: Promise<D> | undefined;
  return {
    before: async (request) => {
      pending ??= Promise.resolve().then(load);
      try {
        request.context.deps = await pending;
      } catch (err) {
        pending = undefined;
        throw err;
      }
    },
  };
}

/**
 * The start of every HTTP function: the observability middlewares, then the one error -> HTTP
 * mapping (in this order, so the trace's `onError` sees the status it answered with), then the
 * cold-start dependencies. The function adds its parsing and its handler.
 */
/** An HTTP event whose body a body-parser middleware may have replaced by what it parsed. */
export type AnyBodyEvent = Omit<HttpEvent, 'body'> & { body?: unknown };

export function httpFunction<E extends AnyBodyEvent, D>(
  obs: { logger: ErrorLog; middlewares: MiddlewareObj[] },
  load: () => D | Promise<D>,
  offline = isOffline(),
) {
  return (
    middy<E, HttpResult, Error, DepsContext<D>>()
      .use(obs.middlewares)
      .use(httpErrorHandler(obs.logger) as unknown as MiddlewareObj<E, HttpResult, Error, DepsContext<D>>[])
      // Header names lower-cased (API Gateway v2 does; local servers and tests may not).
      .use(httpHeaderNormalizer() as unknown as MiddlewareObj<E, HttpResult, Error, DepsContext<D>>)
      .use(offlineAuthorizerGuard<E, D>(offline))
      .use(coldStart(load))
  );
}

/** serverless-offline's header that writes the authorizer context of the event it builds. */
export const AUTHORIZER_OVERRIDE_HEADER = 'sls-offline-authorizer-override';

/**
 * Under serverless-offline (`npm start`, {@link isOffline}; never a deployed function) the
 * authorizer context is whatever the client wrote, through the override header or an event
 * sent to the Lambda invoke port: a request with the header is refused by name, and any
 * authorizer context is dropped, so no identity can be claimed locally. Deployed, API
 * Gateway writes the context and the header is an ordinary, ignored one.
 */
export function offlineAuthorizerGuard<E extends AnyBodyEvent, D>(offline: boolean): MiddlewareObj<E, HttpResult, Error, DepsContext<D>> {
  return {
    before: async (request) => {
      if (!offline) return;
      if (request.event.headers?.[AUTHORIZER_OVERRIDE_HEADER] !== undefined) {
        throw new ForbiddenError(`${AUTHORIZER_OVERRIDE_HEADER}: not accepted; npm start has no authorizer and no caller may claim an identity`);
      }
      const context = request.event.requestContext as { authorizer?: unknown } | undefined;
      if (context) delete context.authorizer;
    },
  };
}

/** An HTTP event whose JSON body passed `schema`. */
export type ParsedEvent<T> = HttpEvent & { parsed: T };

/**
 * Reads the JSON body: size limit, an empty body and a wrong content type refused by name,
 * then @middy/http-json-body-parser parses it (refusing __proto__ keys) into `event.parsed`,
 * validated against `schema` with Powertools' parser middleware. A failure is a 400 naming
 * the field (`<field>: <rule>`), like every other validation error.
 */
export function validateJsonBody<T, R, D extends { maxBodyBytes: number }>(
  schema: z.core.$ZodType<T>,
): MiddlewareObj<ParsedEvent<T>, R, Error, DepsContext<D>>[] {
  type M = MiddlewareObj<ParsedEvent<T>, R, Error, DepsContext<D>>;
  return [
    {
      before: async (request) => {
        if (rawBody(request.event, request.context.deps.maxBodyBytes).trim() === '') throw new ValidationError('body', 'must be a JSON object');
        requireJsonType(request.event);
      },
    },
    // Our check above is the content-type gate (an absent type is read as JSON).
    httpJsonBodyParser({ disableContentTypeCheck: true }) as unknown as M,
    {
      before: async (request) => {
        // Not yet a T: the parser middleware next validates it (or the request ends in a 400).
        request.event.parsed = request.event.body as unknown as T;
      },
    },
    // The event keeps every other field; only `parsed` is checked (and typed).
    parser({ schema: z.looseObject({ parsed: schema }) }) as unknown as M,
    {
      // Runs before the error handler's onError (middy runs them in reverse order of use).
      onError: async (request) => {
        if (request.error instanceof ParseError) {
          request.error = validationErrorOf(request.error.cause as z.core.$ZodIssue[], 'body', 'parsed');
        } else if (isBodyParserError(request.error)) {
          request.error = new ValidationError('body', 'must be valid JSON');
        }
      },
    },
  ];
}

/** The 422 @middy/http-json-body-parser throws for malformed JSON or a __proto__ key. */
function isBodyParserError(err: unknown): boolean {
  const cause = (err as { cause?: { package?: string } } | null)?.cause;
  return cause?.package === '@middy/http-json-body-parser';
}
