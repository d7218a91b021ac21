/**
 * Resolves secret references from the configuration: `ssm:/name` (SecureString, via
 * Powertools parameters, cached), `secretsmanager:id`, or `env:NAME` for local runs (the
 * deployed template only uses the first two). SDKs load on first use.
 */
import { ConfigError } from './errors';

const CACHE_SECONDS = 300;

export async function resolveSecret(ref: string, variable: string, env: Record<string, string | undefined> = process.env): Promise<string> {
  let value: string | undefined;
  if (ref.startsWith('ssm:')) {
    const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
    value = await getParameter(ref.slice(4), { decrypt: true, maxAge: CACHE_SECONDS });
  } else if (ref.startsWith('secretsmanager:')) {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    const raw = await getSecret(ref.slice('secretsmanager:'.length), { maxAge: CACHE_SECONDS });
    value = typeof raw === 'string' ? raw : raw === undefined ? undefined : Buffer.from(raw).toString('utf8');
  } else if (ref.startsWith('env:')) {
    value = env[ref.slice(4)];
  }
  if (!value) throw new ConfigError(variable, `secret ${ref} is empty or missing`);
  return value;
}
