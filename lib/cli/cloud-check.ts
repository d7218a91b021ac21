/**
 * Cloud mode of `sshdoctor check` and `sshdoctor fix`: validates the provider arguments,
 * builds the provider (the Alibaba SDK is loaded only here, only for Alibaba), and runs the
 * diagnosis by ID.
 */
import type { AuthTarget } from '../auth/types';
import { validateInstanceId, validateRegion, type ProviderName } from '../cloud/validate';
import { CloudValidationError } from '../cloud/errors';
import type { CloudProvider } from '../cloud/types';
import type { Report } from '../report/types';
import type { DiagnoseInstanceOptions } from '../cloud/diagnose-instance';
import { UsageError } from './errors';

export interface CloudCheckArgs {
  instanceId: string;
  provider: string | undefined;
  region: string | undefined;
  address: string | undefined;
  outputBucket: string | undefined;
  clientIps: string[];
  port: number;
  user?: AuthTarget;
}

const FLAG: Record<string, string> = { instanceId: 'INSTANCE_ID', region: '--region', provider: '--provider' };

/** A validated cloud target: the provider adapter and the options to diagnose the instance with. */
export interface CloudTarget {
  provider: CloudProvider;
  options: DiagnoseInstanceOptions;
}

/**
 * Validates the cloud target flags and builds the provider (credentials and endpoints from the
 * standard environment). No API call is made here.
 * @throws UsageError naming the flag and the rule.
 */
export async function setupCloudTarget(args: CloudCheckArgs): Promise<CloudTarget> {
  if (args.provider !== 'aws' && args.provider !== 'alibaba') throw new UsageError('--provider', "must be 'aws' or 'alibaba' with an instance ID");
  const provider: ProviderName = args.provider;
  if (args.region === undefined) throw new UsageError('--region', `is required with --provider ${provider}`);
  if (args.address !== undefined && args.address !== 'public' && args.address !== 'private') throw new UsageError('--address', "must be 'public' or 'private'");
  if (args.outputBucket !== undefined && (provider !== 'aws' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(args.outputBucket))) {
    throw new UsageError('--output-bucket', provider === 'aws' ? 'must be an S3 bucket name' : 'only applies to --provider aws');
  }
  let instanceId: string;
  let region: string;
  try {
    instanceId = validateInstanceId(provider, args.instanceId);
    region = validateRegion(provider, args.region);
  } catch (err) {
    if (err instanceof CloudValidationError) throw new UsageError(FLAG[err.field] ?? err.field, err.rule);
    throw err;
  }

  let cloud: CloudProvider;
  if (provider === 'aws') {
    const { createAwsProvider } = await import('../cloud/aws-provider');
    cloud = createAwsProvider({ region, ...(args.outputBucket ? { outputBucket: args.outputBucket } : {}) });
  } else {
    const { createAlibabaProvider } = await import('../cloud/alibaba-provider');
    cloud = createAlibabaProvider({ region });
  }
  return {
    provider: cloud,
    options: {
      instanceId,
      clientIps: args.clientIps,
      clientIpSource: 'user',
      ...(args.address ? { address: args.address as 'public' | 'private' } : {}),
      port: args.port,
      ...(args.user ? { user: args.user } : {}),
    },
  };
}

/** `sshdoctor check INSTANCE_ID ...`: the diagnosis of one instance by ID. */
export async function runCloudCheck(args: CloudCheckArgs): Promise<Report> {
  const { provider, options } = await setupCloudTarget(args);
  const { diagnoseInstance } = await import('../cloud/diagnose-instance');
  return diagnoseInstance(provider, options);
}
