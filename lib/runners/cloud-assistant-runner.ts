/**
 * Cloud Assistant (Alibaba Cloud ECS) runner: `RunCommand` with a Base64 `RunShellScript`,
 * then `DescribeInvocationResults` polled adaptively (about 200 ms, backing off to about 2 s)
 * until every instance reaches a final state. Cloud Assistant statuses and error codes are
 * translated into {@link RunStatus}; API failures become values, never exceptions.
 */
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { CommandRunner, RunArgsKind, RunRequest, RunResult, RunStatus } from './types';
import type { RpcCaller } from '../cloud/alibaba-rpc';
import { AlibabaApiError } from '../cloud/alibaba-errors';
import { quoteScriptArgs } from './script-args';
import { chunksOf, pool } from './fleet-pool';
import { arr, obj, str } from '../cloud/json-read';
import { mapInvocationResult, type InvocationResult } from './cloud-assistant-status';

export { mapInvocationResult, type InvocationResult } from './cloud-assistant-status';

/** Cloud Assistant takes at most 100 instance ids per RunCommand. */
export const RUN_COMMAND_MAX_INSTANCES = 100;
/** DescribeInvocationResults returns at most 50 results per page. */
const RESULTS_PAGE_SIZE = 50;

export interface PollOptions {
  /** Delay before the first poll, and between polls during the fast phase. Default 200. */
  initialMs?: number;
  /** How long polls stay at `initialMs` (most collector runs end within it). Default 1500. */
  fastPhaseMs?: number;
  /** Ceiling of the delay. Default 2000. */
  maxMs?: number;
  /** Growth per poll after the fast phase. Default 1.5. */
  factor?: number;
}

/**
 * Delay before the next DescribeInvocationResults: `initialMs` while the run is young (a
 * finished command is then seen within ~200 ms), then growing by `factor` up to `maxMs` so
 * long runs cost few calls. Never the SDK-waiter style fixed multi-second interval.
 */
export function nextPollDelay(elapsedMs: number, previousMs: number | null, poll: PollOptions = {}): number {
  const initial = poll.initialMs ?? 200;
  const max = poll.maxMs ?? 2000;
  if (previousMs === null || elapsedMs < (poll.fastPhaseMs ?? 1500)) return Math.min(initial, max);
  return Math.min(max, Math.round(previousMs * (poll.factor ?? 1.5)));
}

