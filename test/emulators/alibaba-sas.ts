/**
 * Security Center (SAS 2018-12-03) for the Alibaba emulator: the actions sshdoctor calls, with
 * the key names of the real API. There is no SAS package on the npm registry; the key lists below
 * are those of the generated Alibaba Cloud SDK models for sas-20181203 (aliyun/alibabacloud-
 * typescript-sdk and alibabacloud-python-sdk, e.g. DescribeBruteForceRecordsResponseBodyMachineList,
 * DisableBruteForceRecordRequest, DescribeCustomBlockRecordsResponseBodyRecordList). A record
 * seeded with any other key, or a request naming one, is answered with an error, so neither a
 * test nor the adapter can rely on a field the real API does not have.
 */

/** `MachineList[]` of DescribeBruteForceRecords: no InstanceId, EndTime or Reason. */
export const BRUTE_FORCE_RECORD_KEYS = [
  'Id',
  'Uuid',
  'BlockIp',
  'Status',
  'Port',
  'BlockType',
  'BlockExpireDate',
  'RuleName',
  'Source',
  'InternetIp',
  'IntranetIp',
  'InstanceName',
  'AliNetOnline',
  'ErrorCode',
] as const;

/** `RecordList[]` of DescribeCustomBlockRecords, and its `TargetList[]`. */
export const CUSTOM_BLOCK_RECORD_KEYS = ['BlockExpireDate', 'BlockIp', 'Bound', 'EnableCount', 'Id', 'ServerCount', 'Source', 'Status', 'TargetList'] as const;
export const CUSTOM_BLOCK_TARGET_KEYS = ['Target', 'TargetType'] as const;

/** Request keys of the SAS actions whose models were read (plus the common RPC parameters). */
export const SAS_REQUEST_KEYS: Record<string, readonly string[]> = {
  DescribeBruteForceRecords: ['BlockIp', 'CurrentPage', 'InstanceId', 'PageSize', 'Remark', 'ResourceOwnerId', 'Status'],
  DisableBruteForceRecord: ['BlockIp', 'Bound', 'Id', 'Port', 'ResourceOwnerId', 'Uuid'],
};

/** What one SAS handler answers. */
export type SasAnswer = { ok: Record<string, unknown> } | { error: [number, string, string] };

export interface SasState {
  bruteForceRecords: Record<string, unknown>[];
  customBlockRecords: Record<string, unknown>[];
}

/** The first key of `record` the real model lacks, or undefined. */
export function inventedKey(record: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  return Object.keys(record).find((k) => !allowed.includes(k));
}

/** A record seeded with a key the real API does not return: the emulator refuses to serve it. */
function invented(what: string, key: string): SasAnswer {
  return { error: [500, 'Emulator.InventedField', `${what} record has key ${key}, which the SDK model does not declare`] };
}

/** Rejects a request key the action's model does not have (only for the actions listed in SAS_REQUEST_KEYS). */
export function checkSasRequest(action: string, p: Record<string, string>): SasAnswer | null {
  const allowed = SAS_REQUEST_KEYS[action];
  if (!allowed) return null;
  const bad = Object.keys(p).find((k) => !allowed.includes(k) && !['RegionId'].includes(k));
  return bad ? { error: [400, 'InvalidParameter', `${action} has no parameter ${bad}`] } : null;
}

export function sasHandlers(state: SasState): Record<string, (p: Record<string, string>) => SasAnswer> {
  return {
    'yundun-sas:DescribeBruteForceRecords': (p) => {
      for (const r of state.bruteForceRecords) {
        const k = inventedKey(r, BRUTE_FORCE_RECORD_KEYS);
        if (k) return invented('brute-force', k);
      }
      return { ok: sasPage(state.bruteForceRecords, p, 'MachineList') };
    },
    'yundun-sas:DescribeCustomBlockRecords': (p) => {
      for (const r of state.customBlockRecords) {
        const k = inventedKey(r, CUSTOM_BLOCK_RECORD_KEYS);
        if (k) return invented('custom block', k);
        for (const t of (r.TargetList as Record<string, unknown>[] | undefined) ?? []) {
          const tk = inventedKey(t, CUSTOM_BLOCK_TARGET_KEYS);
          if (tk) return invented('custom block target', tk);
        }
      }
      return { ok: sasPage(state.customBlockRecords, p, 'RecordList') };
    },
    'yundun-sas:DeleteCustomBlockRecord': (p) => {
      if (!p.Id) return { error: [400, 'MissingParameter', 'Id is mandatory for this action.'] };
      if (!/^\d+$/.test(p.Id)) return { error: [400, 'InvalidParameter', `Id is not valid: ${p.Id}`] };
      const i = state.customBlockRecords.findIndex((r) => String(r.Id) === p.Id);
      // The docs list no not-found error for this action: an unknown id is emulated as success.
      if (i >= 0) state.customBlockRecords.splice(i, 1);
      return { ok: {} };
    },
    // The model marks BlockIp and Uuid required; the record stays listed with Status 0 (invalid).
    'yundun-sas:DisableBruteForceRecord': (p) => {
      for (const k of ['BlockIp', 'Uuid']) if (!p[k]) return { error: [400, 'MissingParameter', `${k} is mandatory for this action.`] };
      if (p.Id !== undefined && !/^\d+$/.test(p.Id)) return { error: [400, 'InvalidParameter', `Id is not valid: ${p.Id}`] };
      if (p.Bound !== undefined && p.Bound !== 'in' && p.Bound !== 'out') return { error: [400, 'InvalidParameter', `Bound is not valid: ${p.Bound}`] };
      for (const r of state.bruteForceRecords) {
        const same = (p.Id === undefined || String(r.Id) === p.Id) && r.BlockIp === p.BlockIp && r.Uuid === p.Uuid;
        if (same && (p.Port === undefined || String(r.Port ?? '') === p.Port)) r.Status = 0;
      }
      return { ok: {} };
    },
  };
}

function sasPage(records: Record<string, unknown>[], p: Record<string, string>, key: string): Record<string, unknown> {
  let list = records;
  if (p.BlockIp) list = list.filter((r) => r.BlockIp === p.BlockIp);
  if (p.Status !== undefined) list = list.filter((r) => String(r.Status) === p.Status);
  const size = Math.max(1, Number(p.PageSize ?? 20) || 20);
  const page = Math.max(1, Number(p.CurrentPage ?? 1) || 1);
  const slice = list.slice((page - 1) * size, page * size);
  return { [key]: slice, PageInfo: { CurrentPage: page, PageSize: size, TotalCount: list.length, Count: slice.length } };
}
