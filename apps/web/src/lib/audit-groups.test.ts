import { describe, expect, it } from 'vitest';
import { groupByRun } from './audit-groups';

const row = (seq: number, run_id: string, outcome: string, action = 'integrations.rotate') => ({
  seq,
  run_id,
  at: `2026-05-27T20:00:0${seq}Z`,
  action,
  phase: outcome === 'started' ? 'attempt' : 'outcome',
  outcome,
});

describe('the audit timeline’s run groups', () => {
  it('joins a run’s started and outcome rows, newest run first, even with another run in between', () => {
    const groups = groupByRun([
      row(4, 'run_b', 'success'),
      row(3, 'run_a', 'failure'),
      row(2, 'run_b', 'started'),
      row(1, 'run_a', 'started', 'integrations.checkHealth'),
    ]);
    expect(groups.map((g) => [g.run_id, g.action, g.outcome, g.events.map((e) => e.seq)])).toEqual([
      ['run_b', 'integrations.rotate', 'success', [2, 4]],
      ['run_a', 'integrations.checkHealth', 'failure', [1, 3]],
    ]);
    expect(groups[1]).toMatchObject({ started_at: '2026-05-27T20:00:01Z', ended_at: '2026-05-27T20:00:03Z' });
  });

  it('leaves a run still in progress as started', () => {
    expect(groupByRun([row(7, 'run_c', 'started')])).toMatchObject([{ outcome: 'started', events: [{ seq: 7 }] }]);
  });
});
