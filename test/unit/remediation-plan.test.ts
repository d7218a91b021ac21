import { describe, expect, it } from 'vitest';
import { buildPlan, parseOnly, actionArgs } from '../../lib/remediation/plan';
import { MIN_STEP_MS, parseScriptOutput, stepBudget, VERIFY_RESERVE_MS } from '../../lib/remediation/apply';
import { FixActionValidationError, FixSelectionError } from '../../lib/remediation/errors';
import type { CheckResult, CheckStatus, FixAction, Report } from '../../lib/report/types';

function check(id: string, status: CheckStatus, actions?: FixAction[], commands: string[] = ['true']): CheckResult {
  return {
    id,
    title: id,
    status,
    summary: `${id} ${status}`,
    evidence: [],
    fix: actions || commands.length ? { summary: `fix ${id}`, commands, ...(actions ? { actions } : {}) } : null,
  };
}

function report(checks: CheckResult[], probe: 'refused' | 'banner' | null = 'refused'): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'sshdoctor', version: 'test' },
    generatedAt: '2025-01-01T00:00:00.000Z',
    target: { host: '10.0.0.2', port: 22, provider: 'local' },
    clients: [{ ip: '10.0.0.1', source: 'probe-source' }],
    probe: probe ? { host: '10.0.0.2', port: 22, outcome: probe, totalMs: 1 } : null,
    collector: { status: 'ok', runner: 'via', truncated: false, truncatedSections: [] },
    checks,
    verdict: { status: 'blocked', summary: '', causes: [], confirmed: false },
    notInspected: [],
    timings: { totalMs: 1 },
  };
}

const startSshd: FixAction = { kind: 'service-start', service: '/usr/sbin/sshd', manager: 'direct' };
const commentConfig: FixAction = { kind: 'comment-line', file: '/etc/ssh/sshd_config', line: 123, text: 'PermitRootLoginn yes' };
const link: FixAction = { kind: 'symlink', link: '/usr/lib/x86_64-linux-gnu/liblz4.so.1', target: 'liblz4.so.1.9.4' };
const unban: FixAction = { kind: 'fail2ban-unban', jail: 'sshd', ip: '10.0.0.1' };
const f2bRule: FixAction = {
  kind: 'firewall-delete-rule',
  family: 'ipv4',
  table: 'filter',
  chain: 'f2b-sshd',
  rule: '-A f2b-sshd -s 10.0.0.1/32 -j REJECT --reject-with icmp-port-unreachable',
};
const dropRule: FixAction = {
  kind: 'firewall-delete-rule',
  family: 'ipv4',
  table: 'filter',
  chain: 'INPUT',
  rule: '-A INPUT -s 10.0.0.9/32 -p tcp -m tcp --dport 22 -j DROP',
};
const denyLine: FixAction = { kind: 'comment-line', file: '/etc/hosts.deny', line: 18, text: 'sshd: 10.0.0.1' };

