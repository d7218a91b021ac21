import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

interface XRaySubsegment {
  id: string;
  name: string;
  trace_id: string;
  parent_id: string;
  annotations?: Record<string, unknown>;
  fault?: boolean;
  error?: boolean;
  http?: { request?: { method?: string }; response?: { status?: number } };
}

const TRACE_ID = '1-6930a1b2-0123456789abcdef01234567';
const PARENT = '53995c3f42cd8ad8';

/**
 * Runs `script` in a child process with the environment Lambda's nodejs22.x runtime sets when
 * tracing is on; a UDP socket stands in for the X-Ray daemon and keeps every subsegment the
 * SDK sends it. Answers the child's stdout (JSON) and the subsegments.
 */
async function runTraced(script: string, handlerName: string, expected: number): Promise<{ out: unknown; received: XRaySubsegment[] }> {
  const daemon = createSocket('udp4');
  const received: XRaySubsegment[] = [];
  daemon.on('message', (msg) => {
    const [header, body] = msg.toString('utf8').split('\n');
    expect(JSON.parse(header ?? '')).toEqual({ format: 'json', version: 1 });
    received.push(JSON.parse(body ?? '') as XRaySubsegment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  try {
    const { port } = daemon.address() as AddressInfo;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', './scripts/sh-loader.mjs', script], {
      env: {
        PATH: process.env.PATH,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_LAMBDA_FUNCTION_NAME: 'sshdoctor-test',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        LAMBDA_TASK_ROOT: process.cwd(),
        _HANDLER: handlerName,
        AWS_REGION: 'us-east-1',
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
        _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=${PARENT};Sampled=1`,
      },
      timeout: 60_000,
    });
    // Datagrams may trail the child's exit by a moment; the loop is bounded.
    for (let i = 0; i < 50 && received.length < expected; i++) await new Promise((r) => setTimeout(r, 20));
    return { out: JSON.parse(stdout), received };
  } finally {
    daemon.close();
  }
}

describe('X-Ray tracing', () => {
  it('sends a subsegment per invocation with its DynamoDB call; a 4xx answer is an error, a failure a fault', async () => {
    const { out, received } = await runTraced('test/service/support/traced-invoke.ts', 'functions/checks-get.handler', 5);
    const statuses = out as number[];
    expect(statuses.slice(0, 2)).toEqual([404, 400]);
    expect(statuses[2]).toBeGreaterThanOrEqual(500);
    const handlers = received.filter((s) => s.name === '## functions/checks-get.handler');
    expect(handlers).toHaveLength(3);
    for (const s of handlers) {
      expect(s.trace_id).toBe(TRACE_ID);
      expect(s.parent_id).toBe(PARENT);
      expect(s.annotations?.Service).toBe('sshdoctor');
    }
    expect(handlers.map((s) => s.annotations?.ColdStart)).toEqual([true, false, false]);
    // X-Ray's flags: error for the caller's mistakes (4xx), fault for ours (5xx).
    expect(handlers.map((s) => [Boolean(s.error), Boolean(s.fault)])).toEqual([
      [true, false],
      [true, false],
      [false, true],
    ]);
    // The unknown id was looked up in DynamoDB inside its invocation; the malformed one was
    // refused before any call. (Finished SDK subsegments arrive as datagrams of their own.)
    const calls = (s: XRaySubsegment) => received.filter((c) => c.parent_id === s.id).map((c) => c.name);
    expect(calls(handlers[0]!)).toEqual(['DynamoDB']);
    expect(calls(handlers[1]!)).toEqual([]);
    expect(calls(handlers[2]!)).toEqual(['DynamoDB']);
  });

  it('traces the calls of our own signed EC2 client (not the SDK) inside the handler', async () => {
    const { out, received } = await runTraced('test/service/support/traced-ec2.ts', 'functions/checks-create.handler', 2);
    expect(out).toEqual([200]);
    const handler = received.find((s) => s.name === '## functions/checks-create.handler');
    expect(handler?.id).toMatch(/^[0-9a-f]{16}$/);
    const calls = received.filter((c) => c.parent_id === handler!.id);
    expect(calls.map((c) => [c.name, c.http?.request?.method, c.http?.response?.status])).toEqual([['127.0.0.1', 'POST', 200]]);
  });
});
