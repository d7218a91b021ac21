/**
 * Powertools observability shared by every function: a structured Logger and an X-Ray Tracer,
 * and the middy middlewares that attach them to a handler. Built by each function (the
 * composition root), never on import. The Tracer is active only inside Lambda with tracing
 * on (`tracing.lambda` in serverless.yml); elsewhere (tests, `npm start`) it does nothing.
 */
import type { MiddlewareObj } from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';

export const SERVICE_NAME = 'sshdoctor';

export interface Observability {
  logger: Logger;
  tracer: Tracer;
  /**
   * Wraps an AWS SDK v3 client so each call is a subsegment. Needed because the bundles are
   * ESM: Tracer's patching of the `http` module does not reach the SDK's `import { request }`.
   */
  instrument: <T extends object>(client: T) => T;
  /** Logs a failure with its error object (the chat runtime's `logError`). */
  logError: (message: string, error: unknown) => void;
  /** Logger context first, then the handler segment, so logs inside carry the request id. */
  middlewares: MiddlewareObj[];
}

export function observability(): Observability {
  const logger = new Logger({ serviceName: SERVICE_NAME });
  const tracer = new Tracer({ serviceName: SERVICE_NAME });
  return {
    logger,
    tracer,
    instrument: (client) => tracer.captureAWSv3Client(client),
    logError: (message, error) => logger.error(message, { error }),
    middlewares: [injectLambdaContext(logger), traceHandler(tracer)],
  };
}

/**
 * Powertools' handler subsegment, except that an error httpErrorHandler has already answered
 * with a 4xx is the caller's mistake, not a fault: the segment closes with X-Ray's error flag
 * (4xx) instead of the fault flag and a stack trace (5xx). Must be `use`d before
 * httpErrorHandler, so that its `onError` runs after it (httpFunction in middleware.ts does).
 */
function traceHandler(tracer: Tracer): MiddlewareObj {
  // Responses are reports with client addresses: not copied into trace metadata.
  const capture = captureLambdaHandler(tracer, { captureResponse: false });
  return {
    before: capture.before,
    after: capture.after,
    onError: async (request) => {
      const status = (request.response as { statusCode?: number } | undefined)?.statusCode;
      if (status !== undefined && status < 500) {
        if (tracer.isTracingEnabled()) tracer.getSegment()?.addErrorFlag();
        return capture.after?.(request);
      }
      return capture.onError?.(request);
    },
  };
}
