/**
 * Finds the cloud API actions the sources call, for the policy-coverage tests. AWS: every
 * `new XxxCommand(` whose class is imported from `@aws-sdk/client-<service>` (and every
 * `paginateXxx(` from it) is the IAM action `<service>:Xxx`; in a file that imports one of
 * our own Query clients (`lib/cloud/<service>-query-client`), every `.request('Xxx'` is
 * `<service>:Xxx`; in a file that imports the shared signed-HTTP client
 * (`lib/cloud/aws-signed-http`), every literal `action: '<service>:Xxx'` is that action.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** IAM service prefix of each SDK client package, where it differs from the package suffix. */
const IAM_PREFIX: Record<string, string> = { 'secrets-manager': 'secretsmanager', 'cloudwatch-logs': 'logs' };

/** Services whose own Query client (`./<service>-query-client`, any relative path) the file imports. */
function queryClientServices(text: string): string[] {
  return [...text.matchAll(/from\s*'(?:\.{1,2}\/)+(?:[\w-]+\/)*([a-z0-9]+)-query-client'/g)].map((m) => m[1]!);
}

/** Whether the file imports the shared signed-HTTP client (any relative path). */
function importsSignedHttp(text: string): boolean {
  return /from\s*'(?:\.{1,2}\/)+(?:[\w-]+\/)*aws-signed-http'/.test(text);
}

export function listSources(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out;
}

/**
 * `service:Action` -> files calling it, for the given SDK services (e.g. `['ec2', 'ssm', 's3']`).
 */
export function awsActionsInSources(root: string, dirs: readonly string[], services: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of listSources(root, dirs)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
      const pkg = m[2]!;
      const service = IAM_PREFIX[pkg] ?? pkg;
      if (!services.includes(service)) continue;
      const names = m[1]!
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n && !n.startsWith('type '))
        .map((n) => n.split(/\s+as\s+/).pop()!);
      for (const name of names) {
        const action = /^(\w+)Command$/.exec(name)?.[1] ?? /^paginate(\w+)$/.exec(name)?.[1];
        if (!action) continue;
        if (!new RegExp(`(?:new ${name}\\(|${name}\\()`).test(text.replace(m[0], ''))) continue;
        const key = `${service}:${action}`;
        found.set(key, [...(found.get(key) ?? []), relative(root, file)]);
      }
    }
    for (const service of queryClientServices(text)) {
      if (!services.includes(service)) continue;
      for (const m of text.matchAll(/\.request\(\s*'([A-Z][A-Za-z0-9]+)'/g)) {
        const key = `${service}:${m[1]}`;
        const files = found.get(key) ?? [];
        if (!files.includes(relative(root, file))) found.set(key, [...files, relative(root, file)]);
      }
    }
    if (importsSignedHttp(text)) {
      for (const m of text.matchAll(/\baction:\s*'([a-z0-9]+):([A-Z][A-Za-z0-9]+)'/g)) {
        if (!services.includes(m[1]!)) continue;
        const key = `${m[1]}:${m[2]}`;
        const files = found.get(key) ?? [];
        if (!files.includes(relative(root, file))) found.set(key, [...files, relative(root, file)]);
      }
    }
  }
  return found;
}

/** Actions an IAM policy allows (Allow statements, literal action names). */
export function iamAllowedActions(policy: { Statement: { Effect: string; Action: string | string[] }[] }): Set<string> {
  return new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));
}
