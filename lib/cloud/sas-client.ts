/**
 * Security Center (SAS, API 2018-12-03) lookups: which client IPs are blocked for an instance by
 * brute-force defence (DescribeBruteForceRecords) or by a custom block rule
 * (DescribeCustomBlockRecords); and the two writes: lifting a custom block
 * (DeleteCustomBlockRecord) and disabling a brute-force block (DisableBruteForceRecord). There is
 * no SAS SDK package on the registry, so the calls go through `@alicloud/openapi-core`'s generic
 * `callApi` (see ./alibaba-rpc). Record keys are those of the SDK model
 * DescribeBruteForceRecordsResponseBodyMachineList (see test/cloud/sas-keys.ts).
 */
import net from 'node:net';
import type { SecurityCenterBlock } from '../inventory/types';
import type { RpcCaller } from './alibaba-rpc';
import { arr, obj, str } from './json-read';
import { SecurityCenterPreconditionError } from './alibaba-errors';

const PAGE_SIZE = 50;
/** Upper bound on client IPs looked up one by one (each costs two calls). */
const MAX_CLIENT_IPS = 16;

export interface SecurityCenterQuery {
  instanceId: string;
  /** Client IPs to look up; empty: every active record for the instance (bounded pages). */
  clientIps: readonly string[];
}

/** What Security Center says about one instance: its agent's Uuid and the blocks; no Uuid, no blocks. */
export type SecurityCenterLookup = { uuid: string; blocks: SecurityCenterBlock[] } | { uuid: undefined; blocks: null };

/**
 * Active Security Center blocks that concern the instance, for the client IPs (or all of them
 * when none is given). Brute-force records carry no instance id: they are matched by the
 * instance's Security Center Uuid (DescribeCloudCenterInstances); custom rules match a target
 * naming that Uuid or the instance id, or name no target (every server). Without a Uuid nothing
 * can be matched, so no record is read and `blocks` is null.
 * @throws AlibabaApiError when an API call fails (the provider records it as not inspected).
 */
