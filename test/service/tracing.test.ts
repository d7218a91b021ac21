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
}

const TRACE_ID = '1-6930a1b2-0123456789abcdef01234567';
const PARENT = '53995c3f42cd8ad8';

describe('X-Ray tracing', () => {
  it('sends a subsegment per invocation with its DynamoDB call; a 4xx answer is an error, a failure a fault', async () => {
    // A UDP socket stands in for the X-Ray daemon: the SDK sends it the same datagrams.
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
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', '--import', './scripts/sh-loader.mjs', 'test/service/support/traced-invoke.ts'],
        {
          env: {
            PATH: process.env.PATH,
            // What Lambda's nodejs22.x runtime sets, with tracing on.
            AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
            AWS_LAMBDA_FUNCTION_NAME: 'sshdoctor-test-checks-get',
            AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
            LAMBDA_TASK_ROOT: process.cwd(),
            _HANDLER: 'functions/checks-get.handler',
            AWS_REGION: 'us-east-1',
            AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
            _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=${PARENT};Sampled=1`,
          },
          timeout: 60_000,
        },
      );
      const statuses = JSON.parse(stdout) as number[];
      expect(statuses.slice(0, 2)).toEqual([404, 400]);
      expect(statuses[2]).toBeGreaterThanOrEqual(500);
      for (let i = 0; i < 50 && received.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
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
    } finally {
      daemon.close();
    }
  });
});
