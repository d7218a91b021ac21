/**
 * A local Alibaba Cloud RPC endpoint for tests: ECS (2014-05-26) and Security Center
 * (2018-12-03) on one HTTP server on 127.0.0.1. It speaks what `@alicloud/openapi-core` 1.x
 * really sends for RPC through `callApi`: `x-acs-action` / `x-acs-version` headers, parameters
 * in a form body (or query), and an `Authorization: ACS3-HMAC-SHA256 ...` header, which is
 * VERIFIED here with the test's AccessKey secret (bad signatures get the real
 * `SignatureDoesNotMatch` error shape). Commands sent with RunCommand are really executed for
 * registered instances by an injected executor (local `sh -s`, or a lab instance's `via`).
 * Every call is recorded; faults are injected per action or per instance.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { checkSasRequest, sasHandlers } from './alibaba-sas';
import { header, readBody, requestId, send, verifyAcs3 } from './acs3-wire';
import { faultOutcome, type InvocationFault, type InvocationStatus } from './alibaba-invocations';

/** What Cloud Assistant does with a script on one instance. */
export type Executor = (script: string, timeoutMs: number) => Promise<{ output: string; exitCode: number | null; timedOut: boolean }>;

/** Runs the script with `sh -s` (optionally behind a prefix such as a lab's `via` command), stdout and stderr combined. */
export function shellExecutor(prefix: readonly string[] = []): Executor {
  return (script, timeoutMs) =>
    new Promise((resolve, reject) => {
      const argv = [...prefix, 'sh', '-s'];
      const child = spawn(argv[0] ?? 'sh', argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ output: Buffer.concat(chunks).toString('utf8'), exitCode: code, timedOut });
      });
      child.stdin.on('error', () => undefined); // the script may exit before reading all of stdin
      child.stdin.end(script);
    });
}

export type { InvocationFault } from './alibaba-invocations';

export interface EmulatedInstance {
  instanceId: string;
  regionId: string;
  status: 'Running' | 'Stopped' | 'Starting' | 'Stopping' | 'Pending';
  osType: 'linux' | 'windows';
  publicIps: string[];
  eip?: string;
  privateIps: string[];
  securityGroupIds: string[];
  vpcId?: string;
  vSwitchId?: string;
  tags?: Record<string, string>;
  /** `true`/`false` as the API reports it; null: not registered with Cloud Assistant. */
  cloudAssistant: 'true' | 'false' | null;
  /** Security Center agent UUID, when the instance has one. */
  sasUuid?: string;
  executor?: Executor;
  fault?: InvocationFault;
}

export interface RecordedCall {
  /** `ecs:RunCommand`, `yundun-sas:DescribeBruteForceRecords`, ... */
  action: string;
  params: Record<string, string>;
  status: number;
  code?: string;
  /** The JSON body answered (for the contract test). */
  response?: Record<string, unknown>;
}

interface Invocation {
  invokeId: string;
  commandId: string;
  createdAt: number;
  results: Map<string, InvocationRecord>;
}

interface InvocationRecord {
  instanceId: string;
  status: InvocationStatus;
  errorCode: string;
  errorInfo: string;
  output: Buffer;
  dropped: number;
  exitCode: number | null;
  startTime?: string;
  finishedTime?: string;
}

/** Cloud Assistant keeps at most 24 KB of output per invocation; the rest is counted in `Dropped`. */
export const OUTPUT_LIMIT_BYTES = 24 * 1024;

const DEFAULT_DELIVERY_DELAY_MS = 20;

const VERSIONS: Record<string, 'ecs' | 'yundun-sas'> = { '2014-05-26': 'ecs', '2018-12-03': 'yundun-sas' };

