// Live elapsed times and the progress estimate. The kernel sends `elapsed_s` as it
// measured it at `jobs_clock_ms` (kernel clock); the view adds the time passed since,
// corrected for a browser clock that disagrees with the kernel's.

import { TERMINAL_STATUSES, type Job, type Status } from "./protocol";

const TERMINAL: ReadonlySet<Status> = new Set(TERMINAL_STATUSES);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status as Status);
}

/** Ended, and with no clip to show: failed, expired, or never submitted. */
export function endedWithoutClip(status: string): boolean {
  return status !== "COMPLETED" && isTerminal(status);
}

/** A job whose clock is running: the kernel is waiting for it and it is not over. */
export function isTicking(job: Pick<Job, "waiting" | "status">): boolean {
  return job.waiting && !isTerminal(job.status);
}

/**
 * Estimates the browser-minus-kernel clock offset. Each `jobs` update arrives
 * (receivedAt − kernelClock) = skew + transit after it was stamped; the smallest value
 * seen is the best estimate of the skew (transit only adds). Until one update has been
 * observed the offset is taken as zero: the initial trait value may be old, so its age
 * says nothing about skew.
 */
export class ClockSync {
  private best: number | null = null;

  observe(kernelClockMs: number, receivedAtMs: number): void {
    if (!(kernelClockMs > 0)) return;
    const offset = receivedAtMs - kernelClockMs;
    if (this.best === null || offset < this.best) this.best = offset;
  }

  get offsetMs(): number {
    return this.best ?? 0;
  }
}

/** Seconds since submit now, from the kernel's measurement and the skew estimate. */
export function liveElapsed(
  job: Pick<Job, "elapsed_s" | "waiting" | "status">,
  kernelClockMs: number,
  offsetMs: number,
  nowMs: number,
): number {
  const base = Number.isFinite(job.elapsed_s) ? Math.max(0, job.elapsed_s) : 0;
  if (!isTicking(job) || !(kernelClockMs > 0)) return base;
  const since = (nowMs - offsetMs - kernelClockMs) / 1000;
  return base + Math.max(0, since);
}

/** Percent for the progress bar: elapsed/expected, held at 95 % until the job is done. */
export function progressPercent(status: string, elapsed: number, expected: number): number {
  if (status === "COMPLETED") return 100;
  if (!(expected > 0)) return 0;
  return Math.max(0, Math.min(95, Math.round((100 * elapsed) / expected)));
}
