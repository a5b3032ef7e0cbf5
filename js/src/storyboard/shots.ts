// A Storyboard's shot list and run, as pure functions: editing the list (move, remove,
// add) and reading where a run stands from the `board` trait and the jobs. The panel
// (panel.ts) only draws what these say.

import { estimateFor, formatUsd } from "../cost";
import { errorTitle, formatClock } from "../format";
import type { FormState } from "../form";
import type { BoardProgress, Job, Options, Status } from "../protocol";

/** `shots` with the shot at `from` moved to `to` (clamped); the same array when nothing moves. */
export function moveShot(shots: readonly string[], from: number, to: number): string[] {
  const target = Math.max(0, Math.min(shots.length - 1, to));
  if (from < 0 || from >= shots.length || from === target) return [...shots];
  const next = [...shots];
  const [moved] = next.splice(from, 1);
  next.splice(target, 0, moved);
  return next;
}

export function removeShot(shots: readonly string[], index: number): string[] {
  return shots.filter((_, i) => i !== index);
}

export function addShot(shots: readonly string[], prompt = ""): string[] {
  return [...shots, prompt];
}

/** Why the film cannot be asked for now, or null when it can. */
export function runProblem(shots: readonly string[], board: BoardProgress): string | null {
  if (board.running) return "A run is under way";
  if (shots.length === 0) return "Add a shot to start";
  const empty = shots.findIndex((s) => s.trim() === "");
  if (empty >= 0) return `Shot ${empty + 1} has no prompt yet`;
  return null;
}

/** One shot of the latest run, as the poster strip shows it. */
export interface StripItem {
  index: number;
  job: Job | null;
  /** the job's status; PENDING for a shot not started yet */
  status: Status;
  prompt: string;
}

/** The latest run's shots in order (empty before any run). A shot not started yet shows
 * the prompt it will be made from. */
export function stripItems(board: BoardProgress, jobs: readonly Job[], shots: readonly string[]): StripItem[] {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return board.shots.map((id, index) => {
    const job = id ? (byId.get(id) ?? null) : null;
    return { index, job, status: job ? job.status : "PENDING", prompt: job ? job.params.prompt : (shots[index] ?? "") };
  });
}

/** The film of the latest run, once it is made. */
export function filmOf(board: BoardProgress, jobs: readonly Job[]): Job | null {
  return board.film ? (jobs.find((j) => j.id === board.film) ?? null) : null;
}

/** One line saying where the run stands. */
export function runText(board: BoardProgress, jobs: readonly Job[]): string {
  const total = board.shots.length;
  if (board.running) {
    if (board.current !== null) return `Making shot ${board.current + 1} of ${total}…`;
    return total > 0 && board.shots.every((s) => s !== null) ? "Stitching the film…" : "Starting…";
  }
  const film = filmOf(board, jobs);
  if (film) {
    const seconds = film.video?.duration_s ?? film.params.duration;
    return `Film ready: ${total} shot${total === 1 ? "" : "s"}, ${formatClock(seconds)}`;
  }
  if (board.error) return `The run stopped: ${errorTitle(board.error)}`;
  return "Each shot starts from the previous one's last frame; the film plays here when they are stitched.";
}

/** "≈ $1.20 for 3 shots" (each shot priced by its model's rule for these values), or ""
 * when the model's rule has no price for them. */
export function runEstimate(options: Options | null, form: FormState, count: number): string {
  const one = estimateFor(options, form);
  if (!one || count === 0) return "";
  return `≈ ${formatUsd(one.usd * count)} for ${count} shot${count === 1 ? "" : "s"}`;
}
