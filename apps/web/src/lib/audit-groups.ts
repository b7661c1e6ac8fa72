/** One audit row as the timeline shows it. */
export interface TimelineEvent {
  seq: number;
  run_id: string;
  at: string;
  action: string;
  phase: string;
  outcome: string;
}

/** The rows of one run: an action's `started` row and its outcome, shown as one entry. */
export interface RunGroup<E extends TimelineEvent> {
  run_id: string;
  /** The action the run is about: its first (oldest) row's. */
  action: string;
  /** The verdict: the newest row's outcome (`started` while the action has not finished). */
  outcome: string;
  started_at: string;
  ended_at: string;
  /** Oldest first. */
  events: E[];
}

/**
 * Group a page of rows (newest first) by run id, in the order each run's newest row appears. Rows
 * of one run seldom sit apart (other runs interleave when actions overlap); they still join their run.
 */
export function groupByRun<E extends TimelineEvent>(events: E[]): RunGroup<E>[] {
  const groups = new Map<string, E[]>();
  for (const e of events) {
    const rows = groups.get(e.run_id);
    if (rows) rows.push(e);
    else groups.set(e.run_id, [e]);
  }
  return [...groups.entries()].map(([run_id, newestFirst]) => {
    const rows = [...newestFirst].sort((a, b) => a.seq - b.seq);
    const first = rows[0] as E;
    const last = rows.at(-1) as E;
    return {
      run_id,
      action: first.action,
      outcome: last.outcome,
      started_at: first.at,
      ended_at: last.at,
      events: rows,
    };
  });
}