export async function describeSecurityCenterBlocks(call: RpcCaller, q: SecurityCenterQuery): Promise<SecurityCenterLookup> {
  const uuid = await findServerUuid(call, q.instanceId);
  if (uuid === undefined) return { uuid, blocks: null };
  const ips = q.clientIps.slice(0, MAX_CLIENT_IPS);
  const lookups: (string | undefined)[] = ips.length > 0 ? ips : [undefined];
  const blocks: SecurityCenterBlock[] = [];
  for (const ip of lookups) {
    for (const r of await pages(call, 'DescribeBruteForceRecords', ip, 'MachineList')) {
      const b = bruteForceBlock(r, uuid);
      if (b) blocks.push(b);
    }
    for (const r of await pages(call, 'DescribeCustomBlockRecords', ip, 'RecordList')) {
      const b = customBlock(r, q.instanceId, uuid);
      if (b) blocks.push(b);
    }
  }
  const seen = new Set<string>();
  const unique = blocks.filter((b) => {
    const k = `${b.source}/${b.recordId}/${b.ip}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { uuid, blocks: unique };
}

/** What {@link deleteCustomBlockRecord} found: the record deleted, or already gone. */
export type UnblockResult = { result: 'changed' | 'unchanged'; detail: string };

/**
 * Lifts a custom block: deletes custom block record `recordId` after checking, with a fresh
 * DescribeCustomBlockRecords for `ip`, that the record still exists and still blocks `ip` (a
 * stored report may be old; an id must never delete a record the operator did not see).
 * Retries (throttling, 5xx, network) are the caller's, as for every other call.
 * @returns `unchanged` when no active record with that id blocks `ip` any more.
 * @throws SecurityCenterPreconditionError when the record now blocks another address.
 * @throws AlibabaApiError when an API call fails (e.g. `Forbidden.RAM` without
 *   `yundun-sas:DeleteCustomBlockRecord`).
 */
export async function deleteCustomBlockRecord(call: RpcCaller, recordId: string, ip: string): Promise<UnblockResult> {
  checkInput(recordId, ip);
  const records = await pages(call, 'DescribeCustomBlockRecords', ip, 'RecordList');
  const record = records.find((r) => str(r.Id) === recordId);
  if (!record || Number(record.Status) !== 1) {
    return { result: 'unchanged', detail: `custom block record ${recordId} for ${ip} is no longer active` };
  }
  if (!sameIp(str(record.BlockIp), ip)) {
    throw new SecurityCenterPreconditionError(`custom block record ${recordId} blocks ${str(record.BlockIp)}, not ${ip}`);
  }
  await call('DeleteCustomBlockRecord', { Id: recordId });
  return { result: 'changed', detail: `custom block record ${recordId} for ${ip} deleted` };
}

/**
 * Disables brute-force block record `recordId` after re-reading it (DescribeBruteForceRecords for
 * `ip`): it must still be active and block `ip`. DisableBruteForceRecord is then sent the record's
 * own Id, BlockIp, Uuid, Port and an inbound Bound, as read, never values from a stored report.
 * @returns `unchanged` when no active brute-force record with that id blocks `ip` any more.
 * @throws SecurityCenterPreconditionError for a malformed id or address, or a record that now blocks another address.
 * @throws AlibabaApiError when an API call fails (e.g. `Forbidden.RAM` without `yundun-sas:DisableBruteForceRecord`).
 */
export async function disableBruteForceRecord(call: RpcCaller, recordId: string, ip: string): Promise<UnblockResult> {
  checkInput(recordId, ip);
  const records = await pages(call, 'DescribeBruteForceRecords', ip, 'MachineList');
  const record = records.find((r) => str(r.Id) === recordId);
  if (!record || Number(record.Status) !== 1) {
    return { result: 'unchanged', detail: `brute-force block record ${recordId} for ${ip} is no longer active` };
  }
  if (!sameIp(str(record.BlockIp), ip)) {
    throw new SecurityCenterPreconditionError(`brute-force block record ${recordId} blocks ${str(record.BlockIp)}, not ${ip}`);
  }
  const port = str(record.Port);
  await call('DisableBruteForceRecord', { Id: recordId, BlockIp: str(record.BlockIp), Uuid: str(record.Uuid), Port: port || undefined, Bound: 'in' });
  return { result: 'changed', detail: `brute-force block record ${recordId} for ${ip}${port ? ` on port ${port}` : ''} disabled` };
}

function checkInput(recordId: string, ip: string): void {
  if (!/^\d{1,20}$/.test(recordId)) throw new SecurityCenterPreconditionError(`recordId: must be decimal digits, got "${recordId.slice(0, 40)}"`);
  if (net.isIP(ip) === 0) throw new SecurityCenterPreconditionError('ip: must be an IPv4 or IPv6 address');
}

/** The Security Center UUID of the instance's agent, or undefined when SAS does not know it. */
async function findServerUuid(call: RpcCaller, instanceId: string): Promise<string | undefined> {
  const res = await call('DescribeCloudCenterInstances', {
    Criteria: JSON.stringify([{ name: 'instanceId', value: instanceId }]),
    MachineTypes: 'ecs',
    CurrentPage: 1,
    PageSize: 20,
  });
  const hit = arr(res.Instances)
    .map(obj)
    .find((i) => i.InstanceId === instanceId);
  return hit && typeof hit.Uuid === 'string' && hit.Uuid !== '' ? hit.Uuid : undefined;
}

async function pages(call: RpcCaller, action: string, blockIp: string | undefined, listKey: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  // Bounded: at most 10 pages (500 records) per lookup.
  for (let page = 1; page <= 10; page++) {
    const res = await call(action, { BlockIp: blockIp, Status: 1, CurrentPage: page, PageSize: PAGE_SIZE });
    const list = arr(res[listKey]).map(obj);
    out.push(...list);
    const total = Number(obj(res.PageInfo).TotalCount) || 0;
    if (list.length < PAGE_SIZE || page * PAGE_SIZE >= total) break;
  }
  return out;
}

/** One MachineList entry; it names the server only by its Security Center Uuid. */
function bruteForceBlock(r: Record<string, unknown>, uuid: string): SecurityCenterBlock | null {
  if (str(r.Uuid) !== uuid || Number(r.Status) !== 1) return null;
  const ip = str(r.BlockIp);
  const until = isoFromMs(r.BlockExpireDate);
  const port = str(r.Port);
  const rule = oneLine(str(r.RuleName));
  const block: SecurityCenterBlock = {
    ip,
    source: 'brute-force',
    recordId: str(r.Id),
    status: 'enabled',
    text:
      `brute-force defence record ${str(r.Id)}: ${ip} blocked` +
      `${port ? ` on port ${port}` : ''}${until ? ` until ${until}` : ''}${rule ? ` (rule "${rule}")` : ''}`,
  };
  if (until) block.until = until;
  block.uuid = uuid;
  if (port) block.port = port;
  return block;
}

function customBlock(r: Record<string, unknown>, instanceId: string, uuid: string | undefined): SecurityCenterBlock | null {
  if (Number(r.Status) !== 1) return null;
  const targets = arr(r.TargetList).map(obj);
  const applies = targets.length === 0 || targets.some((t) => str(t.Target) === instanceId || (uuid !== undefined && str(t.Target) === uuid));
  if (!applies) return null;
  const ip = str(r.BlockIp);
  const until = isoFromMs(r.BlockExpireDate);
  const bound = str(r.Bound) === 'out' ? 'outbound' : 'inbound';
  const block: SecurityCenterBlock = {
    ip,
    source: 'custom',
    recordId: str(r.Id),
    status: 'enabled',
    text: `custom block record ${str(r.Id)}: ${bound} traffic with ${ip} blocked${until ? ` until ${until}` : ''}`,
  };
  if (until) block.until = until;
  return block;
}

/** True when two textual IPs name the same address (SAS may return non-canonical forms). */
export function sameIp(a: string, b: string): boolean {
  const ca = canonical(a);
  return ca !== null && ca === canonical(b);
}

function canonical(ip: string): string | null {
  const fam = net.isIP(ip.trim());
  if (fam === 0) return null;
  try {
    return new net.SocketAddress({ address: ip.trim(), family: fam === 6 ? 'ipv6' : 'ipv4' }).address;
  } catch {
    return null;
  }
}

function isoFromMs(v: unknown): string | undefined {
  const n = Number(v);
  // Far-future sentinels (permanent blocks) and absent values yield no end date.
  if (!Number.isFinite(n) || n <= 0 || n > 4_102_444_800_000) return undefined;
  return new Date(n).toISOString();
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').slice(0, 120);
}
