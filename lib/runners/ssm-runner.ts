/**
 * AWS Systems Manager runner: SendCommand (AWS-RunShellScript), then GetCommandInvocation
 * polled adaptively until a final status. SSM statuses and StatusDetails are translated into
 * {@link RunStatus}; API failures become values, never exceptions.
 */
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  type GetCommandInvocationCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { CommandRunner, RunArgsKind, RunRequest, RunResult, RunStatus } from './types';
import { quoteScriptArgs } from './script-args';

/** GetCommandInvocation returns at most this many characters of stdout inline. */
export const SSM_INLINE_STDOUT_LIMIT = 24_000;
export const DEFAULT_SSM_DOCUMENT = 'AWS-RunShellScript';
const HEREDOC = 'SSHDOCTOR_COLLECTOR_EOF';

export interface SsmPollOptions {
  /** Shortest delay between polls (and before the first one). Default 200. */
  minMs?: number;
  /** Longest delay between polls. Default 2000. */
  maxMs?: number;
  /** Delay as a fraction of the time elapsed since SendCommand. Default 0.15. */
  fraction?: number;
}

/** Where SSM wrote the full output (S3): one object read back as UTF-8 text. */
export interface OutputStore {
  /** The object's body; rejects with an error named by the service's code (`NoSuchKey`, `AccessDenied`). */
  getObject(bucket: string, key: string): Promise<string>;
}

export interface SsmRunnerOptions {
  ssm: SSMClient;
  /** Needed only with `outputBucket`, to read stdout beyond the inline limit. */
  outputStore?: OutputStore;
  outputBucket?: string;
  outputPrefix?: string;
  /** `AWS-RunShellScript` (default) or a document with the same `commands`/`executionTimeout` parameters. */
  documentName?: string;
  poll?: SsmPollOptions;
}

/**
 * The `commands` lines sent to SSM: `sh -s -- 'ARG'... <<'EOF'`, the script verbatim, `EOF`.
 * Each argument is validated for its kind (see {@link quoteScriptArgs}: a canonical IP, or
 * printable one-line ASCII) and single-quoted with `'` as `'\''`. The quoted heredoc
 * delimiter means the shell expands nothing in the script body, and the script runs under
 * `/bin/sh` with exactly these positional parameters.
 * @throws CloudValidationError naming the argument and the rule.
 */
export function buildShellCommands(script: string, args: readonly string[], argsKind: RunArgsKind = 'ip'): string[] {
  const quotedArgs = quoteScriptArgs(args, argsKind);
  const lines = script.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  let delim = HEREDOC;
  for (let n = 1; lines.includes(delim); n++) delim = `${HEREDOC}_${n}`;
  const quoted = quotedArgs.join(' ');
  return [`sh -s --${quoted ? ` ${quoted}` : ''} <<'${delim}'`, ...lines, delim];
}

/** The executionTimeout / TimeoutSeconds pair for a run budget: SSM reports its own timeout before ours. */
export function ssmTimeouts(timeoutMs: number): { executionTimeout: number; timeoutSeconds: number } {
  const s = Math.ceil(timeoutMs / 1000);
  return { executionTimeout: Math.max(1, s - 2), timeoutSeconds: Math.max(30, s) };
}

/** Maps a final SSM invocation status to ours; null while the invocation is still running. */
export function mapSsmStatus(status: string | undefined, details: string | undefined, responseCode?: number): { status: RunStatus; reason?: string } | null {
  switch (status) {
    case 'Pending':
    case 'InProgress':
    case 'Delayed':
    case undefined:
      return null;
    case 'Success':
      return { status: 'success' };
    case 'Cancelled':
    case 'Cancelling':
      return { status: 'cancelled', reason: 'the command was cancelled' };
    case 'TimedOut':
      if (details === 'DeliveryTimedOut')
        return {
          status: 'agent-offline',
          reason: 'SSM could not deliver the command before TimeoutSeconds (DeliveryTimedOut): the SSM Agent is not connected',
        };
      return { status: 'timeout', reason: 'the collector did not finish within executionTimeout (ExecutionTimedOut)' };
    case 'Failed':
      if (details === 'Undeliverable')
        return {
          status: 'undeliverable',
          reason: 'SSM could not deliver the command (Undeliverable): the instance is not managed, terminated, or its agent cannot be reached',
        };
      if (details === 'Terminated') return { status: 'instance-not-running', reason: 'the instance stopped or terminated during the run (Terminated)' };
      if (details === 'InvalidPlatform') return { status: 'error', reason: 'the document does not support the instance platform (InvalidPlatform)' };
      if (details === 'AccessDenied') return { status: 'access-denied', reason: 'SSM was denied access while running the command (AccessDenied)' };
      return { status: 'failed', reason: `the collector exited with code ${responseCode ?? 'unknown'}` };
    default:
      return { status: 'error', reason: `unexpected SSM status ${status}/${details ?? ''}` };
  }
}

