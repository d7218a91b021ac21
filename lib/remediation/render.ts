/** Terminal rendering of a fix plan and of an applied fix (format only: the texts come from the plan and the audit). */
import type { FixPlan } from './plan';
import type { ApplyOutcome } from './apply';

const indent = (lines: string[], by: string) => lines.map((l) => `${by}${l}\n`).join('');

/** The dry run: what `--apply` would do, step by step, and what stays manual. */
export function renderPlan(plan: FixPlan, options: { dryRun: boolean }): string {
  const where = `${plan.target.instanceId ?? plan.target.host}:${plan.target.port}`;
  let out = `sshdoctor fix ${where}${options.dryRun ? ' (dry run: nothing changed; add --apply to apply)' : ''}\n`;
  if (!plan.steps.length && !plan.manual.length) return `${out}  Nothing to fix: no check fails.\n`;
  plan.steps.forEach((s, i) => {
    out += `  ${i + 1}. [${s.checkId}] ${s.description}\n`;
    out += indent(s.commands, '       $ ');
  });
  for (const m of plan.manual) {
    out += `  manual [${m.checkId}] ${m.summary ?? ''}${m.summary ? ' ' : ''}(${m.reason})\n`;
    out += indent(m.commands, '       $ ');
  }
  return out;
}

/** The audit of an applied plan: each step's before/after/backup, verification and rollback. */
export function renderOutcome(plan: FixPlan, outcome: ApplyOutcome): string {
  let out = renderPlan(plan, { dryRun: false });
  out += 'applied:\n';
  outcome.audit.forEach((a, i) => {
    const state = a.rolledBack
      ? 'rolled back'
      : a.rollbackError
        ? `ROLLBACK FAILED: ${a.rollbackError}`
        : a.verified === true
          ? 'verified'
          : a.verified === false
            ? 'not verified'
            : '';
    out += `  ${i + 1}. ${a.result}${state ? `, ${state}` : ''}  [${a.checkId}] ${a.description}\n`;
    const facts = [
      ...(a.before !== undefined ? [`before: ${a.before}`] : []),
      ...(a.after !== undefined ? [`after:  ${a.after}`] : []),
      ...(a.backup ? [`backup: ${a.backup}`] : []),
      ...(a.detail ? [`detail: ${a.detail}`] : []),
      `by ${a.who} at ${a.when}`,
    ];
    out += indent(facts, '       ');
  });
  out += `${outcome.summary}\n`;
  return out;
}
