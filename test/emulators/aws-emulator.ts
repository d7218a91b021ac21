/**
 * A local AWS emulator on 127.0.0.1 (random port) for the real SDK clients: SSM (awsJson1_1,
 * `X-Amz-Target: AmazonSSM.*`), EC2 (Query protocol, XML) and S3 GetObject (path style). It
 * actually runs sent scripts on registered instances through an injected executor, records
 * every call, checks the SigV4 Authorization header's shape, and injects faults.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Executor } from './executors';
import {
  ec2Error,
  ec2Response,
  el,
  instanceXml,
  networkAclXml,
  securityGroupXml,
  set,
  type EmuInstance,
  type EmuNetworkAcl,
  type EmuSecurityGroup,
} from './aws-ec2-xml';

export type { EmuInstance, EmuNetworkAcl, EmuSecurityGroup } from './aws-ec2-xml';

/** SSM's inline stdout limit in GetCommandInvocation. */
export const SSM_STDOUT_LIMIT = 24_000;
const SSM_STDERR_LIMIT = 8_000;

export interface EmuManagedInstance extends EmuInstance {
  /** SSM registration: null means the instance is not a managed instance. */
  pingStatus: 'Online' | 'ConnectionLost' | 'Inactive' | null;
  agentVersion?: string;
  executor?: Executor;
}

export interface AwsFaults {
  /** action -> how many more calls answer ThrottlingException (EC2: RequestLimitExceeded). */
  throttle: Record<string, number>;
  /** action -> how many more calls answer HTTP 500 InternalServerError. */
  serverError: Record<string, number>;
  /** Actions answered with AccessDenied(Exception) / UnauthorizedOperation. */
  accessDenied: Set<string>;
  /** When set, an IAM policy in effect: any `service:Action` not in it is denied. */
  allowOnly?: Set<string>;
  /** The first N GetCommandInvocation calls per invocation answer InvocationDoesNotExist. */
  invocationDoesNotExistPolls: number;
  /** Force this outcome for every invocation instead of running the script. */
  outcome?: 'Undeliverable' | 'DeliveryTimedOut' | 'ExecutionTimedOut' | 'Terminated' | 'Cancelled';
  /** How long a forced outcome (or a ConnectionLost delivery) takes to appear. Default 300 ms. */
  outcomeDelayMs: number;
  /** Pending -> InProgress delay (agent pickup). Default 0. */
  deliveryDelayMs: number;
}

export interface RecordedCall {
  service: 'ssm' | 'ec2' | 's3';
  action: string;
  params: Record<string, unknown>;
  region: string;
  at: number;
}

interface Invocation {
  instanceId: string;
  status: string;
  statusDetails: string;
  responseCode: number;
  stdout: string;
  stderr: string;
  polls: number;
  startedAt?: number;
  endedAt?: number;
  timer?: NodeJS.Timeout;
}

interface Command {
  commandId: string;
  documentName: string;
  bucket?: string;
  prefix?: string;
  invocations: Map<string, Invocation>;
}

/**
 * The lab's network as EC2 reports it: sg-0aaa0aaa lets port 22 in from the lab addresses
 * (10.231.0.0/16), and subnet-0aaa0aaa (every instance's default) has an allow-all network ACL.
 */
export function addLabNetwork(emu: AwsEmulator): void {
  emu.addSecurityGroup({ groupId: 'sg-0aaa0aaa', vpcId: 'vpc-0aaa0aaa', ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['10.231.0.0/16'] }] });
  emu.addNetworkAcl({
    aclId: 'acl-0aaa0aaa',
    vpcId: 'vpc-0aaa0aaa',
    subnetIds: ['subnet-0aaa0aaa'],
    entries: [
      { ruleNumber: 100, egress: false, action: 'allow', protocol: '-1', cidr: '0.0.0.0/0' },
      { ruleNumber: 100, egress: true, action: 'allow', protocol: '-1', cidr: '0.0.0.0/0' },
    ],
  });
}

