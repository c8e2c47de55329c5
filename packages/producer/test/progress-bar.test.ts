import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../src/cli/progress-bar.ts';

describe('ProgressBar', () => {
  it('prints plain lines with done, dead, rate and ETA when not on a terminal', () => {
    const written: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => written.push(t), isTTY: false }, 1000);
    bar.update({ total: 100, completed: 0, dead: 0 }, 0);
    bar.update({ total: 100, completed: 10, dead: 0 }, 500); // throttled
    bar.update({ total: 100, completed: 18, dead: 2 }, 2000);
    expect(written).toEqual([
      '0/100 done · 0 dead · 0.0/s · ETA ?\n',
      '20/100 done · 2 dead · 10.0/s · ETA 8s\n',
    ]);
  });

  it('redraws in place with a bar on a terminal, and shows queueing progress', () => {
    const written: string[] = [];
    const bar = new ProgressBar({
      write: (t: string) => written.push(t),
      isTTY: true,
      columns: 80,
    });
    expect(bar.line({ total: 10, completed: 5, dead: 0, enqueued: 10 }, 0)).toMatch(
      /^\[#+\.+\] 5\/10 done/,
    );
    expect(bar.line({ total: 10, completed: 0, dead: 0, enqueued: 4 }, 0)).toContain('queued 4/10');
    bar.update({ total: 10, completed: 10, dead: 0 });
    bar.finish();
    expect(written[0]?.startsWith('\r\u001b[2K[')).toBe(true);
    expect(written[0]).toMatch(/\[#+\] 10\/10 done/);
    expect(written.at(-1)).toBe('\n');
  });
});
