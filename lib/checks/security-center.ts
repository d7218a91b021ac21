import type { Check, Facts } from './types';
import type { CheckResult, Evidence, Fix, FixAction } from '../report/types';
import type { SecurityCenterBlock } from '../inventory/types';
import { sameIp } from '../cloud/sas-client';
import { clientIps, result } from './support/result';

/** Finding texts and fix templates, written once here. */
export const SECURITY_CENTER_TEXT = {
  notAlibaba: 'Security Center applies to Alibaba Cloud instances only.',
  notInspected: 'Security Center records were not inspected (see "not inspected").',
  clear: (n: number) =>
    n === 0
      ? 'Security Center has no active block for this instance.'
      : `None of the client IPs is blocked by Security Center (${n} other address${n === 1 ? ' is' : 'es are'} blocked for this instance).`,
  blocked: (ips: string[]) => `Security Center blocks ${ips.join(', ')} from reaching this instance.`,
  customFix: 'Delete the Security Center custom block record(s) that block the client IP(s).',
  bruteForceFix:
    'Disable the Security Center brute-force block record(s) of the client IP(s) (DisableBruteForceRecord); add the address to the brute-force allowlist if the block keeps coming back.',
} as const;

/**
 * `security-center`: fails when a client IP is blocked for the instance by Security Center's
 * brute-force defence or a custom block rule, naming the record and the API call that lifts it.
 */
export const securityCenterCheck: Check = {
  id: 'security-center',
  title: 'Alibaba Cloud Security Center blocks',
  description:
    'Looks at Alibaba Cloud Security Center (SAS) brute-force defence records and custom IP block rules for the instance. ' +
    'A blocked client IP has its connections dropped before sshd sees them, which looks like a timeout from outside ' +
    'and leaves nothing in the instance logs.',
  needs: ['cloud'],
  run(facts: Facts): CheckResult {
    const cloud = facts.cloud;
    if (cloud?.instance.provider !== 'alibaba') return result(this, 'skip', SECURITY_CENTER_TEXT.notAlibaba);
    const sc = cloud.securityCenter;
    if (!sc) return result(this, 'skip', SECURITY_CENTER_TEXT.notInspected);
    const ips = clientIps(facts);
    const hits = sc.blocks.filter((b) => ips.some((ip) => sameIp(ip, b.ip)));
    if (hits.length === 0) {
      const evidence = sc.blocks.slice(0, 5).map(toEvidence);
      return result(this, 'pass', SECURITY_CENTER_TEXT.clear(sc.blocks.length), evidence);
    }
    const blocked = [...new Set(hits.map((b) => b.ip))];
    return result(this, 'fail', SECURITY_CENTER_TEXT.blocked(blocked), hits.map(toEvidence), fixFor(hits));
  },
};

function fixFor(hits: SecurityCenterBlock[]): Fix {
  const custom = hits.filter((b) => b.source === 'custom');
  const brute = hits.filter((b) => b.source === 'brute-force');
  const commands: string[] = [];
  const actions: FixAction[] = [];
  for (const b of custom) {
    // The record id comes from the API; keep only digits so the printed command stays a command.
    const id = b.recordId.replace(/[^0-9]/g, '');
    commands.push(`aliyun sas DeleteCustomBlockRecord --Id ${id}`);
    actions.push({ kind: 'security-center-unblock', recordId: id, ip: b.ip });
  }
  for (const b of brute) {
    const id = b.recordId.replace(/[^0-9]/g, '');
    // Uuid and port come from the API: keep only their own alphabets in the printed command.
    const uuid = (b.uuid ?? '').replace(/[^A-Za-z0-9-]/g, '');
    const port = (b.port ?? '').replace(/[^0-9]/g, '');
    commands.push(`aliyun sas DisableBruteForceRecord --Id ${id} --BlockIp ${b.ip} --Bound in${uuid ? ` --Uuid ${uuid}` : ''}${port ? ` --Port ${port}` : ''}`);
    actions.push({ kind: 'security-center-unblock', recordId: id, ip: b.ip, source: 'brute-force' });
  }
  const summary =
    custom.length > 0 && brute.length > 0
      ? `${SECURITY_CENTER_TEXT.customFix} ${SECURITY_CENTER_TEXT.bruteForceFix}`
      : custom.length > 0
        ? SECURITY_CENTER_TEXT.customFix
        : SECURITY_CENTER_TEXT.bruteForceFix;
  return { summary, commands, actions };
}

function toEvidence(b: SecurityCenterBlock): Evidence {
  return {
    source: b.source === 'custom' ? 'yundun-sas:DescribeCustomBlockRecords' : 'yundun-sas:DescribeBruteForceRecords',
    text: b.text,
  };
}
