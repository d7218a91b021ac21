/**
 * Script arguments for runners that must put them into shell text (SSM `commands`, Cloud
 * Assistant `set --` line). Two kinds, chosen by the caller in {@link RunRequest.argsKind}:
 * canonical IP addresses (the collector's client IPs) and validated text (the remediation
 * script's argv: paths, line numbers, one config line). Both end up single-quoted; text has
 * every `'` written as `'\''`, so the shell sees exactly one literal word per argument.
 */
import { CloudValidationError } from '../cloud/errors';
import { canonicalIp } from '../cloud/validate';
import type { RunArgsKind } from './types';

/** Longest text argument, in characters (apply.sh caps a config line at 400). */
export const MAX_TEXT_ARG_CHARS = 1024;
/** Most arguments one run may carry. */
export const MAX_SCRIPT_ARGS = 32;

// Printable ASCII plus tab: tabs separate fields in hosts.deny and sshd_config lines, and
// comment-line must match the exact line. Inside single quotes neither can start shell syntax.
const TEXT_ARG = /^[\t\x20-\x7e]*$/;

/**
 * Checks every argument against the rules of its kind and returns them unchanged.
 * @throws CloudValidationError naming `args[i]` and the rule.
 */
export function validateScriptArgs(args: readonly string[], kind: RunArgsKind = 'ip'): readonly string[] {
  if (args.length > MAX_SCRIPT_ARGS) throw new CloudValidationError('args', `at most ${MAX_SCRIPT_ARGS} arguments`);
  args.forEach((a, i) => {
    const field = `args[${i}]`;
    if (kind === 'ip') {
      const canonical = canonicalIp(a, field);
      if (canonical !== a) throw new CloudValidationError(field, `must be an IP address in canonical form (${canonical}), as validateClientIps returns it`);
      return;
    }
    if (typeof a !== 'string') throw new CloudValidationError(field, 'must be a string');
    if (a.length > MAX_TEXT_ARG_CHARS) throw new CloudValidationError(field, `must be at most ${MAX_TEXT_ARG_CHARS} characters`);
    if (!TEXT_ARG.test(a)) throw new CloudValidationError(field, 'must be printable ASCII on one line (no NUL, newline or other control character)');
  });
  return args;
}

/** One argument as a single-quoted shell word: `'` becomes `'\''`. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Validates, then quotes: the words to append after `sh -s --` or `set --`. */
export function quoteScriptArgs(args: readonly string[], kind: RunArgsKind = 'ip'): string[] {
  return validateScriptArgs(args, kind).map(shellQuote);
}
