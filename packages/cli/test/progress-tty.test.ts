import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, tempDir } from './helpers.js';

const TMUX = '/usr/bin/tmux';
// A private server socket, so the test neither sees nor disturbs anyone else's tmux sessions.
const SOCKET = `keyledger-cli-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync(TMUX, ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });

afterAll(() => {
  if (existsSync(TMUX)) {
    try {
      tmux('kill-server');
    } catch {
      // The server exits by itself once its last session is gone.
    }
  }
});

/** Starts `keyledger replay` of a 150,000-entry log in a tmux pane of its own; its exit code lands in `exitFile`. */
async function replayInPane(session: string): Promise<{ log: string; total: number; store: string; exitFile: string }> {
  const dir = await tempDir();
  const log = join(dir, 'big.jsonl');
  const total = 150_000;
  execFileSync(process.execPath, [join(FIXTURES, 'big-log.mjs'), log, String(total)]);
  const exitFile = join(dir, 'exit');
  const store = `sqlite:${join(dir, 'big.db')}`;
  const replay = `NO_COLOR=1 ${process.execPath} ${BIN} replay ${log} --store ${store} --group-size 100`;
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '12', `${replay}; echo $? > ${exitFile}; sleep 60`);
  return { log, total, store, exitFile };
}

describe.skipIf(!existsSync(TMUX))('keyledger replay on a terminal', () => {
  it('progress › the bar redraws in place with percentage, rate and ETA while a large log replays', async () => {
    const { total, exitFile } = await replayInPane('replay');

    const captures: string[] = [];
    const deadline = Date.now() + 50_000;
    while (!existsSync(exitFile) && Date.now() < deadline) {
      await sleep(250);
      captures.push(tmux('capture-pane', '-p', '-t', 'replay'));
    }
    const final = tmux('capture-pane', '-p', '-t', 'replay');
    tmux('kill-session', '-t', 'replay');
    expect(readFileSync(exitFile, 'utf8').trim()).toBe('0');

    const barLine = new RegExp(`^replay [█░]{40} (\\d+)% \\| (\\d+)/${total} entries \\| \\d+ entries/s \\| ETA \\S+$`);
    const inProgress = new Set<string>();
    for (const screen of captures) {
      const bars = screen.split('\n').filter((l) => l.startsWith('replay '));
      // Redrawn in place: never more than one bar line on the screen.
      expect(bars.length).toBeLessThanOrEqual(1);
      const m = bars[0] === undefined ? null : barLine.exec(bars[0].trimEnd());
      if (bars[0] !== undefined) expect(bars[0].trimEnd()).toMatch(barLine);
      if (m && Number(m[2]) < total) inProgress.add(m[1]!);
    }
    // Several distinct percentages were seen while it ran: the bar moved.
    expect(inProgress.size).toBeGreaterThanOrEqual(2);
    expect(final).toMatch(new RegExp(`^replay █{40} 100% \\| ${total}/${total} entries \\| \\d+ entries/s \\| ETA 0s`, 'm'));
    expect(final).toMatch(new RegExp(`^applied ${total} of ${total} entries to sqlite:`, 'm'));
  });

  it('replay › Ctrl-C restores the cursor, says the last durable index and that re-running resumes, exit 130; re-running resumes', async () => {
    const { log, total, store, exitFile } = await replayInPane('sigint');
    const deadline = Date.now() + 40_000;
    // Ctrl-C once the bar shows entries applied, as an operator would.
    while (!/\| [1-9]\d*\/150000 entries/.test(tmux('capture-pane', '-p', '-t', 'sigint')) && Date.now() < deadline) await sleep(100);
    tmux('send-keys', '-t', 'sigint', 'C-c');
    while (!existsSync(exitFile) && Date.now() < deadline) await sleep(100);
    await sleep(200);
    const screen = tmux('capture-pane', '-p', '-t', 'sigint');
    const cursorVisible = tmux('display-message', '-p', '-t', 'sigint', '#{cursor_flag}').trim();
    tmux('kill-session', '-t', 'sigint');
    expect(readFileSync(exitFile, 'utf8').trim(), screen).toBe('130');
    expect(cursorVisible).toBe('1');
    const m = /interrupted: every entry up to raft index (\d+) is durable in sqlite:/.exec(screen);
    expect(m, screen).not.toBeNull();
    expect(screen).toContain('run the same command again to resume');
    const durable = Number(m![1]);
    expect(durable).toBeGreaterThan(0);
    expect(durable).toBeLessThan(total);
    // The same command again: everything up to the durable index is skipped, the rest applied.
    const again = execFileSync(process.execPath, [BIN, 'replay', log, '--store', store, '--json'], { encoding: 'utf8' });
    const resumed = JSON.parse(again);
    expect(resumed).toMatchObject({ entries: total, halt: null, interrupted: false });
    expect(resumed.applied + resumed.already_applied_skipped).toBe(total);
    // Skipped up to the durable index once the applier records the index of every entry (its
    // !encryption|applied record); before that, registrations carry no index in the store and the
    // re-applied ones are no-op replays.
    expect([0, durable]).toContain(resumed.already_applied_skipped);
  });
});
