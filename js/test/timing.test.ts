import { describe, expect, it } from "vitest";
import { ClockSync, endedWithoutClip, isTicking, liveElapsed, progressPercent } from "../src/timing";

describe("liveElapsed", () => {
  const running = { elapsed_s: 10, waiting: true, status: "PROCESSING" as const };
  it("adds the time since the kernel measured", () => {
    expect(liveElapsed(running, 1_000_000, 0, 1_005_000)).toBe(15);
  });
  it("corrects for a browser clock ahead of the kernel's", () => {
    // browser is 60 s ahead: now (browser) − offset = kernel time
    expect(liveElapsed(running, 1_000_000, 60_000, 1_065_000)).toBe(15);
  });
  it("never goes backwards when the browser clock is behind", () => {
    expect(liveElapsed(running, 1_000_000, 0, 900_000)).toBe(10);
  });
  it("stops for jobs not waited for or finished", () => {
    expect(liveElapsed({ ...running, waiting: false }, 1_000_000, 0, 1_005_000)).toBe(10);
    expect(liveElapsed({ ...running, status: "COMPLETED" }, 1_000_000, 0, 1_005_000)).toBe(10);
    expect(isTicking({ waiting: true, status: "FAILED" })).toBe(false);
    expect(isTicking({ waiting: true, status: "QUEUED" })).toBe(true);
  });
});

describe("ClockSync", () => {
  it("takes the smallest observed offset as the skew", () => {
    const clock = new ClockSync();
    expect(clock.offsetMs).toBe(0);
    clock.observe(1_000, 61_200); // skew 60 s + 200 ms transit
    clock.observe(5_000, 65_050); // 50 ms transit
    clock.observe(9_000, 70_000); // a delayed message
    expect(clock.offsetMs).toBe(60_050);
    clock.observe(0, 1); // no clock yet: ignored
    expect(clock.offsetMs).toBe(60_050);
  });
});

describe("progressPercent", () => {
  it("is elapsed over expected, held at 95 until done", () => {
    expect(progressPercent("PROCESSING", 90, 180)).toBe(50);
    expect(progressPercent("PROCESSING", 400, 180)).toBe(95);
    expect(progressPercent("COMPLETED", 10, 180)).toBe(100);
    expect(progressPercent("QUEUED", 10, 0)).toBe(0);
  });
});

describe("endedWithoutClip", () => {
  it("is every ending but COMPLETED, and nothing still running", () => {
    expect(["FAILED", "EXPIRED", "NOT_SUBMITTED"].every(endedWithoutClip)).toBe(true);
    expect(["COMPLETED", "PENDING", "SUBMITTING", "QUEUED", "PROCESSING", "UNKNOWN"].some(endedWithoutClip)).toBe(false);
  });
});
