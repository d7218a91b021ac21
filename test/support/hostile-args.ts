/**
 * Script arguments that would run commands if any runner let a shell parse them: each names
 * a marker file in `dir` that must never appear. Shared by the runner tests.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The script the tests run: one bracketed line per positional parameter, then the count. */
export const ECHO_ARGS_SCRIPT = '#!/bin/sh\nfor a in "$@"; do printf \'[%s]\\n\' "$a"; done\necho "n=$#"\n';

export function hostileArgs(): { dir: string; args: string[]; expectedStdout: string; touched: () => string[]; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshdoctor-hostile-'));
  const m = (n: string) => path.join(dir, n);
  const args = [
    `'; touch ${m('a')}; '`,
    `$(touch ${m('b')})`,
    `\`touch ${m('c')}\``,
    '$(id)',
    `"; touch ${m('d')}; "`,
    `x' 'y`,
    `sshd: ALL\t# tab kept`,
    `-- ; touch ${m('e')} && echo '\\'`,
    '',
  ];
  return {
    dir,
    args,
    expectedStdout: `${args.map((a) => `[${a}]\n`).join('')}n=${args.length}\n`,
    touched: () => ['a', 'b', 'c', 'd', 'e'].filter((n) => existsSync(m(n))),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Arguments the text kind must refuse, with the rule the error names. */
export const REFUSED_TEXT_ARGS: readonly [string, RegExp][] = [
  ['a\nrm -rf /', /args\[0\]: must be printable ASCII on one line/],
  ['a\u0000b', /args\[0\]: must be printable ASCII on one line/],
  ['caf\u00e9', /args\[0\]: must be printable ASCII on one line/],
  ['a\rb', /args\[0\]: must be printable ASCII on one line/],
  ['x'.repeat(1025), /args\[0\]: must be at most 1024 characters/],
];