export class AlibabaEmulator {
  readonly calls: RecordedCall[] = [];
  readonly instances = new Map<string, EmulatedInstance>();
  /** Security group id -> ECS `Permission` objects, as DescribeSecurityGroupAttribute returns them. */
  readonly securityGroups = new Map<string, Record<string, unknown>[]>();
  /** Port list id (`prl-...`) -> `Entries` of DescribePortRangeListEntries. */
  readonly portRangeLists = new Map<string, { PortRange: string; Description?: string }[]>();
  /** SAS `MachineList` entries. */
  readonly bruteForceRecords: Record<string, unknown>[] = [];
  /** SAS `RecordList` entries. */
  readonly customBlockRecords: Record<string, unknown>[] = [];
  readonly faults = {
    /** `service:Action` (or `*`) -> how many of the next calls answer Throttling.User. */
    throttle: new Map<string, number>(),
    /** `service:Action` (or `*`) -> how many of the next calls answer HTTP 500 InternalError. */
    serverError: new Map<string, number>(),
    /** `service:Action` answered with 403 Forbidden.RAM. */
    forbidden: new Set<string>(),
    /** DescribeInvocationResults omits an invocation for this long after RunCommand. */
    resultsHiddenForMs: 0,
    /** Delay between RunCommand and the agent starting the script. */
    deliveryDelayMs: DEFAULT_DELIVERY_DELAY_MS,
  };
  /** When set, a RAM policy in force: any other action answers 403 Forbidden.RAM. */
  allowedActions: Set<string> | null = null;
  private readonly invocations = new Map<string, Invocation>();
  private readonly clientTokens = new Map<string, { invokeId: string; commandId: string }>();
  private readonly nonces = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private server: http.Server | undefined;
  private defaultExecutor: Executor;

  constructor(
    readonly accessKeyId: string,
    private readonly accessKeySecret: string,
    opts: { executor?: Executor } = {},
  ) {
    this.defaultExecutor = opts.executor ?? shellExecutor();
  }

