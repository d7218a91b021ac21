/**
 * `POST /checks` answers within the function's time even when the collector never finishes:
 * its budget is what is left of the invocation (less a reserve), so the caller gets a report
 * saying the collector timed out, not API Gateway's 503 at 30 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/checks-create';
import { createAwsProvider } from '../../lib/cloud/aws-provider';
import { DEADLINE_RESERVE_MS } from '../../lib/service/check-service';
import { createDynamoReportStore } from '../../lib/service/stores/report-store';
import { createDiagnoser, createDocClient } from '../../lib/service/runtime';
import type { ServiceConfig } from '../../lib/service/config';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws-emulator';
import { localExecutor } from '../emulators/executors';
import { useAwsEmulatorEnv } from '../support/aws-env';
import { startDynalite, TABLES, type LocalDynamo } from './support/dynalite';
import { serveLambdas, type HttpHandler } from './support/lambda-http';

const ID = 'i-0123456789abcdef0';
const REMAINING_MS = 12_000;

let emu: AwsEmulator;
let restoreEnv: () => void;
let dynamo: LocalDynamo;
let api: { url: string; close(): Promise<void> };

beforeAll(async () => {
  emu = await startAwsEmulator();
  restoreEnv = useAwsEmulatorEnv(emu.url);
  dynamo = await startDynalite();
  // Port 1 (nothing listens there) stands in for the deployment's SSH port.
  const config = { enabledProviders: ['aws'], optInTag: { key: 'sshdoctor:enabled', value: 'true' }, sshPorts: [22, 1] } as unknown as ServiceConfig;
  api = await serveLambdas([
    {
      method: 'POST',
      path: '/checks',
      remainingMs: REMAINING_MS,
      handler: createHandler(() => ({
        config,
        maxBodyBytes: 8192,
        store: createDynamoReportStore({ client: createDocClient(dynamo.client), tables: TABLES, reportTtlDays: 1, historyTtlDays: 1 }),
        // The real provider (SigV4 EC2 client, SDK SSM client) and engine, against the emulator.
        providers: async (_name, region) => createAwsProvider({ region, poll: { minMs: 50, maxMs: 200 } }),
        diagnoser: createDiagnoser(config),
      })) as unknown as HttpHandler,
    },
  ]);
});
afterAll(async () => {
  await api?.close();
  await dynamo?.close();
  restoreEnv?.();
  await emu?.close();
});

describe('POST /checks under the invocation deadline', () => {
  it('gives the collector what is left of the invocation and answers with a report that says it timed out', async () => {
    // The agent is online but never picks the command up within the test.
    emu.addInstance({ instanceId: ID, publicIp: '127.0.0.1', tags: { 'sshdoctor:enabled': 'true' }, executor: localExecutor(), pingStatus: 'Online' });
    emu.faults.deliveryDelayMs = 120_000;
    const res = await fetch(`${api.url}/checks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Nothing listens on port 1 of loopback: the probe is refused at once.
      body: JSON.stringify({ provider: 'aws', instanceId: ID, region: 'us-east-1', clientIp: '203.0.113.9', port: 1 }),
    });
    expect(res.status).toBe(201);
    const { report } = (await res.json()) as { report: { collector: { status: string; reason?: string }; timings: { collectorMs?: number } } };
    // The collector's budget was the remaining time less the reserve, not the engine's 30 s.
    const budgetS = Math.ceil((REMAINING_MS - DEADLINE_RESERVE_MS) / 1000);
    expect(report.collector.status).toBe('failed');
    expect(report.collector.reason).toMatch(new RegExp(`timeout: no result within ${budgetS} s .*the command was cancelled`));
    const send = emu.calls.find((c) => c.service === 'ssm' && c.action === 'SendCommand')!;
    expect(send.params).toMatchObject({ Parameters: { executionTimeout: [String(budgetS - 2)] } });
    expect(report.timings.collectorMs).toBeLessThanOrEqual((budgetS + 1) * 1000);
    // Stopped at the deadline, the command was cancelled rather than left queued on the instance.
    expect(emu.count('CancelCommand')).toBe(1);
  }, 30_000);
});
