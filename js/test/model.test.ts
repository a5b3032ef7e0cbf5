import { afterEach, describe, expect, it, vi } from "vitest";
import { missingKeys, readJobs, type WidgetModel } from "../src/model";
import { JOBVIEW_KEYS } from "../src/protocol";
import { FakeModel, makeJob } from "./fakes";

describe("reading jobs from the kernel", () => {
  afterEach(() => vi.restoreAllMocks());

  it("keeps a job that has every key of the protocol", () => {
    const model = new FakeModel({ jobs: [makeJob()] });
    expect(readJobs(model as unknown as WidgetModel)).toHaveLength(1);
  });

  it("leaves out a job whose key was renamed and says so once, instead of showing zeros", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const { elapsed_s, ...rest } = makeJob({ id: "renamed" });
    const model = new FakeModel({ jobs: [{ ...rest, elapsed_seconds: elapsed_s }, makeJob({ id: "fine" })] });
    const jobs = readJobs(model as unknown as WidgetModel);
    expect(jobs.map((j) => j.id)).toEqual(["fine"]);
    readJobs(model as unknown as WidgetModel);
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0][0])).toContain("elapsed_s");
  });

  it("lists every missing key, and all of them for a non-object", () => {
    expect(missingKeys({ id: "x" }, ["id", "status"])).toEqual(["status"]);
    expect(missingKeys(null, JOBVIEW_KEYS)).toEqual([...JOBVIEW_KEYS]);
  });
});