describe('buildPlan', () => {
  it('orders repairs before the service start that needs them, whatever the report order', () => {
    const plan = buildPlan(
      report([
        check('sshd-service', 'fail', [startSshd]),
        check('firewall', 'fail', [dropRule]),
        check('tcp-wrappers', 'fail', [denyLine]),
        check('sshd-config', 'fail', [commentConfig]),
        check('sshd-libraries', 'fail', [link]),
      ]),
    );
    expect(plan.steps.map((s) => `${s.action.kind}:${s.checkId}`)).toEqual([
      'symlink:sshd-libraries',
      'comment-line:sshd-config',
      'comment-line:tcp-wrappers',
      'firewall-delete-rule:firewall',
      'service-start:sshd-service',
    ]);
    expect(plan.probeBefore).toBe('refused');
  });

  it('leaves the fail2ban chain rule to the unban that removes it', () => {
    const plan = buildPlan(report([check('fail2ban', 'fail', [unban]), check('firewall', 'fail', [f2bRule, dropRule])]));
    expect(plan.steps.map((s) => s.action)).toEqual([unban, dropRule]);
  });

  it('keeps a fail2ban chain rule for another address', () => {
    const other = { ...f2bRule, rule: '-A f2b-sshd -s 10.0.0.7/32 -j REJECT' };
    const plan = buildPlan(report([check('fail2ban', 'fail', [unban]), check('firewall', 'fail', [other])]));
    expect(plan.steps.map((s) => s.action)).toEqual([unban, other]);
  });

  it('inserts into one file bottom first, after the comment-outs, so line numbers stay true', () => {
    const a: FixAction = { kind: 'insert-line-before', file: '/etc/hosts.allow', line: 4, text: 'sshd: 10.0.0.1' };
    const b: FixAction = { kind: 'insert-line-before', file: '/etc/hosts.allow', line: 11, text: 'sshd: 10.0.0.3' };
    const c: FixAction = { kind: 'comment-line', file: '/etc/hosts.allow', line: 20, text: 'ALL: 10.0.0.1: deny' };
    const plan = buildPlan(report([check('tcp-wrappers', 'fail', [a, b, c])]));
    expect(plan.steps.map((s) => s.action)).toEqual([c, b, a]);
  });

  it('fixes only the checks named in --only, and only failing ones', () => {
    const r = report([check('tcp-wrappers', 'fail', [denyLine]), check('firewall', 'fail', [dropRule]), check('fail2ban', 'warn', [unban])]);
    expect(buildPlan(r, { only: ['firewall', 'fail2ban'] }).steps.map((s) => s.checkId)).toEqual(['firewall']);
    expect(buildPlan(r).steps.map((s) => s.checkId)).toEqual(['tcp-wrappers', 'firewall']);
  });

  it('lists failing checks without actions as manual, with their commands', () => {
    const plan = buildPlan(report([check('sshd-listen', 'fail', undefined, []), check('permissions', 'fail', undefined, ['chmod 0755 /etc/ssh'])]));
    expect(plan.steps).toEqual([]);
    expect(plan.manual).toEqual([
      { checkId: 'sshd-listen', reason: 'no fix known for this finding', commands: [] },
      { checkId: 'permissions', reason: 'no automatic fix: run the commands by hand', summary: 'fix permissions', commands: ['chmod 0755 /etc/ssh'] },
    ]);
  });

  it('turns an action that breaks a rule into a manual item naming the field, never a step', () => {
    const outside: FixAction = { kind: 'comment-line', file: '/usr/local/etc/hosts.deny', line: 3, text: 'sshd: ALL' };
    const twoLines: FixAction = { kind: 'insert-line-before', file: '/etc/hosts.allow', line: 1, text: 'sshd: 10.0.0.1\nALL: ALL' };
    const dotdot: FixAction = { kind: 'comment-line', file: '/etc/../root/.ssh/authorized_keys', line: 1, text: 'x' };
    const plan = buildPlan(report([check('tcp-wrappers', 'fail', [outside, twoLines, dotdot])]));
    expect(plan.steps).toEqual([]);
    expect(plan.manual.map((m) => m.reason)).toEqual([
      'not applied automatically: file: must be a plain absolute path under /etc',
      'not applied automatically: text: must be one non-empty line of printable characters (at most 400)',
      'not applied automatically: file: must be a plain absolute path under /etc',
    ]);
  });

  it('keeps Security Center unblocks as steps without host arguments', () => {
    const sc: FixAction = { kind: 'security-center-unblock', recordId: '123', ip: '10.0.0.1' };
    const plan = buildPlan(report([check('security-center', 'fail', [sc])]));
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]!.args).toBeNull();
    expect(plan.steps[0]!.commands).toEqual(['aliyun sas DeleteCustomBlockRecord --Id 123']);
  });
});

