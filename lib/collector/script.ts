import script from './collector.sh';
import { compactShellScript } from '../runners/compact-script';

/**
 * The read-only collector (POSIX sh), as sent to instances: comments and indentation
 * stripped (see compactShellScript). Its arguments: canonical client IP addresses only.
 */
export const collectorScript: string = compactShellScript(script);