export interface CloudAssistantOptions {
  /** ECS RPC caller (see `createRpcCaller`), already bound to the region's endpoint. */
  call: RpcCaller;
  regionId: string;
  poll?: PollOptions;
  /** Injected clock and timer, for tests of the deadline logic. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A runner bound to one ECS instance. */
export function createCloudAssistantRunner(opts: CloudAssistantOptions & { instanceId: string }): CommandRunner {
  return {
    name: 'cloud-assistant',
    async run(request: RunRequest): Promise<RunResult> {
      const results = await runOnInstances(opts, [opts.instanceId], request);
      return results.get(opts.instanceId) ?? errorResult('error', 'Cloud Assistant returned no result for the instance', 0);
    },
  };
}

/**
 * Runs one script on many instances: at most {@link RUN_COMMAND_MAX_INSTANCES} ids per
 * RunCommand, every invocation polled together. Every id gets a result.
 */
export async function runFleetCloudAssistant(
  opts: CloudAssistantOptions,
  instanceIds: readonly string[],
  request: RunRequest,
): Promise<Map<string, RunResult>> {
  const out = new Map<string, RunResult>();
  // A few invocations at a time: each RunCommand is one API call, polls are paged per invocation.
  await pool(chunksOf(instanceIds, RUN_COMMAND_MAX_INSTANCES), 4, async (chunk) => {
    for (const [id, r] of await runOnInstances(opts, chunk, request)) out.set(id, r);
  });
  return out;
}

/**
 * The script actually sent: the script with its positional arguments set by a `set --`
 * line. Each argument is validated for its kind (see {@link quoteScriptArgs}: an IP address
 * already in canonical form, or printable one-line ASCII) and single-quoted with `'` as
 * `'\''`: no argument is ever parsed as shell code.
 * @throws CloudValidationError naming the argument and the rule.
 */
/** Scripts above this size are sent compressed (Base64 adds a third: 16 KB -> 21.3 KB). */
export const PLAIN_SCRIPT_MAX_BYTES = 16 * 1024;

export function buildRunnableScript(script: string, args: readonly string[], argsKind: RunArgsKind = 'ip'): string {
  // RunCommand takes at most 24 KB of Base64 content (the ECS SDK's RunCommandRequest): a
  // larger script travels gzip-compressed and unpacks with base64 and gzip, which every
  // supported distribution ships, into `sh -s` with the same arguments.
  if (Buffer.byteLength(script) > PLAIN_SCRIPT_MAX_BYTES) {
    const packed = gzipSync(Buffer.from(script, 'utf8'), { level: 9 }).toString('base64');
    script = `#!/bin/sh\nprintf '%s' '${packed}' | base64 -d | gzip -dc | sh -s -- "$@"\n`;
  }
  const quoted = quoteScriptArgs(args, argsKind);
  const setLine = `set -- ${quoted.join(' ')}\n`;
  if (args.length === 0) return script;
  // Keep an interpreter line first: Cloud Assistant honours it when it writes the script file.
  if (script.startsWith('#!')) {
    const nl = script.indexOf('\n');
    if (nl === -1) return `${script}\n${setLine}`;
    return script.slice(0, nl + 1) + setLine + script.slice(nl + 1);
  }
  return setLine + script;
}

async function runOnInstances(opts: CloudAssistantOptions, ids: readonly string[], request: RunRequest): Promise<Map<string, RunResult>> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const content = Buffer.from(buildRunnableScript(request.script, request.args, request.argsKind), 'utf8').toString('base64');
  // Cloud Assistant's Timeout is execution time on the instance, in seconds (minimum 10).
  const timeoutSec = Math.max(10, Math.ceil(request.timeoutMs / 1000));
  const params: Record<string, string | number> = {
    RegionId: opts.regionId,
    Type: 'RunShellScript',
    CommandContent: content,
    ContentEncoding: 'Base64',
    Timeout: timeoutSec,
    Name: request.argsKind === 'validated-text' ? 'sshdoctor-remediation' : 'sshdoctor-collector',
    RepeatMode: 'Once',
    KeepCommand: 'false',
    // Same token on every retry of this call: a throttled-then-retried RunCommand runs once.
    ClientToken: randomUUID(),
  };
  ids.forEach((id, i) => {
    params[`InstanceId.${i + 1}`] = id;
  });

  let invokeId: string;
  try {
    const res = await opts.call('RunCommand', params);
    if (typeof res.InvokeId !== 'string' || res.InvokeId === '') {
      return fillAll(ids, errorResult('error', 'RunCommand returned no InvokeId', now() - started));
    }
    invokeId = res.InvokeId;
  } catch (err) {
    return fillAll(ids, apiErrorResult(err, 'RunCommand', now() - started));
  }

  const deadline = started + request.timeoutMs;
  let delay: number | null = null;
  const done = new Map<string, RunResult>();
  const lastStatus = new Map<string, string>();
  const pending = new Set(ids);

  // Bounded: the deadline stops it, and every iteration sleeps (at least `initialMs`).
  while (pending.size > 0) {
    const remaining = deadline - now();
    if (remaining <= 0) break;
    delay = nextPollDelay(now() - started, delay, opts.poll);
    await sleep(Math.min(delay, remaining));
    let results: InvocationResult[];
    try {
      results = await describeAll(opts, invokeId, ids.length === 1 ? ids[0] : undefined);
    } catch (err) {
      // Throttled or 5xx past the caller's retries: keep polling until the deadline.
      if (err instanceof AlibabaApiError && (err.kind === 'throttled' || err.kind === 'server' || err.kind === 'network')) {
        continue;
      }
      const r = apiErrorResult(err, 'DescribeInvocationResults', now() - started);
      for (const id of pending) done.set(id, r);
      pending.clear();
      break;
    }
    // Results may be missing right after RunCommand (eventual consistency): treat as pending.
    for (const r of results) {
      if (!pending.has(r.instanceId)) continue;
      lastStatus.set(r.instanceId, r.invocationStatus);
      const mapped = mapInvocationResult(r);
      if (mapped === null) continue;
      done.set(r.instanceId, { ...mapped, durationMs: now() - started });
      pending.delete(r.instanceId);
    }
  }
  // Past the deadline: stop the invocation, so that an instance which has not started it yet
  // never does (a late remediation would change the host after we stopped verifying).
  const stopped = await stopInvocation(opts, invokeId, [...pending]);
  for (const id of pending) {
    const st = lastStatus.get(id) ?? 'not yet reported';
    const neverStarted = st === 'not yet reported' || st === 'Pending' || st === 'Scheduled';
    const after = neverStarted ? (stopped ? '; stopped, it will not start later' : '; StopInvocation failed, it may still start') : '';
    done.set(
      id,
      errorResult(
        neverStarted ? 'undeliverable' : 'timeout',
        `no final Cloud Assistant result within ${Math.round(request.timeoutMs / 1000)} s (last status: ${st})${after}`,
        now() - started,
      ),
    );
  }
  return done;
}

