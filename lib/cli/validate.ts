/** Command-line argument rules; each failure is a UsageError naming the flag and the rule. */
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { canonicalIp, validateClientIps, validatePort } from '../cloud/validate';
import { CloudValidationError } from '../cloud/errors';
import { UsageError } from './errors';

function asUsage<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CloudValidationError) throw new UsageError(flag, err.rule);
    throw err;
  }
}

/** `--port`: decimal digits only, 1..65535. */
export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new UsageError('--port', 'must be an integer from 1 to 65535');
  return asUsage('--port', () => validatePort(Number(text)));
}

/** `--client-ip` (repeatable): canonical IPv4/IPv6 addresses. */
export function parseClientIps(values: readonly string[]): string[] {
  return asUsage('--client-ip', () => validateClientIps(values));
}

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** `--host`: an IP address or a DNS name (RFC 1123 labels). */
/**
 * A host name that does not resolve is the caller's to correct (exit 2 naming --host), not an
 * "unreachable" instance.
 */
export async function assertResolves(host: string): Promise<void> {
  if (net.isIP(host)) return;
  try {
    await lookup(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
    throw new UsageError('--host', `${host} does not resolve to an address (${code})`);
  }
}

export function parseHost(text: string): string {
  if (net.isIP(text)) return asUsage('--host', () => canonicalIp(text));
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l)) && !/^\d+$/.test(name.split('.').pop()!)) return name;
  throw new UsageError('--host', 'must be an IPv4/IPv6 address or a DNS host name');
}
