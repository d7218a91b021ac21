/** The registry itself: drift shows up exactly where nothing checks it. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../lib/checks';
import { CHECK_STATUSES } from '../../lib/report/types';
import type { Facts } from '../../lib/checks/types';

const files = readdirSync('lib/checks').filter((f) => f.endsWith('.ts') && !['index.ts', 'types.ts'].includes(f));

describe('check registry', () => {
  it('has unique ids, each equal to its file name, and registers every check file', () => {
    const ids = ALL_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(files.map((f) => f.replace(/\.ts$/, '')).sort());
  });

  it('documents every check: title, description, needs, and a README row', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const c of ALL_CHECKS) {
      expect(c.title.length).toBeGreaterThan(5);
      expect(c.description.length).toBeGreaterThan(30);
      expect(c.needs.length).toBeGreaterThan(0);
      expect(readme).toContain(`\`${c.id}\``);
    }
  });

  it('returns a valid status and a result naming itself, for empty facts', () => {
    const empty: Facts = { port: 22, clients: [], probe: null, host: null, hostError: null, cloud: null };
    for (const c of ALL_CHECKS) {
      const r = c.run(empty);
      expect(CHECK_STATUSES).toContain(r.status);
      expect(r.id).toBe(c.id);
      expect(r.title).toBe(c.title);
      expect(typeof r.summary).toBe('string');
    }
  });
});
