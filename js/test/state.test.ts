import { describe, expect, it } from "vitest";
import { canResume, initialViewState, stageOf, videoReducer, viewReducer, type VideoEntry, type ViewState } from "../src/state";
import { completedJob, makeJob } from "./fakes";

const run = (...actions: Parameters<typeof viewReducer>[1][]): ViewState => actions.reduce(viewReducer, initialViewState);

describe("viewReducer", () => {
  it("keeps at most two compare picks, dropping the older", () => {
    const s = run(
      { type: "toggleCompare", job: "a" },
      { type: "toggleCompare", job: "b" },
      { type: "toggleCompare", job: "c" },
    );
    expect(s.compare).toEqual(["b", "c"]);
    expect(viewReducer(s, { type: "toggleCompare", job: "b" }).compare).toEqual(["c"]);
  });
  it("leaves compare mode when one clip is chosen", () => {
    const s = run({ type: "toggleCompare", job: "a" }, { type: "toggleCompare", job: "b" }, { type: "select", job: "c" });
    expect(s.selected).toBe("c");
    expect(s.compare).toEqual([]);
  });
  it("tracks request state and errors", () => {
    const error = { type: "InvalidParams", message: "m", http_status: null, request_id: null, detail: null, hint: "h", retryable: false };
    let s = run({ type: "generateStarted" });
    expect(s.generating).toBe(true);
    s = viewReducer(s, { type: "generateFinished", error });
    expect(s).toMatchObject({ generating: false, formError: error });
    s = viewReducer(s, { type: "generateStarted" });
    expect(s.formError).toBeNull();
    s = viewReducer(viewReducer(s, { type: "select", job: "a" }), { type: "generateFinished" });
    expect(s.selected).toBeNull(); // the player follows the newest clip again
    s = run({ type: "jobActionStarted", job: "a", action: "stop" });
    expect(s.busy).toEqual({ a: "stop" });
    s = viewReducer(s, { type: "jobActionFinished", job: "a", error });
    expect(s.busy).toEqual({});
    expect(s.jobErrors.a).toBe(error);
  });
  it("forgets picks of jobs that are gone", () => {
    const s = run({ type: "select", job: "gone" }, { type: "toggleCompare", job: "a" }, { type: "toggleCompare", job: "gone" });
    const next = viewReducer(s, { type: "jobsChanged", jobs: [completedJob("a")] });
    expect(next.selected).toBeNull();
    expect(next.compare).toEqual(["a"]);
    // unchanged state keeps its identity (no needless re-render)
    expect(viewReducer(next, { type: "jobsChanged", jobs: [completedJob("a")] })).toBe(next);
  });
});

describe("stageOf", () => {
  const jobs = [completedJob("a"), completedJob("b"), makeJob({ id: "c" })];
  it("shows the newest clip by default", () => {
    expect(stageOf(jobs, initialViewState)).toMatchObject({ mode: "single", job: { id: "b" } });
    expect(stageOf([makeJob()], initialViewState)).toEqual({ mode: "empty" });
  });
  it("shows the chosen clip, or the compared pair", () => {
    expect(stageOf(jobs, { selected: "a", compare: [] })).toMatchObject({ mode: "single", job: { id: "a" } });
    const pair = stageOf(jobs, { selected: null, compare: ["b", "a"] });
    expect(pair.mode).toBe("compare");
    if (pair.mode === "compare") expect(pair.jobs.map((j) => j.id)).toEqual(["b", "a"]);
    expect(stageOf(jobs, { selected: "c", compare: ["a"] })).toMatchObject({ mode: "single", job: { id: "b" } });
  });
});

describe("canResume", () => {
  it("offers resume for detached or interrupted server jobs only", () => {
    expect(canResume(makeJob({ waiting: false, detached: true }))).toBe(true);
    expect(canResume(makeJob({ waiting: false }))).toBe(true);
    expect(canResume(makeJob({ waiting: true }))).toBe(false);
    expect(canResume(makeJob({ waiting: false, request_id: null }))).toBe(false);
    expect(canResume(makeJob({ waiting: false, status: "FAILED" }))).toBe(false);
    expect(canResume(completedJob("a"))).toBe(false);
    expect(canResume(completedJob("a", { video_path: null }))).toBe(true);
  });
});

describe("videoReducer", () => {
  it("moves idle → loading → ready → poster, and error → idle on reset", () => {
    const blob = new Blob(["x"]);
    let e: VideoEntry = { phase: "idle" };
    e = videoReducer(e, { type: "requested" });
    expect(e).toEqual({ phase: "loading", received: 0, size: -1 });
    e = videoReducer(e, { type: "progress", received: 5, size: 10 });
    expect(e).toEqual({ phase: "loading", received: 5, size: 10 });
    e = videoReducer(e, { type: "arrived", blob });
    expect(e).toEqual({ phase: "ready", blob, poster: null, posterDone: false });
    e = videoReducer(e, { type: "poster", poster: "data:image/jpeg;base64,AAAA" });
    expect(e).toMatchObject({ phase: "ready", posterDone: true });
    expect(videoReducer(e, { type: "requested" })).toBe(e);
    const failed = videoReducer({ phase: "loading", received: 0, size: -1 }, { type: "failed", error: {} as never });
    expect(failed.phase).toBe("error");
    expect(videoReducer(failed, { type: "reset" })).toEqual({ phase: "idle" });
  });
});
