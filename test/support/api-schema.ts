/**
 * Key schemas of the Alibaba Cloud APIs, for the contract test: for ECS, read from the model
 * classes of `@alicloud/ecs20140526` (each class's static `names()` gives the wire key of every
 * field, `types()` the nested model or array item); for Security Center, which has no npm
 * package, built from the key lists in test/emulators/alibaba-sas.ts (taken from the SDK sources).
 */
import { createRequire } from 'node:module';
import { BRUTE_FORCE_RECORD_KEYS, CUSTOM_BLOCK_RECORD_KEYS, CUSTOM_BLOCK_TARGET_KEYS } from '../emulators/alibaba-sas';

/** Wire key -> what its value holds: a leaf, a nested object, or an array of either. */
export interface Schema {
  readonly keys: ReadonlyMap<string, Field>;
}
export type Field = 'leaf' | Schema | { array: 'leaf' | Schema } | { map: 'leaf' | Schema };

interface ModelClass {
  names(): Record<string, string>;
  types(): Record<string, unknown>;
}

const require = createRequire(import.meta.url);

/** The schema of an ECS SDK model class, e.g. `DescribeInstancesResponseBody`. */
export function ecsModel(name: string): Schema {
  const mod = require(`@alicloud/ecs20140526/dist/models/${name}.js`) as Record<string, ModelClass>;
  const cls = mod[name];
  if (!cls) throw new Error(`@alicloud/ecs20140526 has no model ${name}`);
  return fromModel(cls);
}

function isModel(v: unknown): v is ModelClass {
  return typeof v === 'function' && typeof (v as Partial<ModelClass>).names === 'function';
}

function fromModel(cls: ModelClass): Schema {
  const names = cls.names();
  const types = cls.types();
  const keys = new Map<string, Field>();
  for (const [field, wire] of Object.entries(names)) keys.set(wire, fieldOf(types[field]));
  return { keys };
}

function fieldOf(t: unknown): Field {
  if (isModel(t)) return fromModel(t);
  if (t && typeof t === 'object') {
    const o = t as { type?: string; itemType?: unknown; valueType?: unknown };
    if (o.type === 'array') return { array: isModel(o.itemType) ? fromModel(o.itemType) : 'leaf' };
    if (o.type === 'map') return { map: isModel(o.valueType) ? fromModel(o.valueType) : 'leaf' };
  }
  return 'leaf';
}

function leaves(keys: readonly string[], extra: Record<string, Field> = {}): Schema {
  return { keys: new Map<string, Field>([...keys.map((k) => [k, 'leaf'] as const), ...Object.entries(extra)]) };
}

const PAGE_INFO = leaves(['Count', 'CurrentPage', 'PageSize', 'TotalCount']);

/** Security Center response schemas (no package: see test/emulators/alibaba-sas.ts for the source of the keys). */
export const SAS_RESPONSES: Record<string, Schema> = {
  DescribeBruteForceRecords: leaves(['RequestId'], { MachineList: { array: leaves(BRUTE_FORCE_RECORD_KEYS) }, PageInfo: PAGE_INFO }),
  DescribeCustomBlockRecords: leaves(['RequestId'], {
    RecordList: {
      array: leaves(
        CUSTOM_BLOCK_RECORD_KEYS.filter((k) => k !== 'TargetList'),
        { TargetList: { array: leaves(CUSTOM_BLOCK_TARGET_KEYS) } },
      ),
    },
    PageInfo: PAGE_INFO,
  }),
  // Only the keys the emulator serves and the adapter reads; the model has some sixty more.
  DescribeCloudCenterInstances: leaves(['RequestId'], {
    Instances: { array: leaves(['InstanceId', 'Uuid', 'RegionId', 'ClientStatus', 'InstanceName', 'InternetIp', 'IntranetIp']) },
    PageInfo: leaves(['Count', 'CurrentPage', 'PageSize', 'TotalCount', 'NextToken']),
  }),
  DeleteCustomBlockRecord: leaves(['RequestId']),
  DisableBruteForceRecord: leaves(['RequestId']),
};

/** Paths in `json` whose key the schema does not declare (`Invocation.InvocationResults.InvocationResult[0].Foo`). */
export function undeclaredKeys(json: unknown, schema: Schema, path = ''): string[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(json)) {
    const here = path ? `${path}.${k}` : k;
    const f = schema.keys.get(k);
    if (f === undefined) {
      out.push(here);
      continue;
    }
    out.push(...undeclaredIn(v, f, here));
  }
  return out;
}

function undeclaredIn(v: unknown, f: Field, path: string): string[] {
  if (f === 'leaf') return [];
  if ('array' in f) {
    if (!Array.isArray(v) || f.array === 'leaf') return [];
    const item = f.array;
    return v.flatMap((x, i) => undeclaredKeys(x, item, `${path}[${i}]`));
  }
  if ('map' in f) {
    if (f.map === 'leaf' || v === null || typeof v !== 'object') return [];
    const val = f.map;
    return Object.entries(v).flatMap(([k, x]) => undeclaredKeys(x, val, `${path}.${k}`));
  }
  return undeclaredKeys(v, f, path);
}

/** Every wire key a schema declares, at any depth. */
export function allKeys(schema: Schema): Set<string> {
  const out = new Set<string>();
  const walk = (s: Schema) => {
    for (const [k, f] of s.keys) {
      out.add(k);
      if (f === 'leaf') continue;
      const inner = 'array' in f ? f.array : 'map' in f ? f.map : f;
      if (inner !== 'leaf') walk(inner);
    }
  };
  walk(schema);
  return out;
}
