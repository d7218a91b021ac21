import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const FUNCTIONS = ['checks-create', 'checks-get', 'checks-fix', 'slack-command', 'slack-worker', 'dingtalk-command', 'fleet-sweep', 'fleet-worker'];

describe('osls package', () => {
  it('packages every function offline, with no credentials, and the template wires IAM auth and the tables', async () => {
    // No real credentials and no network: the template must not need account lookups.
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDPACKAGE', AWS_SECRET_ACCESS_KEY: 'package', AWS_PROFILE: '', SLS_TELEMETRY_DISABLED: '1' };
    const out = mkdtempSync(join(tmpdir(), 'sshdoctor-package-'));
    await promisify(execFile)('npx', ['osls', 'package', '--stage', 'ci', '--package', out], {
      cwd: process.cwd(),
      env,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const fn of FUNCTIONS) {
      const zip = join(out, `${fn}.zip`);
      expect(existsSync(zip), zip).toBe(true);
      expect(statSync(zip).size).toBeGreaterThan(1000);
    }
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const routes = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    const auth = Object.fromEntries(routes.map((r) => [r.Properties.RouteKey, r.Properties.AuthorizationType ?? 'NONE']));
    expect(auth).toEqual({
      'POST /checks': 'AWS_IAM',
      'GET /checks/{id}': 'AWS_IAM',
      'POST /checks/{id}/fix': 'AWS_IAM',
      'POST /slack/command': 'NONE',
      'POST /dingtalk/command': 'NONE',
    });
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::DynamoDB::Table')).toHaveLength(5);
    const fixEnv = (template.Resources['ChecksDashfixLambdaFunction']?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(fixEnv.FIX_AUDIT_TABLE).toBe('sshdoctor-ci-fix-audit');
    // Slack's Apply fix: the command function reads the allow-list, the worker writes the audit.
    const workerEnv = (template.Resources['SlackDashworkerLambdaFunction']?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(workerEnv.FIX_AUDIT_TABLE).toBe('sshdoctor-ci-fix-audit');
    expect(template.Resources['SlackDashworkerLambdaFunction']?.Properties.Timeout).toBe(300);
    expect(template.Resources['ChatJobsQueue']?.Properties.VisibilityTimeout).toBe(1800);
    expect(types).toContain('AWS::Scheduler::Schedule');
    expect(types).toContain('AWS::SNS::Topic');
    // Secrets are references, never values.
    const env0 = (template.Resources['SlackDashcommandLambdaFunction']?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env0.SLACK_SIGNING_SECRET_REF).toMatch(/^ssm:\//);
    expect(env0).toHaveProperty('SLACK_FIX_ALLOWED_USERS');
    rmSync(out, { recursive: true, force: true });
  }, 300_000);
});
