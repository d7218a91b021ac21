/** The check registry: every check, in report order (host causes first, then cloud, then context). */
import type { Check } from './types';
import { securityGroupCheck } from './security-group';
import { networkAclCheck } from './network-acl';
import { securityCenterCheck } from './security-center';
import { runCommandAgentCheck } from './run-command-agent';
import { sshdServiceCheck } from './sshd-service';
import { sshdListenCheck } from './sshd-listen';
import { sshdConfigCheck } from './sshd-config';
import { sshdLibrariesCheck } from './sshd-libraries';
import { tcpWrappersCheck } from './tcp-wrappers';
import { fail2banCheck } from './fail2ban';
import { firewallCheck } from './firewall';
import { maxStartupsCheck } from './max-startups';
import { authLogCheck } from './auth-log';
import { diskCheck } from './disk';
import { permissionsCheck } from './permissions';
import { userAccountCheck } from './user-account';
import { userAccessCheck } from './user-access';
import { authorizedKeyCheck } from './authorized-key';
import { keyPermissionsCheck } from './key-permissions';

/** Checks that judge the instance itself (from the collector document). */
export const HOST_CHECKS: readonly Check[] = [
  sshdServiceCheck,
  sshdListenCheck,
  sshdConfigCheck,
  sshdLibrariesCheck,
  tcpWrappersCheck,
  fail2banCheck,
  firewallCheck,
  maxStartupsCheck,
  authLogCheck,
  diskCheck,
  permissionsCheck,
  // The authentication stage (with --user): skip without it.
  userAccountCheck,
  userAccessCheck,
  authorizedKeyCheck,
  keyPermissionsCheck,
];

/** Checks that judge the cloud around the instance (from the provider APIs). */
export const CLOUD_CHECKS: readonly Check[] = [securityGroupCheck, networkAclCheck, securityCenterCheck, runCommandAgentCheck];

export const ALL_CHECKS: readonly Check[] = [...HOST_CHECKS, ...CLOUD_CHECKS];

export type { Check, Facts } from './types';
