/**
 * Validation shared by the CLI, the HTTP API and both cloud providers. Every function either
 * returns a canonical value or throws {@link CloudValidationError} naming the field and rule.
 */
import { isIP } from 'node:net';
import { CloudValidationError } from './errors';

export type ProviderName = 'aws' | 'alibaba';

/** AWS: `i-` + 8 or 17 lowercase hex digits. */
export const AWS_INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** Alibaba Cloud ECS: `i-` + 20 lowercase letters or digits (e.g. `i-bp1abcdefghijklmnopq`). */
export const ALIBABA_INSTANCE_ID = /^i-[0-9a-z]{20}$/;
/** AWS regions: `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`. */
export const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
/** Alibaba regions: `cn-hangzhou`, `ap-southeast-1`, `cn-shanghai-finance-1`. */
export const ALIBABA_REGION = /^[a-z]{2}(?:-[a-z0-9]+){1,4}$/;

const INSTANCE_RULES: Record<ProviderName, { re: RegExp; rule: string }> = {
  aws: { re: AWS_INSTANCE_ID, rule: "must be 'i-' followed by 8 or 17 lowercase hex digits (e.g. i-0123456789abcdef0)" },
  alibaba: { re: ALIBABA_INSTANCE_ID, rule: "must be 'i-' followed by 20 lowercase letters or digits (e.g. i-bp1abcdefghijklmnopq)" },
};

const REGION_RULES: Record<ProviderName, { re: RegExp; rule: string }> = {
  aws: { re: AWS_REGION, rule: 'must be an AWS region name such as eu-west-1' },
  alibaba: { re: ALIBABA_REGION, rule: 'must be an Alibaba Cloud region id such as cn-hangzhou' },
};

/** Returns the instance id unchanged when it matches the provider's format; throws otherwise. */
export function validateInstanceId(provider: ProviderName, instanceId: unknown, field = 'instanceId'): string {
  const { re, rule } = INSTANCE_RULES[provider];
  if (typeof instanceId !== 'string' || !re.test(instanceId)) throw new CloudValidationError(field, rule);
  return instanceId;
}

/** Returns the region unchanged when it has the provider's region format; throws otherwise. */
export function validateRegion(provider: ProviderName, region: unknown, field = 'region'): string {
  const { re, rule } = REGION_RULES[provider];
  if (typeof region !== 'string' || region.length > 40 || !re.test(region)) throw new CloudValidationError(field, rule);
  return region;
}

/**
 * Canonical text of an IP address (IPv4 dotted decimal, IPv6 RFC 5952 lower-case compressed).
 * The output only ever contains `[0-9a-f.:]`, which is what makes it safe to pass as a
 * positional shell argument.
 */
export function canonicalIp(input: unknown, field = 'clientIp'): string {
  if (typeof input !== 'string' || input.length > 45) throw new CloudValidationError(field, 'must be an IPv4 or IPv6 address');
  const family = input.includes('%') ? 0 : isIP(input);
  let out: string;
  if (family === 4)
    out = input
      .split('.')
      .map((o) => String(Number(o)))
      .join('.');
  else if (family === 6) out = new URL(`http://[${input}]`).hostname.slice(1, -1);
  else throw new CloudValidationError(field, 'must be an IPv4 or IPv6 address (no CIDR, no zone id)');
  if (!/^[0-9a-f.:]+$/.test(out)) throw new CloudValidationError(field, 'must be an IPv4 or IPv6 address');
  return unmapIpv4(out);
}

/**
 * An IPv4-mapped IPv6 address (`::ffff:203.0.113.9`, canonically `::ffff:cb00:7109`) is an
 * IPv4 client: every rule (security groups, ACLs, hosts.allow, ban lists) sees the IPv4 form.
 */
export function unmapIpv4(ip: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return ip;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Canonicalises and de-duplicates client IPs; at most 16. */
export function validateClientIps(inputs: readonly unknown[], field = 'clientIp'): string[] {
  if (inputs.length > 16) throw new CloudValidationError(field, 'at most 16 client addresses');
  return [...new Set(inputs.map((ip) => canonicalIp(ip, field)))];
}

/** A TCP port, 1..65535. */
export function validatePort(port: unknown, field = 'port'): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CloudValidationError(field, 'must be an integer from 1 to 65535');
  }
  return port;
}