describe('actionArgs', () => {
  it('passes every value as its own argv entry', () => {
    expect(actionArgs(dropRule)).toEqual(['firewall-delete-rule', 'ipv4', 'filter', 'INPUT', '-A INPUT -s 10.0.0.9/32 -p tcp -m tcp --dport 22 -j DROP']);
    expect(actionArgs({ kind: 'firewall-insert-accept', family: 'ipv6', table: 'filter', chain: 'INPUT', ip: '2001:db8::1', port: 2222 })).toEqual([
      'firewall-insert-accept',
      'ipv6',
      'filter',
      'INPUT',
      '2001:db8::1',
      '2222',
    ]);
  });

  it.each<[FixAction, string]>([
    [{ kind: 'fail2ban-unban', jail: 'sshd; reboot', ip: '10.0.0.1' }, 'jail'],
    [{ kind: 'fail2ban-unban', jail: 'sshd', ip: '10.0.0.1 -x' }, 'ip'],
    [{ kind: 'symlink', link: '/etc/ld.so.preload', target: 'x.so' }, 'link'],
    [{ kind: 'symlink', link: '/usr/lib/liblz4.so.1', target: '../../tmp/evil.so' }, 'target'],
    [{ kind: 'service-start', service: '/usr/sbin/sshd -o Port=1', manager: 'direct' }, 'service'],
    [{ kind: 'service-start', service: '/usr/sbin/dropbear', manager: 'direct' }, 'service'],
    [{ kind: 'firewall-delete-rule', family: 'ipv4', table: 'filter', chain: 'INPUT', rule: '-A OUTPUT -j DROP' }, 'rule'],
    [{ kind: 'firewall-insert-accept', family: 'ipv4', table: 'filter', chain: 'INPUT', ip: '10.0.0.1', port: 0 }, 'port'],
    [{ kind: 'comment-line', file: '/etc/hosts.deny', line: 0, text: 'x' }, 'line'],
  ])('rejects %j (field %s)', (action, field) => {
    let thrown: unknown;
    try {
      actionArgs(action);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FixActionValidationError);
    expect((thrown as FixActionValidationError).field).toBe(field);
  });
});

describe('parseOnly', () => {
  it('accepts known check ids, comma-separated', () => {
    expect(parseOnly('tcp-wrappers,fail2ban,tcp-wrappers')).toEqual(['tcp-wrappers', 'fail2ban']);
  });
  it('names the unknown ids', () => {
    expect(() => parseOnly('tcp-wrappers,nope')).toThrow(/unknown check id nope/);
    expect(() => parseOnly('a,')).toThrow(FixSelectionError);
  });
});

describe('parseScriptOutput', () => {
  it('reads result, before/after, backup, details and the rollback argv in order', () => {
    const out = parseScriptOutput(
      [
        'noise before the header',
        '#sshdoctor-apply 1',
        'action=comment-line',
        'before=sshd: 10.0.0.1',
        'backup=/etc/hosts.deny.sshdoctor-20250101T000000Z',
        'after=# sshdoctor: sshd: 10.0.0.1=x',
        'sshd-t=OK',
        'rollback-arg=rollback',
        'rollback-arg=file',
        'rollback-arg=/etc/hosts.deny',
        'rollback-arg=/etc/hosts.deny.sshdoctor-20250101T000000Z',
        'result=changed',
        '',
      ].join('\n'),
    );
    expect(out).toEqual({
      result: 'changed',
      before: 'sshd: 10.0.0.1',
      after: '# sshdoctor: sshd: 10.0.0.1=x',
      backup: '/etc/hosts.deny.sshdoctor-20250101T000000Z',
      detail: 'sshd -t: OK',
      rollbackArgs: ['rollback', 'file', '/etc/hosts.deny', '/etc/hosts.deny.sshdoctor-20250101T000000Z'],
    });
  });
  it('returns null without the header or a result', () => {
    expect(parseScriptOutput('result=changed\n')).toBeNull();
    expect(parseScriptOutput('#sshdoctor-apply 1\nbefore=x\n')).toBeNull();
  });
});

describe('stepBudget: fitting a fix into what is left of a worker invocation', () => {
  const now = 1_000_000;
  it('keeps the full step budget without a deadline, or when it fits', () => {
    expect(stepBudget(3, 30_000, undefined, now)).toBe(30_000);
    expect(stepBudget(2, 30_000, now + VERIFY_RESERVE_MS + 4 * 30_000, now)).toBe(30_000);
  });
  it('shortens every step so that the steps, the verification and every rollback fit', () => {
    // 4 steps and their 4 rollbacks share what is left after the verification's reserve.
    expect(stepBudget(4, 30_000, now + VERIFY_RESERVE_MS + 8 * 15_000, now)).toBe(15_000);
  });
  it('refuses (null) when not even the minimum per step fits', () => {
    expect(stepBudget(1, 30_000, now + VERIFY_RESERVE_MS + 2 * MIN_STEP_MS - 1, now)).toBeNull();
    expect(stepBudget(1, 30_000, now + VERIFY_RESERVE_MS + 2 * MIN_STEP_MS, now)).toBe(MIN_STEP_MS);
  });
});
