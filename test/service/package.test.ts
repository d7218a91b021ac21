import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiClientConfig } from '../../lib/cloud/alibaba-sdk';
import type { OpenApiClientLike } from '../../lib/cloud/alibaba-rpc';
import { INSTANCE_ID, providerFor, startEmulator, TEST_AK, TEST_SECRET } from '../cloud/alibaba-support';

const FUNCTIONS = ['checks-create', 'checks-get', 'checks-fix', 'slack-command', 'slack-worker', 'dingtalk-command', 'fleet-sweep', 'fleet-worker'];

/** Relative specifiers a bundle imports at run time (`import("./x.mjs")`, `from "./x.mjs"`). */
function relativeImports(code: string): string[] {
  return [...code.matchAll(/(?:import\(|from)\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
}

describe('osls package', () => {
  let out: string;
  const unzipped = (fn: string) => join(out, 'unzipped', fn);
  const handlerFile = (fn: string) => join(unzipped(fn), 'functions', `${fn}.mjs`);

  beforeAll(async () => {
    // No real credentials and no network: the template must not need account lookups.
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDPACKAGE', AWS_SECRET_ACCESS_KEY: 'package', AWS_PROFILE: '', SLS_TELEMETRY_DISABLED: '1' };
    out = mkdtempSync(join(tmpdir(), 'sshdoctor-package-'));
    await promisify(execFile)('npx', ['osls', 'package', '--stage', 'ci', '--package', out], {
      cwd: process.cwd(),
      env,
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const fn of FUNCTIONS) {
      mkdirSync(unzipped(fn), { recursive: true });
      execFileSync('unzip', ['-q', '-o', join(out, `${fn}.zip`), '-d', unzipped(fn)]);
    }
  }, 300_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('packages every function offline, with no credentials, and the template wires IAM auth and the tables', () => {
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
      'GET /checks/{id}/fix/{fixId}': 'AWS_IAM',
      'POST /slack/command': 'NONE',
      'POST /dingtalk/command': 'NONE',
    });
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::DynamoDB::Table')).toHaveLength(5);
    const fixEnv = (template.Resources.ChecksDashfixLambdaFunction!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(fixEnv.FIX_AUDIT_TABLE).toBe('sshdoctor-ci-fix-audit');
    // Slack's Apply fix: the command function reads the allow-list, the worker writes the audit.
    const workerEnv = (template.Resources.SlackDashworkerLambdaFunction!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(workerEnv.FIX_AUDIT_TABLE).toBe('sshdoctor-ci-fix-audit');
    expect(template.Resources.SlackDashworkerLambdaFunction?.Properties.Timeout).toBe(300);
    expect(template.Resources.ChatJobsQueue?.Properties.VisibilityTimeout).toBe(1800);
    expect(types).toContain('AWS::Scheduler::Schedule');
    expect(types).toContain('AWS::SNS::Topic');
    // Secrets are references, never values.
    const env0 = (template.Resources.SlackDashcommandLambdaFunction!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env0.SLACK_SIGNING_SECRET_REF).toMatch(/^ssm:\//);
    expect(env0).toHaveProperty('SLACK_FIX_ALLOWED_USERS');
  });

  it('gives the diagnosing functions every EC2/SSM grant the collector needs, and the front doors only what they call', () => {
    type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
    type Resource = { Type: string; Properties: Record<string, unknown> };
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, Resource> };
    // osls' logical ids: `checks-create` -> `ChecksDashcreateLambdaFunction`.
    const logical = (fn: string) => `${fn[0]!.toUpperCase()}${fn.slice(1).replace(/-/g, 'Dash')}LambdaFunction`;
    const statementsOf = (fn: string): Statement[] => {
      const ref = template.Resources[logical(fn)]?.Properties.Role as { 'Fn::GetAtt': [string, string] };
      const role = template.Resources[ref['Fn::GetAtt'][0]]!;
      const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
      return policies.flatMap((p) => p.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow'));
    };
    const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
    const actionsOf = (fn: string): Set<string> => new Set(statementsOf(fn).flatMap((s) => list(s.Action)));
    /** An Allow statement of the function's role grants `action` on the resource `logicalId` (a `Fn::GetAtt` to it). */
    const grants = (fn: string, action: string, logicalId: string) =>
      statementsOf(fn).some(
        (s) => list(s.Action).includes(action) && list(s.Resource).some((r) => (r as { 'Fn::GetAtt'?: string[] })?.['Fn::GetAtt']?.[0] === logicalId),
      );
    // infra/iam-policy.json is checked against the code's calls (policy-coverage.test.ts); the
    // service's diagnosing role must grant all of it but the S3 read (no output bucket here).
    const cliPolicy = JSON.parse(readFileSync('infra/iam-policy.json', 'utf8')) as { Statement: Statement[] };
    const collectorActions = cliPolicy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).filter((a) => !a.startsWith('s3:'));
    for (const fn of ['checks-create', 'checks-fix', 'slack-worker', 'fleet-worker']) {
      const granted = actionsOf(fn);
      for (const action of [...collectorActions, 'xray:PutTraceSegments']) expect(granted.has(action), `${fn}: ${action}`).toBe(true);
    }
    const base = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
    // Reads reports and fix runs (one table), and nothing else: polling a fix run cannot change anything.
    expect([...actionsOf('checks-get')].sort()).toEqual([...base, 'dynamodb:GetItem'].sort());
    expect(grants('checks-get', 'dynamodb:GetItem', 'ReportsTable')).toBe(true);
    // checks-fix records the run and queues its job; slack-worker claims and settles the run.
    expect(grants('checks-fix', 'sqs:SendMessage', 'ChatJobsQueue')).toBe(true);
    for (const fn of ['checks-fix', 'slack-worker']) {
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'])
        expect(grants(fn, action, 'ReportsTable'), `${fn}: ${action}`).toBe(true);
      for (const action of ['dynamodb:PutItem', 'dynamodb:Query']) expect(grants(fn, action, 'FixAuditTable'), `${fn}: ${action}`).toBe(true);
    }
    expect([...actionsOf('slack-command')].sort()).toEqual([...base, 'ssm:GetParameter', 'dynamodb:PutItem', 'sqs:SendMessage'].sort());
    expect([...actionsOf('dingtalk-command')].sort()).toEqual([...base, 'dynamodb:PutItem', 'ssm:GetParameter', 'sqs:SendMessage'].sort());
    expect([...actionsOf('fleet-sweep')].sort()).toEqual([...base, 'ec2:DescribeInstances', 'secretsmanager:GetSecretValue', 'sqs:SendMessage'].sort());
    for (const fn of FUNCTIONS) expect(template.Resources[logical(fn)]?.Properties.TracingConfig, fn).toEqual({ Mode: 'Active' });
  });

  it('routes fix runs to checks-get, and the caller policies reach exactly their routes', () => {
    type Resource = { Type: string; Properties: Record<string, unknown> };
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, Resource> };
    const routes = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    const targetOf = (key: string) => JSON.stringify(routes.find((r) => r.Properties.RouteKey === key)?.Properties.Target);
    expect(targetOf('GET /checks/{id}/fix/{fixId}')).toContain('HttpApiIntegrationChecksDashget');
    expect(targetOf('POST /checks/{id}/fix')).toContain('HttpApiIntegrationChecksDashfix');

    // IAM evaluation of execute-api:Invoke: an Allow matches and no Deny does (`*` spans `/`).
    type PolicyStatement = { Effect: 'Allow' | 'Deny'; Action: string; Resource: string | string[] };
    const matches = (pattern: string, arn: string) =>
      new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      ).test(arn);
    const reachable = (policyFile: string) => {
      const policy = JSON.parse(readFileSync(policyFile, 'utf8')) as { Statement: PolicyStatement[] };
      const hit = (effect: string, arn: string) =>
        policy.Statement.some(
          (s) =>
            s.Effect === effect && s.Action === 'execute-api:Invoke' && (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).some((r) => matches(r, arn)),
        );
      return routes
        .map((r) => String(r.Properties.RouteKey))
        .filter((key) => {
          const [method, path] = key.split(' ') as [string, string];
          const arn = `arn:aws:execute-api:\${Region}:\${AccountId}:\${ApiId}/$default/${method}${path.replace(/\{[^}]+\}/g, '0f2e3d4c-0d7a-4a57-9c55-0d2b1f2c1e0d')}`;
          return hit('Allow', arn) && !hit('Deny', arn);
        })
        .sort();
    };
    expect(reachable('infra/fix-caller-policy.json')).toEqual(['GET /checks/{id}/fix/{fixId}', 'POST /checks/{id}/fix']);
    // GET/checks/* spans the fix run route too: check callers can read runs, never start one.
    expect(reachable('infra/check-caller-policy.json')).toEqual(['GET /checks/{id}', 'GET /checks/{id}/fix/{fixId}', 'POST /checks']);
  });

  it('ships the Alibaba SDK as a file of its own beside the handlers that use it, and only there', () => {
    for (const fn of FUNCTIONS) {
      const handler = handlerFile(fn);
      const imports = relativeImports(readFileSync(handler, 'utf8'));
      // Every file a bundle imports at run time is in its zip.
      for (const spec of imports) expect(existsSync(resolve(dirname(handler), spec)), `${fn}: ${spec}`).toBe(true);
      const files = readdirSync(join(unzipped(fn), 'functions'));
      expect(files.includes('alibaba-sdk.mjs'), fn).toBe(imports.includes('./alibaba-sdk.mjs'));
      // The SDK's own code is not in the handler bundle.
      expect(readFileSync(handler, 'utf8'), fn).not.toContain('x-acs-signature-nonce');
    }
    expect(relativeImports(readFileSync(handlerFile('checks-create'), 'utf8'))).toContain('./alibaba-sdk.mjs');
    expect(readdirSync(join(unzipped('checks-get'), 'functions'))).toEqual(['checks-get.mjs']);
  });

  it('loads the HTTP and Slack handlers without the Alibaba SDK file: it is not read at cold start', () => {
    for (const fn of ['checks-create', 'checks-fix', 'slack-command']) {
      rmSync(join(unzipped(fn), 'functions', 'alibaba-sdk.mjs'), { force: true });
      const script = `const m = await import(${JSON.stringify(pathToFileURL(handlerFile(fn)).href)}); process.stdout.write(typeof m.handler);`;
      const got = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: fn },
        encoding: 'utf8',
      });
      expect(got, fn).toBe('function');
    }
  });

  it('the packaged Alibaba SDK file makes signed calls that the Alibaba emulator accepts', async () => {
    const sdk = (await import(pathToFileURL(join(unzipped('fleet-worker'), 'functions', 'alibaba-sdk.mjs')).href)) as {
      createEcsClient(config: OpenApiClientConfig): OpenApiClientLike;
    };
    const emu = await startEmulator();
    try {
      emu.addInstance({ instanceId: INSTANCE_ID, publicIps: ['203.0.113.7'] });
      const [host, port] = emu.host.split(':');
      const client = sdk.createEcsClient({
        endpoint: `${host}:${port}`,
        protocol: 'http',
        regionId: 'cn-hangzhou',
        readTimeout: 5000,
        connectTimeout: 5000,
        accessKeyId: TEST_AK,
        accessKeySecret: TEST_SECRET,
      });
      const instance = await providerFor(emu, { clients: { ecs: client } }).describeInstance(INSTANCE_ID);
      expect(instance?.publicIps).toEqual(['203.0.113.7']);
      expect(emu.callsOf('ecs:DescribeInstances').map((c) => c.status)).toEqual([200]);
    } finally {
      await emu.close();
    }
  });
});
