import script from './collector.sh';

/** The read-only collector (POSIX sh). Its arguments: canonical client IP addresses only. */
export const collectorScript: string = script;
