// Wording and arithmetic of a batch's progress header. The kernel counts (it knows
// which items' work has ended); the view only shows the counts.

import type { BatchProgress } from "./protocol";

/** Whole percent of the items whose work has ended; 100 only when all have. */
export function batchPercent(b: Pick<BatchProgress, "done" | "total">): number {
  if (!(b.total > 0)) return 0;
  const done = Math.min(b.done, b.total);
  return done === b.total ? 100 : Math.min(99, Math.floor((100 * done) / b.total));
}

/** "12 of 40 done · 10 completed · 1 failed · 1 unknown (may be billed) · 4 running". */
export function batchSummary(b: BatchProgress): string {
  const parts = [`${b.done} of ${b.total} done`, `${b.completed} completed`];
  if (b.failed) parts.push(`${b.failed} failed`);
  if (b.unknown) parts.push(`${b.unknown} unknown (may be billed)`);
  if (b.running) parts.push(`${b.running} running`);
  return parts.join(" · ");
}