export interface AwsEmulator {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly calls: RecordedCall[];
  readonly faults: AwsFaults;
  readonly s3: Map<string, string>;
  addInstance(i: Partial<EmuManagedInstance> & { instanceId: string }): EmuManagedInstance;
  addSecurityGroup(g: EmuSecurityGroup): void;
  addNetworkAcl(a: EmuNetworkAcl): void;
  /** Documents accepted besides AWS-RunShellScript (e.g. the project's own). */
  addDocument(name: string): void;
  count(action: string): number;
  reset(): void;
  close(): Promise<void>;
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{4,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

class EmuError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function defaultFaults(): AwsFaults {
  return { throttle: {}, serverError: {}, accessDenied: new Set(), invocationDoesNotExistPolls: 0, outcomeDelayMs: 300, deliveryDelayMs: 0 };
}

export async function startAwsEmulator(): Promise<AwsEmulator> {
  const instances = new Map<string, EmuManagedInstance>();
  const groups = new Map<string, EmuSecurityGroup>();
  const acls: EmuNetworkAcl[] = [];
  const commands = new Map<string, Command>();
  const documents = new Set(['AWS-RunShellScript']);
  const calls: RecordedCall[] = [];
  const s3 = new Map<string, string>();
  const faults = defaultFaults();

  function injected(action: string, service: 'ssm' | 'ec2' | 's3'): void {
    if ((faults.throttle[action] ?? 0) > 0) {
      faults.throttle[action]!--;
      if (service === 'ec2') throw new EmuError(503, 'RequestLimitExceeded', 'Request limit exceeded.');
      throw new EmuError(400, 'ThrottlingException', 'Rate exceeded');
    }
    if ((faults.serverError[action] ?? 0) > 0) {
      faults.serverError[action]!--;
      throw new EmuError(500, 'InternalServerError', 'We encountered an internal error. Please try again.');
    }
    if (faults.accessDenied.has(action) || (faults.allowOnly && !faults.allowOnly.has(`${service}:${action}`))) {
      if (service === 'ec2') throw new EmuError(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.');
      if (service === 's3') throw new EmuError(403, 'AccessDenied', 'Access Denied');
      throw new EmuError(400, 'AccessDeniedException', `User is not authorized to perform: ssm:${action}`);
    }
  }

  // ---- SSM ----------------------------------------------------------------------------
  function finish(inv: Invocation, status: string, details: string, code: number): void {
    inv.status = status;
    inv.statusDetails = details;
    inv.responseCode = code;
    inv.endedAt = Date.now();
  }

  function start(cmd: Command, inv: Invocation, script: string, execTimeoutS: number, deliveryTimeoutS: number): void {
    const inst = instances.get(inv.instanceId)!;
    const forced = faults.outcome;
    if (forced || inst.pingStatus !== 'Online') {
      const outcome = forced ?? 'DeliveryTimedOut';
      // A lost agent never picks the command up: it times out on delivery (after TimeoutSeconds in AWS).
      const delay = forced ? faults.outcomeDelayMs : Math.min(faults.outcomeDelayMs, deliveryTimeoutS * 1000);
      inv.timer = setTimeout(() => {
        if (outcome === 'Undeliverable') finish(inv, 'Failed', 'Undeliverable', -1);
        else if (outcome === 'DeliveryTimedOut') finish(inv, 'TimedOut', 'DeliveryTimedOut', -1);
        else if (outcome === 'ExecutionTimedOut') finish(inv, 'TimedOut', 'ExecutionTimedOut', -1);
        else if (outcome === 'Terminated') finish(inv, 'Failed', 'Terminated', -1);
        else finish(inv, 'Cancelled', 'Cancelled', -1);
      }, delay);
      return;
    }
    inv.timer = setTimeout(() => {
      if (inv.status !== 'Pending') return;
      inv.status = 'InProgress';
      inv.statusDetails = 'InProgress';
      inv.startedAt = Date.now();
      const exec = inst.executor;
      if (!exec) return finish(inv, 'Failed', 'Failed', 127);
      void exec(script, { timeoutMs: execTimeoutS * 1000 }).then((r) => {
        if (inv.status !== 'InProgress') return; // cancelled meanwhile
        inv.stdout = r.stdout;
        inv.stderr = r.stderr;
        if (cmd.bucket) {
          const base = `${cmd.prefix ? `${cmd.prefix}/` : ''}${cmd.commandId}/${inv.instanceId}/awsrunShellScript/0.awsrunShellScript`;
          s3.set(`${cmd.bucket}/${base}/stdout`, r.stdout);
          if (r.stderr) s3.set(`${cmd.bucket}/${base}/stderr`, r.stderr);
        }
        if (r.timedOut) finish(inv, 'TimedOut', 'ExecutionTimedOut', -1);
        else if (r.exitCode === 0) finish(inv, 'Success', 'Success', 0);
        else finish(inv, 'Failed', 'Failed', r.exitCode ?? -1);
      });
    }, faults.deliveryDelayMs);
  }

  function invocationJson(cmd: Command, inv: Invocation, region: string): Record<string, unknown> {
    const base = `${cmd.prefix ? `${cmd.prefix}/` : ''}${cmd.commandId}/${inv.instanceId}/awsrunShellScript/0.awsrunShellScript`;
    return {
      CommandId: cmd.commandId,
      InstanceId: inv.instanceId,
      DocumentName: cmd.documentName,
      DocumentVersion: '$DEFAULT',
      PluginName: 'aws:runShellScript',
      ResponseCode: inv.responseCode,
      Status: inv.status,
      StatusDetails: inv.statusDetails,
      ExecutionStartDateTime: inv.startedAt ? new Date(inv.startedAt).toISOString() : '',
      ExecutionEndDateTime: inv.endedAt ? new Date(inv.endedAt).toISOString() : '',
      ExecutionElapsedTime: inv.startedAt && inv.endedAt ? `PT${((inv.endedAt - inv.startedAt) / 1000).toFixed(3)}S` : '',
      StandardOutputContent: inv.stdout.slice(0, SSM_STDOUT_LIMIT),
      StandardErrorContent: inv.stderr.slice(0, SSM_STDERR_LIMIT),
      StandardOutputUrl: cmd.bucket ? `https://s3.${region}.amazonaws.com/${cmd.bucket}/${base}/stdout` : '',
      StandardErrorUrl: cmd.bucket ? `https://s3.${region}.amazonaws.com/${cmd.bucket}/${base}/stderr` : '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  // biome-ignore lint/suspicious/noExplicitAny: each SSM action reads its own JSON request shape
  const ssm: Record<string, (p: Record<string, any>, region: string) => unknown> = {
    SendCommand(p) {
      const ids: string[] = p.InstanceIds ?? [];
      if (!ids.length || ids.length > 50) throw new EmuError(400, 'ValidationException', 'InstanceIds must contain 1 to 50 ids');
      if (!documents.has(p.DocumentName)) throw new EmuError(400, 'InvalidDocument', `Document ${p.DocumentName} does not exist`);
      const lines: unknown = p.Parameters?.commands;
      if (!Array.isArray(lines) || !lines.every((l) => typeof l === 'string')) throw new EmuError(400, 'InvalidParameters', 'commands is required');
      const exec = Number(p.Parameters?.executionTimeout?.[0] ?? 3600);
      if (!Number.isInteger(exec) || exec < 1 || exec > 172800) throw new EmuError(400, 'InvalidParameters', 'executionTimeout out of range');
      const timeoutSeconds = p.TimeoutSeconds ?? 3600;
      if (timeoutSeconds < 30 || timeoutSeconds > 2592000) throw new EmuError(400, 'ValidationException', 'TimeoutSeconds must be 30..2592000');
      const bad = ids.filter((id) => !instances.get(id)?.pingStatus || !['running', 'pending', 'stopped', 'stopping'].includes(instances.get(id)!.state));
      if (bad.length) throw new EmuError(400, 'InvalidInstanceId', `Instances [[${bad.join(', ')}]] not in a valid state for account 123456789012`);
      const cmd: Command = {
        commandId: randomUUID(),
        documentName: p.DocumentName,
        bucket: p.OutputS3BucketName || undefined,
        prefix: p.OutputS3KeyPrefix || undefined,
        invocations: new Map(),
      };
      commands.set(cmd.commandId, cmd);
      const script = lines.join('\n');
      for (const id of ids) {
        const inv: Invocation = { instanceId: id, status: 'Pending', statusDetails: 'Pending', responseCode: -1, stdout: '', stderr: '', polls: 0 };
        cmd.invocations.set(id, inv);
        start(cmd, inv, script, exec, timeoutSeconds);
      }
      return {
        Command: {
          CommandId: cmd.commandId,
          DocumentName: cmd.documentName,
          InstanceIds: ids,
          Status: 'Pending',
          RequestedDateTime: Date.now() / 1000,
          TimeoutSeconds: timeoutSeconds,
          TargetCount: ids.length,
        },
      };
    },
    GetCommandInvocation(p, region) {
      const cmd = commands.get(p.CommandId);
      const inv = cmd?.invocations.get(p.InstanceId);
      if (!cmd || !inv) throw new EmuError(400, 'InvocationDoesNotExist', '');
      if (inv.polls++ < faults.invocationDoesNotExistPolls) throw new EmuError(400, 'InvocationDoesNotExist', '');
      return invocationJson(cmd, inv, region);
    },
    ListCommandInvocations(p) {
      const cmd = commands.get(p.CommandId);
      if (!cmd) throw new EmuError(400, 'InvalidCommandId', '');
      const all = [...cmd.invocations.values()];
      const max = Math.min(50, p.MaxResults ?? 50);
      const from = p.NextToken ? Number(p.NextToken) : 0;
      const page = all.slice(from, from + max);
      return {
        CommandInvocations: page.map((inv) => ({
          CommandId: cmd.commandId,
          InstanceId: inv.instanceId,
          DocumentName: cmd.documentName,
          Status: inv.status,
          StatusDetails: inv.statusDetails,
        })),
        ...(from + max < all.length ? { NextToken: String(from + max) } : {}),
      };
    },
    CancelCommand(p) {
      const cmd = commands.get(p.CommandId);
      if (!cmd) throw new EmuError(400, 'InvalidCommandId', '');
      for (const inv of cmd.invocations.values()) {
        if (['Pending', 'InProgress', 'Delayed'].includes(inv.status)) {
          clearTimeout(inv.timer);
          finish(inv, 'Cancelled', 'Cancelled', -1);
        }
      }
      return {};
    },
    DescribeInstanceInformation(p) {
      const filter = (p.Filters ?? []).find((f: { Key: string }) => f.Key === 'InstanceIds');
      const ids: string[] = filter?.Values ?? [...instances.keys()];
      return {
        InstanceInformationList: ids
          .map((id) => instances.get(id))
          .filter((i): i is EmuManagedInstance => !!i && i.pingStatus !== null)
          .map((i) => ({
            InstanceId: i.instanceId,
            PingStatus: i.pingStatus,
            LastPingDateTime: Date.now() / 1000 - (i.pingStatus === 'Online' ? 10 : 3600),
            AgentVersion: i.agentVersion ?? '3.3.1142.0',
            PlatformType: i.platform === 'windows' ? 'Windows' : 'Linux',
            ResourceType: 'EC2Instance',
          })),
      };
    },
  };

  // ---- EC2 ----------------------------------------------------------------------------
  function listParam(p: URLSearchParams, prefix: string): string[] {
    const out: string[] = [];
    for (let n = 1; p.has(`${prefix}.${n}`); n++) out.push(p.get(`${prefix}.${n}`)!);
    return out;
  }

  function filters(p: URLSearchParams): { name: string; values: string[] }[] {
    const out = [];
    for (let n = 1; p.has(`Filter.${n}.Name`); n++) out.push({ name: p.get(`Filter.${n}.Name`)!, values: listParam(p, `Filter.${n}.Value`) });
    return out;
  }

  const ec2: Record<string, (p: URLSearchParams) => string> = {
    DescribeInstances(p) {
      const ids = listParam(p, 'InstanceId');
      for (const id of ids) {
        if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new EmuError(400, 'InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
        if (!instances.has(id)) throw new EmuError(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      }
      let list = ids.length ? ids.map((id) => instances.get(id)!) : [...instances.values()];
      for (const f of filters(p)) {
        if (f.name.startsWith('tag:')) list = list.filter((i) => f.values.includes(i.tags[f.name.slice(4)] ?? '\0'));
        else if (f.name === 'instance-state-name') list = list.filter((i) => f.values.includes(i.state));
      }
      const max = Number(p.get('MaxResults') ?? 1000);
      const from = Number(p.get('NextToken') ?? 0);
      const page = list.slice(from, from + max);
      const next = from + max < list.length ? el('nextToken', String(from + max)) : '';
      // One reservation per instance: the SDK must flatten reservations itself.
      const res = page.map(
        (i) => `${el('reservationId', `r-${i.instanceId.slice(2)}`)}${el('ownerId', '123456789012')}${set('instancesSet', [instanceXml(i)])}`,
      );
      return `${set('reservationSet', res)}${next}`;
    },
    DescribeSecurityGroups(p) {
      const ids = listParam(p, 'GroupId');
      const missing = ids.find((id) => !groups.has(id));
      if (missing) throw new EmuError(400, 'InvalidGroup.NotFound', `The security group '${missing}' does not exist`);
      return set(
        'securityGroupInfo',
        ids.map((id) => securityGroupXml(groups.get(id)!)),
      );
    },
    DescribeNetworkAcls(p) {
      let list = acls;
      for (const f of filters(p)) {
        if (f.name === 'association.subnet-id') list = list.filter((a) => a.subnetIds.some((s) => f.values.includes(s)));
      }
      return set('networkAclSet', list.map(networkAclXml));
    },
  };

  // ---- HTTP ---------------------------------------------------------------------------
  async function body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function auth(req: IncomingMessage, service: string): string {
    const m = SIGV4.exec(String(req.headers.authorization ?? ''));
    if (!m) throw new EmuError(403, 'IncompleteSignature', 'Authorization header missing or not a SigV4 signature');
    if (m[4] !== service) throw new EmuError(403, 'InvalidSignatureException', `Credential scope service ${m[4]} is not ${service}`);
    const signed = m[5]!.split(';');
    if (!signed.includes('host') || !signed.includes('x-amz-date') || !req.headers['x-amz-date']) {
      throw new EmuError(403, 'IncompleteSignature', 'host and x-amz-date must be signed');
    }
    if (!String(req.headers['x-amz-date']).startsWith(m[2]!)) throw new EmuError(403, 'InvalidSignatureException', 'date mismatch');
    return m[3]!;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const target = req.headers['x-amz-target'];
    const text = await body(req);
    if (typeof target === 'string') {
      const action = target.replace(/^AmazonSSM\./, '');
      try {
        const region = auth(req, 'ssm');
        const params = JSON.parse(text || '{}') as Record<string, unknown>;
        calls.push({ service: 'ssm', action, params, region, at: Date.now() });
        const fn = ssm[action];
        if (!fn) throw new EmuError(400, 'UnknownOperationException', action);
        injected(action, 'ssm');
        const out = JSON.stringify(fn(params, region) ?? {});
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId }).end(out);
      } catch (e) {
        const err = e instanceof EmuError ? e : new EmuError(500, 'InternalServerError', String(e));
        res
          .writeHead(err.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId })
          .end(JSON.stringify({ __type: err.code, message: err.message }));
      }
      return;
    }
    if (req.method === 'POST') {
      const p = new URLSearchParams(text);
      const action = p.get('Action') ?? '';
      try {
        const region = auth(req, 'ec2');
        calls.push({ service: 'ec2', action, params: Object.fromEntries(p), region, at: Date.now() });
        if (p.get('Version') !== '2016-11-15') throw new EmuError(400, 'InvalidParameterValue', 'Version');
        const fn = ec2[action];
        if (!fn) throw new EmuError(400, 'InvalidAction', action);
        injected(action, 'ec2');
        const xml = ec2Response(action, requestId, fn(p));
        res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' }).end(xml);
      } catch (e) {
        const err = e instanceof EmuError ? e : new EmuError(500, 'InternalError', String(e));
        res.writeHead(err.status, { 'content-type': 'text/xml;charset=UTF-8' }).end(ec2Error(err.code, err.message, requestId));
      }
      return;
    }
    // S3, path style: GET /bucket/key
    try {
      const region = auth(req, 's3');
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
      const slash = path.indexOf('/');
      const params = { Bucket: path.slice(0, slash), Key: path.slice(slash + 1) };
      calls.push({ service: 's3', action: 'GetObject', params, region, at: Date.now() });
      if (req.method !== 'GET') throw new EmuError(405, 'MethodNotAllowed', 'only GetObject is emulated');
      injected('GetObject', 's3');
      const obj = s3.get(path);
      if (obj === undefined) throw new EmuError(404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(obj), etag: '"e"' }).end(obj);
    } catch (e) {
      const err = e instanceof EmuError ? e : new EmuError(500, 'InternalError', String(e));
      res
        .writeHead(err.status, { 'content-type': 'application/xml' })
        .end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error>${el('Code', err.code)}${el('Message', err.message)}${el('RequestId', requestId)}</Error>`);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    faults,
    s3,
    addInstance(i) {
      const full: EmuManagedInstance = {
        state: 'running',
        privateIp: '10.0.1.10',
        securityGroupIds: [],
        subnetId: 'subnet-0aaa0aaa',
        vpcId: 'vpc-0aaa0aaa',
        tags: {},
        pingStatus: 'Online',
        ...i,
      };
      instances.set(full.instanceId, full);
      return full;
    },
    addSecurityGroup: (g) => void groups.set(g.groupId, g),
    addNetworkAcl: (a) => void acls.push(a),
    addDocument: (name) => void documents.add(name),
    count: (action) => calls.filter((c) => c.action === action).length,
    reset() {
      calls.length = 0;
      delete faults.outcome;
      delete faults.allowOnly;
      Object.assign(faults, defaultFaults());
    },
    async close() {
      for (const c of commands.values()) for (const inv of c.invocations.values()) clearTimeout(inv.timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
