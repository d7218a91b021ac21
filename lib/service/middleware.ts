/**
 * The two middy middlewares every function shares: cold-start dependencies (built once,
 * rebuilt after a failure) and body validation in `before`, so handlers receive typed input.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { jsonBody, type HttpEvent } from './http';
import { parseOrThrow } from './schemas';

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

/** Parses and validates the JSON body in `before`; failures are 400s naming the field. */
export function validateJsonBody<T, R, D extends { maxBodyBytes: number }>(
  schema: z.core.$ZodType<T>,
): MiddlewareObj<ParsedEvent<T>, R, Error, DepsContext<D>> {
  return {
    before: async (request) => {
      request.event.parsed = parseOrThrow(schema, jsonBody(request.event, request.context.deps.maxBodyBytes));
    },
  };
}
