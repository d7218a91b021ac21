/**
 * Fleet runs over SSM: at most 50 instance ids per SendCommand, progress read with
 * ListCommandInvocations (50 invocations a page), output fetched with one
 * GetCommandInvocation per finished instance. About 1 + 2/50 API calls per instance.
 */
import { GetCommandInvocationCommand, ListCommandInvocationsCommand } from '@aws-sdk/client-ssm';
import type { RunRequest, RunResult } from './types';
import { cancelCommand, classifyAwsError, invocationResult, mapSsmStatus, nextDelay, result, sendCommand, type SsmRunnerOptions } from './ssm-runner';
import { chunksOf, pool } from './fleet-pool';

/** SendCommand accepts at most 50 instance ids. */
export const SEND_COMMAND_MAX_INSTANCES = 50;
const CONCURRENCY = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runChunk(opts: SsmRunnerOptions, ids: string[], request: RunRequest, out: Map<string, RunResult>): Promise<void> {
  const started = Date.now();
  const deadline = started + request.timeoutMs;
  const sent = await sendCommand(opts, ids, request, deadline);
  if ('error' in sent) {
    const { status, code, message } = sent.error;
    for (const id of ids) out.set(id, result(status, started, { reason: `ssm:SendCommand failed (${code}): ${message}` }));
    return;
  }
  const pending = new Set(ids);
  const finished: { id: string; status: NonNullable<ReturnType<typeof mapSsmStatus>> }[] = [];
  let lastError: ReturnType<typeof classifyAwsError> | null = null;
  while (pending.size) {
    const delay = nextDelay(Date.now() - started, opts.poll);
    if (Date.now() + delay >= deadline) break;
    await sleep(delay);
    try {
      let token: string | undefined;
      do {
        const page = await opts.ssm.send(
          new ListCommandInvocationsCommand({ CommandId: sent.commandId, MaxResults: 50, ...(token ? { NextToken: token } : {}) }),
        );
        for (const inv of page.CommandInvocations ?? []) {
          const id = inv.InstanceId ?? '';
          if (!pending.has(id)) continue;
          const mapped = mapSsmStatus(inv.Status, inv.StatusDetails);
          if (!mapped) continue;
          pending.delete(id);
          finished.push({ id, status: mapped });
        }
        token = page.NextToken || undefined;
      } while (token);
    } catch (err) {
      lastError = classifyAwsError(err);
      if (lastError.status === 'access-denied') break;
    }
  }
  if (pending.size) {
    const cancelled = await cancelCommand(opts, sent.commandId, [...pending]);
    for (const id of pending) {
      out.set(
        id,
        result(lastError ? lastError.status : 'timeout', started, {
          reason: lastError
            ? `no result before the deadline; last error ${lastError.code}; ${cancelled}`
            : `no result within ${Math.round(request.timeoutMs / 1000)} s; ${cancelled}`,
        }),
      );
    }
  }
  await pool(finished, 8, async ({ id, status }) => {
    if (status.status !== 'success' && status.status !== 'failed') {
      out.set(id, result(status.status, started, status.reason ? { reason: status.reason } : {}));
      return;
    }
    try {
      const inv = await opts.ssm.send(new GetCommandInvocationCommand({ CommandId: sent.commandId, InstanceId: id }));
      // The list call carries no ResponseCode: map again with it, so a failure names its exit code.
      out.set(id, await invocationResult(opts, inv, mapSsmStatus(inv.Status, inv.StatusDetails, inv.ResponseCode) ?? status, started));
    } catch (err) {
      const c = classifyAwsError(err);
      out.set(id, result(c.status, started, { reason: `ssm:GetCommandInvocation failed (${c.code}): ${c.message}` }));
    }
  });
}

/** Runs one request on many instances; every id gets a result. */
export async function runSsmFleet(opts: SsmRunnerOptions, instanceIds: readonly string[], request: RunRequest): Promise<Map<string, RunResult>> {
  const out = new Map<string, RunResult>();
  await pool(chunksOf(instanceIds, SEND_COMMAND_MAX_INSTANCES), CONCURRENCY, (chunk) => runChunk(opts, chunk, request, out));
  return out;
}
