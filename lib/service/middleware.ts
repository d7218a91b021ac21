/**
 * The middy middlewares the functions share: cold-start dependencies (built once, rebuilt
 * after a failure) and body validation in `before` (Powertools parser), so handlers receive
 * typed input.
 */
import type { MiddlewareObj } from '@middy/core';
import { ParseError } from '@aws-lambda-powertools/parser/errors';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { jsonBody, type HttpEvent } from './http';
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

/** An HTTP event whose JSON body passed `schema`. */
export type ParsedEvent<T> = HttpEvent & { parsed: T };

/**
 * Reads the JSON body (size limit, content type, syntax) into `event.parsed`, then validates
 * it against `schema` with Powertools' parser middleware. A failure is a 400 naming the field
 * (`<field>: <rule>`), like every other validation error.
 */
export function validateJsonBody<T, R, D extends { maxBodyBytes: number }>(
  schema: z.core.$ZodType<T>,
): MiddlewareObj<ParsedEvent<T>, R, Error, DepsContext<D>>[] {
  return [
    {
      before: async (request) => {
        // Not yet a T: the parser middleware next validates it (or the request ends in a 400).
        request.event.parsed = jsonBody(request.event, request.context.deps.maxBodyBytes) as T;
      },
    },
    // The event keeps every other field; only `parsed` is checked (and typed).
    parser({ schema: z.looseObject({ parsed: schema }) }) as unknown as MiddlewareObj<ParsedEvent<T>, R, Error, DepsContext<D>>,
    {
      // Runs before the error handler's onError (middy runs them in reverse order of use).
      onError: async (request) => {
        if (request.error instanceof ParseError) {
          request.error = validationErrorOf(request.error.cause as z.core.$ZodIssue[], 'body', 'parsed');
        }
      },
    },
  ];
}
