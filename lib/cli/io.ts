/** Where a command writes; injected so tests can run commands in-process. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Colour output (terminal renderers only). */
  color: boolean;
}

/** A subcommand: parses its own argv, returns the process exit code. */
export type Command = (argv: string[], io: CommandIo) => Promise<number>;

export const EXIT = {
  ok: 0,
  /** blocked, or a problem found */
  problem: 1,
  usage: 2,
  /** could not diagnose */
  couldNotDiagnose: 3,
} as const;