/** StopInvocation takes at most 50 instance ids. */
const STOP_BATCH = 50;

/** StopInvocation for `ids` (at most 50 per call); true when every call succeeded. */
async function stopInvocation(opts: CloudAssistantOptions, invokeId: string, ids: readonly string[]): Promise<boolean> {
  let ok = true;
  for (let i = 0; i < ids.length; i += STOP_BATCH) {
    const params: Record<string, string> = { RegionId: opts.regionId, InvokeId: invokeId };
    ids.slice(i, i + STOP_BATCH).forEach((id, j) => {
      params[`InstanceId.${j + 1}`] = id;
    });
    ok =
      (await opts.call('StopInvocation', params).then(
        () => true,
        () => false,
      )) && ok;
  }
  return ok;
}

async function describeAll(opts: CloudAssistantOptions, invokeId: string, instanceId?: string): Promise<InvocationResult[]> {
  const all: InvocationResult[] = [];
  // Bounded by the page count the API reports (and a hard cap of 10 pages = 500 instances).
  for (let page = 1; page <= 10; page++) {
    const res = await opts.call('DescribeInvocationResults', {
      RegionId: opts.regionId,
      InvokeId: invokeId,
      InstanceId: instanceId,
      ContentEncoding: 'Base64',
      PageSize: RESULTS_PAGE_SIZE,
      PageNumber: page,
    });
    const inv = obj(res.Invocation);
    const list = arr(obj(inv.InvocationResults).InvocationResult);
    for (const raw of list) {
      const r = obj(raw);
      const exit = Number(r.ExitCode);
      all.push({
        instanceId: str(r.InstanceId),
        invocationStatus: str(r.InvocationStatus),
        errorCode: str(r.ErrorCode),
        errorInfo: str(r.ErrorInfo),
        exitCode: r.ExitCode === undefined || r.ExitCode === null || !Number.isFinite(exit) ? null : exit,
        output: decodeBase64(str(r.Output)),
        dropped: Number(r.Dropped) || 0,
      });
    }
    const total = Number(inv.TotalCount) || 0;
    if (list.length < RESULTS_PAGE_SIZE || page * RESULTS_PAGE_SIZE >= total) break;
  }
  return all;
}

function apiErrorResult(err: unknown, action: string, durationMs: number): RunResult {
  if (err instanceof AlibabaApiError) {
    const status: RunStatus =
      err.kind === 'throttled'
        ? 'throttled'
        : err.kind === 'access-denied'
          ? 'access-denied'
          : /NotRunning|Stopped/.test(err.code)
            ? 'instance-not-running'
            : 'error';
    return errorResult(status, err.message, durationMs);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return errorResult('error', `${action} failed: ${oneLine(msg)}`, durationMs);
}

function errorResult(status: RunStatus, reason: string, durationMs: number): RunResult {
  return { status, stdout: '', stderr: '', exitCode: null, truncated: false, reason, durationMs };
}

function fillAll(ids: readonly string[], r: RunResult): Map<string, RunResult> {
  return new Map(ids.map((id) => [id, r]));
}

function decodeBase64(s: string): string {
  return s === '' ? '' : Buffer.from(s, 'base64').toString('utf8');
}

function oneLine(s: string): string {
  return s
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 500);
}
