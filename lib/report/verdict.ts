/**
 * Correlates the outside probe with the checks: which findings explain what the client
 * saw, and whether the two agree (a confirmed cause).
 */
import type { ProbeOutcome, ProbeResult } from '../probe/types';
import type { AuthProbeResult } from '../probe/auth-probe';
import type { CheckResult, Report, Verdict } from './types';

/** Checks whose failure keeps a client out (the rest are context). */
export const BLOCKING_CHECKS = new Set([
  'sshd-service',
  'sshd-listen',
  'sshd-config',
  'sshd-libraries',
  'tcp-wrappers',
  'fail2ban',
  'firewall',
  'max-startups',
  'security-group',
  'network-acl',
  'security-center',
  'permissions',
  'disk',
]);

/** For each probe outcome, the checks that produce it, most specific first. */
const EXPLAINS: Record<Exclude<ProbeOutcome, 'banner'>, string[]> = {
  reset: ['tcp-wrappers', 'max-startups', 'sshd-config', 'permissions', 'sshd-libraries', 'firewall', 'fail2ban', 'auth-log'],
  closed: ['tcp-wrappers', 'max-startups', 'sshd-config', 'permissions', 'sshd-libraries', 'auth-log'],
  // Root causes before the symptom: a missing library, unusable host keys or a bad config keep
  // sshd from starting; "no sshd running" (sshd-service) is what they look like.
  refused: ['sshd-libraries', 'permissions', 'sshd-config', 'sshd-service', 'sshd-listen', 'fail2ban', 'firewall', 'disk'],
  timeout: ['security-group', 'network-acl', 'security-center', 'fail2ban', 'firewall'],
  silent: ['max-startups', 'sshd-service', 'sshd-libraries', 'disk', 'auth-log'],
  // Security groups and network ACLs drop silently (a timeout), never "no route": an
  // unreachable answer comes from an ICMP reject (host firewall, fail2ban's REJECT action) or
  // from the client's own routing.
  unreachable: ['fail2ban', 'firewall'],
  'not-ssh': ['sshd-listen', 'sshd-service'],
};

const OUTCOME_TEXT: Record<ProbeOutcome, string> = {
  banner: 'answered with an SSH banner',
  reset: 'reset the connection before the SSH handshake ("Connection reset by peer")',
  closed: 'closed the connection before the SSH handshake',
  refused: 'refused the connection ("Connection refused")',
  timeout: 'did not answer (timeout)',
  silent: 'accepted the TCP connection but never sent an SSH banner',
  unreachable: 'is unreachable (no route)',
  'not-ssh': 'answered, but not with SSH',
};

/** Where to look when no check explains the outcome (default: the network in between). */
const NO_CAUSE_HINT: Partial<Record<ProbeOutcome, string>> = {
  silent:
    'something accepts connections on the port and holds them without a banner: a hung or stopped sshd, every MaxStartups slot held for LoginGraceTime, or a middlebox (proxy, load balancer) in front of it.',
};