  /** `127.0.0.1:PORT`, the value for ALIBABA_CLOUD_ECS_ENDPOINT / ALIBABA_CLOUD_SAS_ENDPOINT. */
  get host(): string {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    if (!addr) throw new Error('emulator not started');
    return `127.0.0.1:${addr.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        send(res, 500, { RequestId: requestId(), Code: 'InternalError', Message: String(err) });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  /** Back to a new emulator's state, for the next test: no calls, instances, groups, records, faults or RAM policy. */
  reset(): void {
    this.calls.length = 0;
    this.instances.clear();
    this.securityGroups.clear();
    this.portRangeLists.clear();
    this.bruteForceRecords.length = 0;
    this.customBlockRecords.length = 0;
    this.faults.throttle.clear();
    this.faults.serverError.clear();
    this.faults.forbidden.clear();
    this.faults.resultsHiddenForMs = 0;
    this.faults.deliveryDelayMs = DEFAULT_DELIVERY_DELAY_MS;
    this.allowedActions = null;
  }

  addInstance(i: Partial<EmulatedInstance> & { instanceId: string }): EmulatedInstance {
    const full: EmulatedInstance = {
      regionId: 'cn-hangzhou',
      status: 'Running',
      osType: 'linux',
      publicIps: [],
      privateIps: ['172.16.0.10'],
      securityGroupIds: [],
      cloudAssistant: 'true',
      ...i,
    };
    this.instances.set(full.instanceId, full);
    return full;
  }

  /** Calls of one action (`ecs:RunCommand`), in order. */
  callsOf(action: string): RecordedCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://emulator');
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = v;
    }
    const version = header(req, 'x-acs-version');
    const service = VERSIONS[version];
    const action = `${service ?? 'unknown'}:${header(req, 'x-acs-action')}`;
    const reply = (status: number, payload: Record<string, unknown>) => {
      const code = typeof payload.Code === 'string' ? payload.Code : undefined;
      const response = { RequestId: requestId(), ...payload };
      this.calls.push(code ? { action, params, status, code, response } : { action, params, status, response });
      send(res, status, response);
    };
    const fail = (status: number, code: string, message: string) => reply(status, { HostId: req.headers.host ?? '', Code: code, Message: message });

    const sigError = verifyAcs3(req, url, body, this.accessKeyId, this.accessKeySecret, this.nonces);
    if (sigError) return fail(sigError.status, sigError.code, sigError.message);
    if (!service) return fail(400, 'InvalidVersion', `Specified parameter Version is not valid: ${version}`);
    if (take(this.faults.throttle, action)) return fail(400, 'Throttling.User', 'Request was denied due to user flow control.');
    if (take(this.faults.serverError, action)) {
      return fail(500, 'InternalError', 'The request processing has failed due to some unknown error.');
    }
    if (this.faults.forbidden.has(action) || (this.allowedActions !== null && !this.allowedActions.has(action))) {
      return fail(403, 'Forbidden.RAM', "User not authorized to operate on the specified resource, or this API doesn't support RAM.");
    }
    const handler = this.handlers[action];
    if (!handler) return fail(404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method: ${action}`);
    const out = checkSasRequest(action.replace(/^yundun-sas:/, ''), params) ?? handler(params);
    if ('error' in out) return fail(out.error[0], out.error[1], out.error[2]);
    reply(200, out.ok);
  }

  private readonly handlers: Record<string, (p: Record<string, string>) => { ok: Record<string, unknown> } | { error: [number, string, string] }> = {
    'ecs:DescribeInstances': (p) => {
      let list = [...this.instances.values()].filter((i) => !p.RegionId || i.regionId === p.RegionId);
      if (p.InstanceIds) {
        let ids: unknown;
        try {
          ids = JSON.parse(p.InstanceIds);
        } catch {
          return { error: [400, 'InvalidInstanceIds.Malformed', 'The specified parameter InstanceIds is not valid.'] };
        }
        if (!Array.isArray(ids)) return { error: [400, 'InvalidInstanceIds.Malformed', 'InstanceIds must be a JSON array.'] };
        list = list.filter((i) => ids.includes(i.instanceId));
      }
      for (let n = 1; p[`Tag.${n}.Key`] !== undefined; n++) {
        const k = p[`Tag.${n}.Key`] ?? '';
        const v = p[`Tag.${n}.Value`];
        list = list.filter((i) => i.tags?.[k] !== undefined && (v === undefined || i.tags[k] === v));
      }
      const size = Math.min(100, Number(p.MaxResults ?? p.PageSize ?? 10) || 10);
      const start = Number(p.NextToken ?? 0) || 0;
      const page = list.slice(start, start + size);
      const next = start + size < list.length ? String(start + size) : '';
      return {
        ok: { Instances: { Instance: page.map(instanceJson) }, TotalCount: list.length, NextToken: next, PageSize: size },
      };
    },
    'ecs:DescribeSecurityGroupAttribute': (p) => {
      const perms = this.securityGroups.get(p.SecurityGroupId ?? '');
      if (!perms) return { error: [404, 'InvalidSecurityGroupId.NotFound', 'The specified security group does not exist.'] };
      const dir = p.Direction ?? 'all';
      const list = perms.filter((x) => dir === 'all' || x.Direction === dir);
      return { ok: { SecurityGroupId: p.SecurityGroupId, RegionId: p.RegionId, InnerAccessPolicy: 'Accept', Permissions: { Permission: list } } };
    },
    'ecs:DescribePortRangeListEntries': (p) => {
      if (!p.PortRangeListId) return { error: [400, 'MissingParameter', 'PortRangeListId is mandatory for this action.'] };
      const entries = this.portRangeLists.get(p.PortRangeListId);
      if (!entries) return { error: [404, 'InvalidPortRangeListId.NotFound', 'The specified port list does not exist.'] };
      return { ok: { Entries: entries } };
    },
    'ecs:DescribeCloudAssistantStatus': (p) => {
      const ids = Object.keys(p)
        .filter((k) => /^InstanceId\.\d+$/.test(k))
        .map((k) => p[k] ?? '');
      const set = ids
        .map((id) => this.instances.get(id))
        .filter((i): i is EmulatedInstance => i !== undefined && i.cloudAssistant !== null)
        .map((i) => ({
          InstanceId: i.instanceId,
          CloudAssistantStatus: i.cloudAssistant,
          CloudAssistantVersion: '2.2.3.857',
          LastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          OSType: i.osType === 'linux' ? 'Linux' : 'Windows',
        }));
      return { ok: { InstanceCloudAssistantStatusSet: { InstanceCloudAssistantStatus: set }, TotalCount: set.length } };
    },
    'ecs:RunCommand': (p) => this.runCommand(p),
    // A one-time command: instances that have not started it never will; running ones go on.
    'ecs:StopInvocation': (p) => {
      const inv = this.invocations.get(p.InvokeId ?? '');
      if (!inv) return { error: [404, 'InvalidInvokeId.NotFound', 'The specified InvokeId does not exist.'] };
      const ids = Object.keys(p)
        .filter((k) => /^InstanceId\.\d+$/.test(k))
        .map((k) => p[k]!);
      if (ids.length > 50) return { error: [403, 'InstanceIds.ExceedLimit', 'The number of instance IDs exceeds the upper limit.'] };
      for (const rec of inv.results.values()) {
        // A one-time command stopped before it started is Cancelled (the API has no Stopped).
        if ((ids.length === 0 || ids.includes(rec.instanceId)) && rec.status === 'Pending') {
          rec.status = 'Cancelled';
          rec.finishedTime = new Date().toISOString();
        }
      }
      return { ok: {} };
    },
    'ecs:DescribeInvocationResults': (p) => {
      const inv = this.invocations.get(p.InvokeId ?? '');
      if (!inv) return { error: [404, 'InvalidInvokeId.NotFound', 'The specified invoke id does not exist.'] };
      const hidden = Date.now() - inv.createdAt < this.faults.resultsHiddenForMs;
      let recs = hidden ? [] : [...inv.results.values()];
      if (p.InstanceId) recs = recs.filter((r) => r.instanceId === p.InstanceId);
      const size = Math.min(50, Number(p.PageSize ?? 10) || 10);
      const pageNo = Math.max(1, Number(p.PageNumber ?? 1) || 1);
      const plain = p.ContentEncoding === 'PlainText';
      const page = recs.slice((pageNo - 1) * size, pageNo * size).map((r) => ({
        CommandId: inv.commandId,
        InvokeId: inv.invokeId,
        InstanceId: r.instanceId,
        InvocationStatus: r.status,
        InvokeRecordStatus: ['Success', 'Failed', 'Timeout', 'Cancelled', 'Terminated'].includes(r.status) ? 'Finished' : r.status,
        Output: plain ? r.output.toString('utf8') : r.output.toString('base64'),
        Dropped: r.dropped,
        ErrorCode: r.errorCode,
        ErrorInfo: r.errorInfo,
        ExitCode: r.exitCode,
        StartTime: r.startTime,
        FinishedTime: r.finishedTime,
        Repeats: 1,
      }));
      return {
        ok: {
          Invocation: { PageSize: size, PageNumber: pageNo, TotalCount: recs.length, InvocationResults: { InvocationResult: page } },
        },
      };
    },
    'yundun-sas:DescribeCloudCenterInstances': (p) => {
      let crit: { name?: string; value?: string }[] = [];
      try {
        crit = p.Criteria ? (JSON.parse(p.Criteria) as typeof crit) : [];
      } catch {
        return { error: [400, 'InvalidParameter', 'Criteria is not valid JSON.'] };
      }
      const want = crit.find((c) => c.name === 'instanceId')?.value;
      const list = [...this.instances.values()]
        .filter((i) => i.sasUuid && (!want || i.instanceId === want))
        .map((i) => ({ InstanceId: i.instanceId, Uuid: i.sasUuid, RegionId: i.regionId, ClientStatus: 'online' }));
      return { ok: { Instances: list, PageInfo: { CurrentPage: 1, PageSize: 20, TotalCount: list.length, Count: list.length } } };
    },
    ...sasHandlers(this),
  };

  private runCommand(p: Record<string, string>): { ok: Record<string, unknown> } | { error: [number, string, string] } {
    if (p.Type !== 'RunShellScript') return { error: [400, 'InvalidParameter.Type', 'Only RunShellScript is emulated.'] };
    const ids = Object.keys(p)
      .filter((k) => /^InstanceId\.\d+$/.test(k))
      .map((k) => p[k] ?? '');
    if (ids.length === 0) return { error: [400, 'MissingParameter.InstanceIds', 'InstanceId.N is required.'] };
    if (ids.length > 100) return { error: [400, 'InstanceIds.ExceedLimit', 'At most 100 instances per RunCommand.'] };
    for (const id of ids) {
      if (!this.instances.has(id)) return { error: [404, 'InvalidInstance.NotFound', `The specified instance ${id} does not exist.`] };
    }
    const content = p.CommandContent ?? '';
    const script = p.ContentEncoding === 'Base64' ? Buffer.from(content, 'base64').toString('utf8') : content;
    const timeoutSec = Number(p.Timeout ?? 60);
    if (!Number.isInteger(timeoutSec) || timeoutSec < 10 || timeoutSec > 86400) {
      return { error: [400, 'InvalidParameter.Timeout', 'Timeout must be an integer from 10 to 86400.'] };
    }
    if (p.ClientToken) {
      const prior = this.clientTokens.get(p.ClientToken);
      if (prior) return { ok: { CommandId: prior.commandId, InvokeId: prior.invokeId } };
    }
    const inv: Invocation = {
      invokeId: `t-hz${randomBytes(6).toString('hex')}`,
      commandId: `c-hz${randomBytes(6).toString('hex')}`,
      createdAt: Date.now(),
      results: new Map(),
    };
    this.invocations.set(inv.invokeId, inv);
    if (p.ClientToken) this.clientTokens.set(p.ClientToken, { invokeId: inv.invokeId, commandId: inv.commandId });
    for (const id of ids) {
      const rec: InvocationRecord = { instanceId: id, status: 'Pending', errorCode: '', errorInfo: '', output: Buffer.alloc(0), dropped: 0, exitCode: null };
      inv.results.set(id, rec);
      const job = this.execute(this.instances.get(id)!, rec, script, timeoutSec * 1000);
      this.running.add(job);
      void job.finally(() => this.running.delete(job));
    }
    return { ok: { CommandId: inv.commandId, InvokeId: inv.invokeId } };
  }

  private async execute(inst: EmulatedInstance, rec: InvocationRecord, script: string, timeoutMs: number): Promise<void> {
    await sleep(this.faults.deliveryDelayMs);
    if (rec.status === 'Cancelled') return;
    const finish = (status: InvocationStatus, code: string, info: string) => {
      rec.status = status;
      rec.errorCode = code;
      rec.errorInfo = info;
      rec.finishedTime = new Date().toISOString();
    };
    const fault = inst.fault ?? (inst.status !== 'Running' ? 'InstanceNotRunning' : inst.cloudAssistant !== 'true' ? 'ClientNotRunning' : undefined);
    if (fault === 'StuckPending') return;
    if (fault) {
      const o = faultOutcome(fault);
      if (o.status === 'Timeout' || o.status === 'Terminated' || o.code === 'ExecutionException') {
        rec.status = 'Running';
        rec.startTime = new Date().toISOString();
      }
      return finish(o.status, o.code, o.info);
    }
    rec.status = 'Running';
    rec.startTime = new Date().toISOString();
    const r = await (inst.executor ?? this.defaultExecutor)(script, timeoutMs);
    const out = Buffer.from(r.output, 'utf8');
    rec.output = out.subarray(0, OUTPUT_LIMIT_BYTES);
    rec.dropped = Math.max(0, out.length - OUTPUT_LIMIT_BYTES);
    rec.exitCode = r.exitCode;
    if (r.timedOut) return finish('Timeout', 'ExecutionTimeout', 'the command did not finish within the timeout');
    if (r.exitCode === 0) return finish('Success', '', '');
    return finish('Failed', 'ExitCodeNonzero', `the command exited with code ${r.exitCode}`);
  }
}

function instanceJson(i: EmulatedInstance): Record<string, unknown> {
  return {
    InstanceId: i.instanceId,
    RegionId: i.regionId,
    Status: i.status,
    OSType: i.osType,
    OSName: i.osType === 'linux' ? 'Debian 12.5 64 bit' : 'Windows Server 2022',
    PublicIpAddress: { IpAddress: i.publicIps },
    EipAddress: { IpAddress: i.eip ?? '', AllocationId: i.eip ? 'eip-emulated' : '' },
    InnerIpAddress: { IpAddress: [] },
    VpcAttributes: { VpcId: i.vpcId ?? 'vpc-emulated', VSwitchId: i.vSwitchId ?? 'vsw-emulated', PrivateIpAddress: { IpAddress: i.privateIps } },
    SecurityGroupIds: { SecurityGroupId: i.securityGroupIds },
    Tags: { Tag: Object.entries(i.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
  };
}

/** Takes one from a fault counter keyed by action or `*`; true when the fault applies. */
function take(counters: Map<string, number>, action: string): boolean {
  for (const key of [action, '*']) {
    const n = counters.get(key) ?? 0;
    if (n > 0) {
      counters.set(key, n - 1);
      return true;
    }
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
