/**
 * Shrinks a shell script for transport: Cloud Assistant caps the Base64 command content
 * (18 KB in older documentation, 24 KB in newer) and SSM bounds its parameters, so comments,
 * blank lines and indentation are not sent. Only whole-line comments are removed (a `#` in
 * the middle of a line may be data), and the `#!` line stays.
 *
 * Precondition, checked by the tests: the script has no here-documents and no multi-line
 * quoted strings whose leading whitespace or `#`-lines are data (awk programs are fine:
 * `#` starts a comment there too).
 */
export function compactShellScript(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (i === 0 && line.startsWith('#!')) {
      out.push(line);
      return;
    }
    const t = line.replace(/^[ \t]+/, '');
    if (t === '' || t.startsWith('#')) return;
    out.push(t);
  });
  return `${out.join('\n')}\n`;
}
