/**
 * Request schemas (zod/mini). Every rule names its field: a failed parse becomes a
 * {@link ValidationError} whose message is `<field>: <rule>`, answered with 400.
 */
import * as z from 'zod/mini';
import '../../zod-locale';
import { ALIBABA_INSTANCE_ID, ALIBABA_REGION, AWS_INSTANCE_ID, AWS_REGION, canonicalIp } from '../../cloud/validate';
import { ValidationError } from '../errors';
import { AuthInputError } from '../../auth/errors';
import { parsePublicKey, validateUserName } from '../../auth/validate';

export { ALIBABA_INSTANCE_ID, ALIBABA_REGION, AWS_INSTANCE_ID, AWS_REGION };

export const PROVIDERS = ['aws', 'alibaba', 'local'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** The local provider diagnoses this machine only. */
export const LOCAL_INSTANCE_ID = /^(?:localhost|local)$/;

/**
 * An IPv4/IPv6 literal (no zone, no CIDR), canonicalised: only `[0-9a-f.:]` remains, which
 * is what lets runners pass it as a positional argument.
 */
export const ipAddress = z.pipe(
  z.string({ error: 'must be a string' }),
  z.transform((v: string, payload) => {
    try {
      return canonicalIp(v);
    } catch {
      // A zod/mini transform receives the bare parse payload (no addIssue): the issue is pushed as addIssue did.
      payload.issues.push({ code: 'custom', message: 'must be an IPv4 or IPv6 address (no CIDR, no zone id)', input: v });
      return z.NEVER;
    }
  }),
);

const port = z
  .number({ error: 'must be an integer' })
  .check(z.int('must be an integer'), z.gte(1, 'must be between 1 and 65535'), z.lte(65535, 'must be between 1 and 65535'));

/** `user` and `publicKey` follow the CLI's rules (lib/auth/validate.ts); a key needs a user. */
function authIssues(req: { user?: string; publicKey?: string }, ctx: { addIssue: (i: { code: 'custom'; path: string[]; message: string }) => void }): void {
  if (req.publicKey !== undefined && req.user === undefined)
    ctx.addIssue({ code: 'custom', path: ['publicKey'], message: 'needs user: the key is asked about for that user' });
  for (const [field, check] of [
    ['user', () => req.user !== undefined && validateUserName(req.user)],
    ['publicKey', () => req.publicKey !== undefined && parsePublicKey(req.publicKey)],
  ] as const) {
    try {
      check();
    } catch (err) {
      if (err instanceof AuthInputError) ctx.addIssue({ code: 'custom', path: [field], message: err.message });
      else throw err;
    }
  }
}

/** `POST /checks` body. Unknown fields are rejected so typos do not pass silently. */
export const checkRequestSchema = z
  .strictObject(
    {
      provider: z.enum(PROVIDERS, { error: `must be one of ${PROVIDERS.join(', ')}` }),
      instanceId: z.string({ error: 'must be a string' }).check(z.maxLength(64, 'must be at most 64 characters')),
      region: z.optional(z.string({ error: 'must be a string' }).check(z.maxLength(32, 'must be at most 32 characters'))),
      clientIp: z.optional(ipAddress),
      port: z.optional(port),
      /** Also ask whether this user can log in; publicKey is an OpenSSH public key line. */
      user: z.optional(z.string({ error: 'must be a string' }).check(z.maxLength(32, 'must be at most 32 characters'))),
      publicKey: z.optional(z.string({ error: 'must be a string' }).check(z.maxLength(16384, 'must be at most 16384 characters'))),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown field' : 'must be a JSON object') },
  )
  .check(
    z.superRefine((req, ctx) => {
      const idRule = { aws: AWS_INSTANCE_ID, alibaba: ALIBABA_INSTANCE_ID, local: LOCAL_INSTANCE_ID }[req.provider];
      if (!idRule.test(req.instanceId)) {
        ctx.addIssue({ code: 'custom', path: ['instanceId'], message: `must match ${idRule.source} for ${req.provider}` });
      }
      authIssues(req, ctx);
      if (req.provider === 'local') return;
      if (req.region === undefined) {
        ctx.addIssue({ code: 'custom', path: ['region'], message: `is required for ${req.provider}` });
        return;
      }
      const regionRule = req.provider === 'aws' ? AWS_REGION : ALIBABA_REGION;
      if (!regionRule.test(req.region)) {
        ctx.addIssue({ code: 'custom', path: ['region'], message: `must match ${regionRule.source}` });
      }
    }),
  );

export type CheckRequest = z.infer<typeof checkRequestSchema>;

const CHECK_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** `POST /checks/{id}/fix` body: dry run unless `apply` is true; `only` limits the checks fixed. */
export const fixRequestSchema = z.strictObject(
  {
    apply: z.optional(z.boolean({ error: 'must be true or false' })),
    only: z.optional(
      z
        .array(z.string({ error: 'must be a check id' }).check(z.regex(CHECK_ID, 'must be a check id (e.g. tcp-wrappers)')), {
          error: 'must be an array of check ids',
        })
        .check(z.maxLength(32, 'must list at most 32 check ids')),
    ),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown field' : 'must be a JSON object') },
);

export type FixRequestBody = z.infer<typeof fixRequestSchema>;

/** Report ids are random UUIDs; anything else cannot name a stored report. */
export const reportIdSchema = z.uuid({ error: 'must be a report id (UUID)' });

/** Fix run ids (`POST /checks/{id}/fix` with `apply: true`) are random UUIDs too. */
export const fixIdSchema = z.uuid({ error: 'must be a fix id (UUID)' });

/**
 * Parses `value` with `schema`, turning the first issue into a {@link ValidationError}
 * that names the field (`body` when the issue is about the whole object).
 */
export function parseOrThrow<T>(schema: z.core.$ZodType<T>, value: unknown, root = 'body'): T {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const err = validationErrorOf(result.error.issues, root);
  // Inside a value that is not the request body (a Slack payload, a button's value, a queued
  // job), a field is named by its whole path: `payload.response_url`, not `response_url`.
  throw root === 'body' || err.field === root ? err : new ValidationError(`${root}.${err.field}`, err.rule);
}

/**
 * The {@link ValidationError} for the first of a failed parse's issues: `<field>: <rule>`,
 * the field being the issue's path (after `under`, when given) or `root` for the whole value.
 */
export function validationErrorOf(issues: readonly z.core.$ZodIssue[], root: string, under?: string): ValidationError {
  const issue = issues[0];
  if (!issue) return new ValidationError(root, 'is invalid');
  let path = issue.path.map(String);
  if (under !== undefined && path[0] === under) path = path.slice(1);
  if (issue.code === 'unrecognized_keys') path = [...path, ...issue.keys.slice(0, 1)];
  return new ValidationError(path.length > 0 ? path.join('.') : root, issue.message);
}
