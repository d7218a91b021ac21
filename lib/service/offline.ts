/**
 * Whether a function runs under serverless-offline (`npm start`), where no authorizer exists
 * and jobs run in-process. Kept apart so the HTTP middlewares can ask without loading the
 * service's wiring.
 */

/**
 * True under serverless-offline: it sets IS_OFFLINE, and it runs handlers without Lambda's
 * runtime API, which every deployed function has (AWS_LAMBDA_RUNTIME_API). So a deployed
 * function is never offline, even with IS_OFFLINE put in its environment by mistake.
 */
export function isOffline(env: Record<string, string | undefined> = process.env): boolean {
  return env.IS_OFFLINE === 'true' && !env.AWS_LAMBDA_RUNTIME_API;
}