/** Errors raised by the client's own network stack before any packet reached the instance. */
const LOCAL_UNREACHABLE = new Set(['ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/** libwrap's refuse() sleeps 5 s before exit: a reset this long after connect is its signature. */
function looksLikeLibwrap(probe: ProbeResult): boolean {
  return (probe.outcome === 'reset' || probe.outcome === 'closed') && (probe.closeMs ?? 0) >= 3500 && (probe.closeMs ?? 0) <= 9000;
}

export function verdictFor(probe: ProbeResult | null, checks: readonly CheckResult[]): Verdict {
  const failing = checks.filter((c) => c.status === 'fail' && (BLOCKING_CHECKS.has(c.id) || c.id === 'auth-log' || AUTH_CHECKS.includes(c.id)));
  const blocking = failing.filter((c) => BLOCKING_CHECKS.has(c.id));
  const where = probe ? `${probe.host}:${probe.port}` : 'the instance';

  if (probe && probe.outcome !== 'banner') {
    const order = EXPLAINS[probe.outcome];
    const explaining = order.flatMap((id) => failing.filter((c) => c.id === id));
    const others = blocking.filter((c) => !explaining.includes(c));
    const causes = [...explaining, ...others].map((c) => c.id);
    let confirmed = explaining.length > 0;
    if (explaining[0]?.id === 'tcp-wrappers') confirmed = looksLikeLibwrap(probe);
    // No route on the client's side (its own routing table, no source address) is not the
    // instance's ICMP reject: nothing on the instance is confirmed by it.
    if (probe.outcome === 'unreachable' && LOCAL_UNREACHABLE.has(probe.errorCode ?? '')) confirmed = false;
    const lead = explaining[0] ?? others[0];
    const summary = lead
      ? `Blocked: ${where} ${OUTCOME_TEXT[probe.outcome]}${confirmed ? '; confirmed cause' : '; likely cause'}: ${lead.summary}`
      : `Blocked: ${where} ${OUTCOME_TEXT[probe.outcome]}; no cause found on the host${checks.some((c) => c.status === 'error') ? ' (some checks could not run)' : ''}: ${NO_CAUSE_HINT[probe.outcome] ?? 'suspect the network between the client and the instance.'}`;
    return { status: 'blocked', summary, causes, confirmed };
  }
  if (blocking.length) {
    const lead = blocking[0]!;
    const prefix = probe ? `${where} answers this probe, but ` : '';
    const authCauses = probe?.auth ? failing.filter((c) => AUTH_CHECKS.includes(c.id)) : [];
    return { status: 'blocked', summary: `Blocked: ${prefix}${lead.summary}`, causes: [...blocking, ...authCauses].map((c) => c.id), confirmed: false };
  }
  if (probe?.outcome === 'banner' && probe.auth) return authVerdict(probe, probe.auth, failing, where);
  if (probe?.outcome === 'banner') {
    return { status: 'reachable', summary: `Reachable: ${where} ${OUTCOME_TEXT.banner} (${probe.banner?.software ?? 'SSH'}).`, causes: [], confirmed: true };
  }
  return { status: 'unknown', summary: 'Unknown: the port was not probed and no blocking cause was found.', causes: [], confirmed: false };
}

/** Host checks that explain why sshd refuses a user or a key (the authentication stage). */
export const AUTH_CHECKS = ['user-account', 'user-access', 'authorized-key', 'key-permissions'];

/** Methods a person can complete without sshdoctor's help (not `none`, not host-based). */
const USABLE_METHODS = ['publickey', 'password', 'keyboard-interactive', 'gssapi-with-mic'];

/**
 * The verdict when the question is "can USER log in": the port answered with a banner and no
 * blocking check failed, so the authentication stage decides.
 */
function authVerdict(probe: ProbeResult, auth: AuthProbeResult, failing: readonly CheckResult[], where: string): Verdict {
  const who = auth.user;
  const key = auth.key ? ` key ${auth.key.sha256} (${auth.key.type})` : '';
  const authCauses = AUTH_CHECKS.flatMap((id) => failing.filter((c) => c.id === id));
  switch (auth.outcome) {
    case 'accepted':
      // sshd answers a key query before it checks the account (expiry, shell, /etc/nologin,
      // PermitRootLogin for some versions): a host finding still refuses the login after it.
      if (authCauses.length) {
        return {
          status: 'blocked',
          summary: `Blocked: ${where} accepts${key} for ${who}, but refuses the login after it; confirmed cause: ${authCauses[0]!.summary}`,
          causes: authCauses.map((c) => c.id),
          confirmed: true,
        };
      }
      return {
        status: 'reachable',
        summary: `Reachable: ${where} accepts${key} for ${who} (${probe.banner?.software ?? 'SSH'}).`,
        causes: [],
        confirmed: true,
      };
    case 'no-auth-needed':
      return { status: 'reachable', summary: `Reachable: ${where} lets ${who} in without authentication.`, causes: [], confirmed: true };
    case 'methods': {
      const usable = (auth.methods ?? []).filter((m) => USABLE_METHODS.includes(m));
      if (usable.length && !authCauses.length) {
        return {
          status: 'reachable',
          summary: `Reachable: ${where} allows ${who} to log in with ${usable.join(', ')}; whether your key is accepted was not asked (pass --public-key).`,
          causes: [],
          confirmed: true,
        };
      }
      const lead = authCauses[0];
      return {
        status: 'blocked',
        summary: `Blocked: ${where} ${usable.length ? `allows ${usable.join(', ')}` : 'allows no usable method'} for ${who}${lead ? `, but ${lead.summary}` : ''}.`,
        causes: authCauses.map((c) => c.id),
        confirmed: Boolean(lead) && !usable.length,
      };
    }
    case 'refused': {
      const lead = authCauses[0];
      const said = `refuses${key} for ${who} ("Permission denied (${(auth.methods ?? ['publickey']).join(',')})")`;
      return {
        status: 'blocked',
        summary: lead
          ? `Blocked: ${where} ${said}; confirmed cause: ${lead.summary}`
          : `Blocked: ${where} ${said}; no cause found on the host: the key is not in ${who}'s authorized keys, or sshd's rules for ${who} refuse it (see the sshd log).`,
        causes: authCauses.map((c) => c.id),
        confirmed: Boolean(lead),
      };
    }
    case 'kex-failed':
      // Only sshdoctor's own SSH library failed to agree: the user's OpenSSH may speak what the
      // server offers (sntrup761, mlkem768), so this is not a verdict on the user's client.
      return {
        status: 'unknown',
        summary: `Unknown: ${where} ${OUTCOME_TEXT.banner}, but sshdoctor's SSH library shares no algorithm with it (${auth.error ?? 'key exchange failed'})${auth.offered?.length ? `; the server offered: ${auth.offered.join('; ')}` : ''}. Clients that lack these algorithms (older OpenSSH, PuTTY, libraries) cannot connect either; whether ${who} can log in was not asked.`,
        causes: [],
        confirmed: false,
      };
    default:
      return {
        status: 'unknown',
        summary: `Unknown: ${where} ${OUTCOME_TEXT.banner}, but the authentication stage for ${who} did not finish (${auth.error ?? auth.outcome}): whether ${who} can log in is not known.`,
        causes: authCauses.map((c) => c.id),
        confirmed: false,
      };
  }
}

/**
 * True when the report holds no finding at all: no probe result, no host facts, and no check
 * that passed, failed or warned. Entry points answer such a report with "could not diagnose"
 * (CLI exit code 3).
 */
export function inspectedNothing(report: Report): boolean {
  const collectorRan = report.collector.status === 'ok' || report.collector.status === 'partial';
  const judged = report.checks.some((c) => c.status === 'pass' || c.status === 'fail' || c.status === 'warn');
  return report.probe === null && !collectorRan && !judged && report.verdict.status === 'unknown';
}
