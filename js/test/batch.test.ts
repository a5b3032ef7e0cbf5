import { describe, expect, it } from "vitest";
import { batchPercent, batchSummary } from "../src/batch";
import { readBatch, readMode } from "../src/model";
import { statusLabel, statusText } from "../src/format";
import { FakeModel } from "./fakes";

const progress = { id: "b1", total: 40, done: 12, completed: 10, failed: 1, unknown: 1, running: 4 };

describe("batch progress", () => {
  it("counts in whole percent and reaches 100 only when every item has ended", () => {
    expect(batchPercent({ done: 12, total: 40 })).toBe(30);
    expect(batchPercent({ done: 999, total: 1000 })).toBe(99);
    expect(batchPercent({ done: 1000, total: 1000 })).toBe(100);
    expect(batchPercent({ done: 0, total: 0 })).toBe(0);
    expect(batchPercent({ done: 5, total: 3 })).toBe(100);
  });
  it("says what became of the items, naming the ones that may be billed", () => {
    expect(batchSummary(progress)).toBe("12 of 40 done · 10 completed · 1 failed · 1 unknown (may be billed) · 4 running");
    expect(batchSummary({ ...progress, done: 40, completed: 40, failed: 0, unknown: 0, running: 0 })).toBe(
      "40 of 40 done · 40 completed",
    );
  });
  it("reads the trait defensively", () => {
    expect(readBatch(new FakeModel({ batch: progress }).asModel())).toEqual(progress);
    expect(readBatch(new FakeModel({ batch: { total: "x", done: -3, completed: 2.7 } }).asModel())).toEqual({
      id: "",
      total: 0,
      done: 0,
      completed: 2,
      failed: 0,
      unknown: 0,
      running: 0,
    });
    expect(readBatch(new FakeModel({}).asModel()).total).toBe(0);
  });
  it("knows the batch mode and its pending status", () => {
    expect(readMode(new FakeModel({ mode: "batch" }).asModel())).toBe("batch");
    expect(readMode(new FakeModel({ mode: "other" }).asModel())).toBe("full");
    expect(statusLabel("PENDING")).toBe("PENDING");
    expect(statusText("PENDING")).toMatch(/turn/);
  });
});