/** Classifies an SDK exception into one of our statuses. */
export function classifyAwsError(err: unknown): { status: RunStatus; code: string; message: string } {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = e?.name ?? 'Error';
  const message = e?.message || code;
  if (/AccessDenied|UnauthorizedOperation|Unauthorized/.test(code)) return { status: 'access-denied', code, message };
  if (/Throttl|RequestLimitExceeded|TooManyRequests|SlowDown/.test(code)) return { status: 'throttled', code, message };
  if (code === 'InvalidInstanceId') return { status: 'agent-offline', code, message };
  return { status: 'error', code, message };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function nextDelay(elapsedMs: number, poll: SsmPollOptions = {}): number {
  const { minMs = 200, maxMs = 2000, fraction = 0.15 } = poll;
  return Math.min(maxMs, Math.max(minMs, elapsedMs * fraction));
}

/** A RunResult measured from `started`. */
export function result(status: RunStatus, started: number, extra: Partial<RunResult> = {}): RunResult {
  return { status, stdout: '', stderr: '', exitCode: null, truncated: false, durationMs: Date.now() - started, ...extra };
}

/** The S3 key of the full stdout: from StandardOutputUrl when it names the bucket, else SSM's layout. */
export function stdoutKey(inv: GetCommandInvocationCommandOutput, bucket: string, prefix?: string): string {
  const url = inv.StandardOutputUrl;
  if (url) {
    try {
      const u = new URL(url);
      const path = decodeURIComponent(u.pathname);
      if (path.startsWith(`/${bucket}/`)) return path.slice(bucket.length + 2);
      if (u.hostname.startsWith(`${bucket}.`)) return path.slice(1);
    } catch {
      /* fall through to the documented layout */
    }
  }
  return `${prefix ? `${prefix}/` : ''}${inv.CommandId}/${inv.InstanceId}/awsrunShellScript/0.awsrunShellScript/stdout`;
}

/** SendCommand with our own retry on throttling (on top of the SDK's), bounded by `deadline`. */
export async function sendCommand(
  opts: SsmRunnerOptions,
  instanceIds: readonly string[],
  request: RunRequest,
  deadline: number,
): Promise<{ commandId: string } | { error: ReturnType<typeof classifyAwsError> }> {
  const { executionTimeout, timeoutSeconds } = ssmTimeouts(request.timeoutMs);
  const input = {
    InstanceIds: [...instanceIds],
    DocumentName: opts.documentName ?? DEFAULT_SSM_DOCUMENT,
    Comment: request.argsKind === 'validated-text' ? 'sshdoctor remediation step' : 'sshdoctor collector (read-only)',
    Parameters: { commands: buildShellCommands(request.script, request.args, request.argsKind), executionTimeout: [String(executionTimeout)] },
    TimeoutSeconds: timeoutSeconds,
    ...(opts.outputBucket ? { OutputS3BucketName: opts.outputBucket, OutputS3KeyPrefix: opts.outputPrefix ?? 'sshdoctor' } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const out = await opts.ssm.send(new SendCommandCommand(input));
      const commandId = out.Command?.CommandId;
      if (!commandId) return { error: { status: 'error', code: 'NoCommandId', message: 'SendCommand returned no CommandId' } };
      return { commandId };
    } catch (err) {
      const c = classifyAwsError(err);
      const wait = 500 * 2 ** attempt;
      if (c.status !== 'throttled' || attempt >= 3 || Date.now() + wait >= deadline) return { error: c };
      await sleep(wait);
    }
  }
}

/** Stdout of a finished invocation: inline, or in full from S3 when SSM cut it and a bucket is set. */
async function fullStdout(opts: SsmRunnerOptions, inv: GetCommandInvocationCommandOutput): Promise<{ stdout: string; truncated: boolean; note?: string }> {
  const inline = inv.StandardOutputContent ?? '';
  if (inline.length < SSM_INLINE_STDOUT_LIMIT) return { stdout: inline, truncated: false };
  if (!opts.outputBucket || !opts.outputStore)
    return { stdout: inline, truncated: true, note: `stdout cut at ${SSM_INLINE_STDOUT_LIMIT} characters by SSM (use an output bucket for the full output)` };
  try {
    const stdout = await opts.outputStore.getObject(opts.outputBucket, stdoutKey(inv, opts.outputBucket, opts.outputPrefix ?? 'sshdoctor'));
    return { stdout, truncated: false };
  } catch (err) {
    const c = classifyAwsError(err);
    return {
      stdout: inline,
      truncated: true,
      note: `stdout cut at ${SSM_INLINE_STDOUT_LIMIT} characters; reading the full output from s3://${opts.outputBucket} failed: ${c.code}`,
    };
  }
}

/** The RunResult of a finished invocation: its output (in full from S3 for success/failed), exit code and reason. */
export async function invocationResult(
  opts: SsmRunnerOptions,
  inv: GetCommandInvocationCommandOutput,
  mapped: { status: RunStatus; reason?: string },
  started: number,
): Promise<RunResult> {
  const out: { stdout: string; truncated: boolean; note?: string } =
    mapped.status === 'success' || mapped.status === 'failed' ? await fullStdout(opts, inv) : { stdout: inv.StandardOutputContent ?? '', truncated: false };
  const reason = [mapped.reason, out.note].filter(Boolean).join('; ');
  return result(mapped.status, started, {
    stdout: out.stdout,
    stderr: inv.StandardErrorContent ?? '',
    exitCode: inv.ResponseCode !== undefined && inv.ResponseCode >= 0 ? inv.ResponseCode : null,
    truncated: out.truncated,
    ...(reason ? { reason } : {}),
  });
}

/** Polls one invocation to a final status, or to `deadline` (then cancels it). */
export async function waitForInvocation(opts: SsmRunnerOptions, commandId: string, instanceId: string, started: number, deadline: number): Promise<RunResult> {
  let lastStatus = 'not yet visible';
  let lastError: ReturnType<typeof classifyAwsError> | null = null;
  let penalty = 1;
  for (;;) {
    const delay = nextDelay(Date.now() - started, opts.poll) * penalty;
    if (Date.now() + delay >= deadline) break;
    await sleep(delay);
    try {
      const inv = await opts.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
      penalty = 1;
      lastError = null;
      lastStatus = `${inv.Status ?? '?'}/${inv.StatusDetails ?? '?'}`;
      const mapped = mapSsmStatus(inv.Status, inv.StatusDetails, inv.ResponseCode);
      if (!mapped) continue;
      return invocationResult(opts, inv, mapped, started);
    } catch (err) {
      const c = classifyAwsError(err);
      // Right after SendCommand the invocation is not visible yet: keep polling.
      if (c.code === 'InvocationDoesNotExist') continue;
      if (c.status === 'access-denied') return result('access-denied', started, { reason: `ssm:GetCommandInvocation denied: ${c.message}` });
      lastError = c;
      if (c.status === 'throttled') penalty = Math.min(penalty * 2, 8);
    }
  }
  const cancelled = await cancelCommand(opts, commandId, [instanceId]);
  if (lastError)
    return result(lastError.status, started, { reason: `no result before the deadline; last GetCommandInvocation error: ${lastError.code}; ${cancelled}` });
  return result('timeout', started, { reason: `no result within ${Math.round((deadline - started) / 1000)} s (last status ${lastStatus}); ${cancelled}` });
}

/**
 * Cancels a command past our deadline, so that an agent picking it up late never runs it (a
 * late remediation would change the host after we stopped verifying). Answers what happened,
 * for the reason.
 */
export function cancelCommand(opts: SsmRunnerOptions, commandId: string, instanceIds: string[]): Promise<string> {
  return opts.ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: instanceIds })).then(
    () => 'the command was cancelled',
    (err: unknown) => `CancelCommand failed (${classifyAwsError(err).code}): the command may still run`,
  );
}

/** A runner bound to one EC2 instance. */
export function createSsmRunner(opts: SsmRunnerOptions & { instanceId: string }): CommandRunner {
  return {
    name: 'ssm',
    async run(request: RunRequest): Promise<RunResult> {
      const started = Date.now();
      const deadline = started + request.timeoutMs;
      const sent = await sendCommand(opts, [opts.instanceId], request, deadline);
      if ('error' in sent) {
        const { status, code, message } = sent.error;
        const why = status === 'agent-offline' ? 'the instance is not a connected SSM managed instance' : message;
        return result(status, started, { reason: `ssm:SendCommand failed (${code}): ${why}` });
      }
      return waitForInvocation(opts, sent.commandId, opts.instanceId, started, deadline);
    },
  };
}
