// Continue, Remix and lineage on the job cards, and the Storyboard's view: its shot list
// (edited, reordered, written back to `shots`), its run request, poster strip and film.

import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../src/widget";
import { lineageText } from "../src/format";
import { addShot, moveShot, removeShot, runEstimate, runProblem, runText, stripItems } from "../src/storyboard/shots";
import type { BoardProgress } from "../src/protocol";
import { FakeModel, OPTIONS, completedJob, makeJob } from "./fakes";
import { allByRole, byRole, visibleText } from "./dom";
import { openSessionCount } from "../src/session";

type Cleanup = () => void;
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const mounted: Cleanup[] = [];

async function mount(model: FakeModel): Promise<HTMLElement> {
  const init = (await widget.initialize({ model: model.proxy() } as never)) as Cleanup;
  const el = document.createElement("div");
  document.body.appendChild(el);
  const done = (await widget.render({ model: model.proxy(), el } as never)) as Cleanup;
  mounted.push(() => {
    done();
    init();
    el.remove();
  });
  return el;
}

async function reply(model: FakeModel, kind: string, payload: Record<string, unknown> = { ok: true }): Promise<void> {
  model.kernelSend({ kind: "reply", id: model.lastSent(kind).content.id, ...payload });
  await flush();
}

function type(el: HTMLTextAreaElement, value: string): void {
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

afterEach(() => {
  for (const cleanup of mounted.splice(0)) cleanup();
  expect(openSessionCount()).toBe(0);
  vi.restoreAllMocks();
});

const BOARD: BoardProgress = { running: false, current: null, shots: [], film: null, error: null };

describe("lineage on the cards", () => {
  it("says what a clip continues or remixes", () => {
    expect(lineageText(null)).toBe("");
    expect(lineageText({ id: "p1", how: "extend", prompt: "a red kite rising over the dunes at dawn, wide shot from below" })).toBe(
      "continues: a red kite rising over the dunes at dawn, wide shot from be…",
    );
    expect(lineageText({ id: "p1", how: "remix", prompt: null })).toBe("remix of clip p1");
  });

  it("offer Continue on a finished clip: the next shot's prompt goes to the kernel", async () => {
    const parent = completedJob("a", { params: { prompt: "a red kite rising", duration: 4, size: "1280x720", input_reference: null } });
    const model = new FakeModel({ jobs: [parent, makeJob({ id: "b" })] });
    const el = await mount(model);
    const card = el.querySelector<HTMLElement>('.sw-card[data-job="a"]')!;
    const running = el.querySelector<HTMLElement>('.sw-card[data-job="b"]')!;
    expect(allByRole(running, "button", "Continue")).toHaveLength(0); // not finished: nothing to continue
    const open = byRole(card, "button", "Continue");
    expect(open.getAttribute("aria-expanded")).toBe("false");
    open.click();
    expect(open.getAttribute("aria-expanded")).toBe("true");
    const next = byRole(card, "textbox", "Next shot") as HTMLTextAreaElement;
    expect(document.activeElement).toBe(next);
    byRole(card, "button", "Start next shot").click();
    expect(model.sent.filter((s) => s.content.kind === "continue")).toHaveLength(0); // empty: nothing sent
    type(next, "the kite dives toward the sea");
    byRole(card, "button", "Start next shot").click();
    expect(model.lastSent("continue").content).toMatchObject({ kind: "continue", job: "a", prompt: "the kite dives toward the sea" });
    expect((byRole(card, "button", "Starting…") as HTMLButtonElement).disabled).toBe(true);
    await reply(model, "continue", { ok: true, job: "c" });
    expect(card.querySelector<HTMLElement>(".sw-next")!.hidden).toBe(true); // done: the form closes
    expect(next.value).toBe("");

    // the new job's card names its parent
    const child = makeJob({ id: "c", derived_from: { id: "a", how: "extend", prompt: "a red kite rising" } });
    model.kernelSet({ jobs: [parent, makeJob({ id: "b" }), child] });
    expect(visibleText(el.querySelector('.sw-card[data-job="c"]')!)).toContain("continues: a red kite rising");
  });

  it("Escape closes the next shot's form and the Reproduce code, focus back where it was", async () => {
    const el = await mount(new FakeModel({ jobs: [completedJob("a")] }));
    const open = byRole(el, "button", "Continue");
    open.click();
    const next = byRole(el, "textbox", "Next shot");
    const escape = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    next.dispatchEvent(escape);
    expect(el.querySelector<HTMLElement>(".sw-next")!.hidden).toBe(true);
    expect(open.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(open);
    expect(escape.defaultPrevented).toBe(true); // handled here: not the notebook's too
    const reproduce = el.querySelector<HTMLDetailsElement>("details.sw-reproduce")!;
    reproduce.open = true;
    reproduce.querySelector("summary")!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    expect(reproduce.open).toBe(false);
    const unhandled = new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true });
    reproduce.querySelector("summary")!.dispatchEvent(unhandled);
    expect(unhandled.defaultPrevented).toBe(false); // nothing open: the key is not taken
  });

  it("offer End on this frame where the widget's model has a last frame", async () => {
    const model = new FakeModel({ jobs: [completedJob("a"), makeJob({ id: "b" })] });
    const el = await mount(model);
    expect(allByRole(el, "button", "End on this frame")).toHaveLength(0); // Sora 2 ends on no image
    model.kernelSet({ model: "veo-3.1-fast", duration: 8, size: "1280x720", values: { aspect_ratio: "16:9", resolution: "720p", sound: true } });
    const card = el.querySelector<HTMLElement>('.sw-card[data-job="a"]')!;
    expect(allByRole(el.querySelector('.sw-card[data-job="b"]')!, "button", "End on this frame")).toHaveLength(0); // not finished
    byRole(card, "button", "End on this frame").click();
    expect(model.lastSent("end_frame").content).toMatchObject({ kind: "end_frame", job: "a" });
    expect((byRole(card, "button", "Reading the last frame…") as HTMLButtonElement).disabled).toBe(true);
    model.kernelSet({ values: { aspect_ratio: "16:9", resolution: "720p", sound: true, last_frame: "https://uploads.example.com/f.png" } });
    await reply(model, "end_frame", { ok: true, url: "https://uploads.example.com/f.png" });
    expect((byRole(el, "textbox", "Last frame") as HTMLInputElement).value).toBe("https://uploads.example.com/f.png");
    expect(el.querySelector('[role="status"]')!.textContent).toContain("ends on this clip's last frame");
  });

  it("keep the next shot's form open with the error when the kernel refuses", async () => {
    const model = new FakeModel({ jobs: [completedJob("a")] });
    const el = await mount(model);
    byRole(el, "button", "Continue").click();
    type(byRole(el, "textbox", "Next shot") as HTMLTextAreaElement, "then it rains");
    byRole(el, "button", "Start next shot").click();
    await reply(model, "continue", { ok: false, error: { type: "InvalidParams", message: "clip a: its file is missing", hint: "Run from the folder…" } });
    const card = el.querySelector(".sw-card")!;
    expect(visibleText(card)).toContain("clip a: its file is missing");
    expect(card.querySelector<HTMLElement>(".sw-next")!.hidden).toBe(false);
    expect((byRole(card, "textbox", "Next shot") as HTMLTextAreaElement).value).toBe("then it rains");
  });

  it("Remix fills the controls with the clip's parameters; Generate then names it", async () => {
    const parent = completedJob("a", {
      model: "sora-2-pro",
      params: { prompt: "a red kite rising", duration: 12, size: "1280x720", input_reference: "https://img.example.com/k.png" },
    });
    const model = new FakeModel({ prompt: "something else", jobs: [parent] });
    const el = await mount(model);
    byRole(el, "button", "Remix").click();
    expect(model.attrs).toMatchObject({
      prompt: "a red kite rising",
      duration: 12,
      size: "1280x720",
      model: "sora-2-pro",
      input_reference: "https://img.example.com/k.png",
    });
    expect(document.activeElement).toBe(byRole(el, "textbox", "Prompt"));
    expect(visibleText(el.querySelector(".sw-form")!)).toContain("Remix of “a red kite rising”");
    type(byRole(el, "textbox", "Prompt") as HTMLTextAreaElement, "a blue kite rising");
    byRole(el, "button", "Generate").click();
    expect(model.lastSent("generate").content).toMatchObject({
      remix_of: "a",
      model: "sora-2-pro",
      params: { prompt: "a blue kite rising", duration: 12, size: "1280x720", input_reference: "https://img.example.com/k.png" },
    });
    await reply(model, "generate", { ok: true, job: "b" });
    expect(el.querySelector<HTMLElement>(".sw-remix-note")!.hidden).toBe(true); // made: no longer remixing
    byRole(el, "button", "Generate").click();
    expect(model.lastSent("generate").content.remix_of).toBeNull();
  });

  it("Cancel remix keeps the values but the next Generate is a clip of its own", async () => {
    const model = new FakeModel({ jobs: [completedJob("a")] });
    const el = await mount(model);
    byRole(el, "button", "Remix").click();
    byRole(el, "button", "Cancel remix").click();
    expect(el.querySelector<HTMLElement>(".sw-remix-note")!.hidden).toBe(true);
    byRole(el, "button", "Generate").click();
    expect(model.lastSent("generate").content.remix_of).toBeNull();
  });

  it("the compact %sora card offers Continue but no Remix (it has no controls)", async () => {
    const el = await mount(new FakeModel({ mode: "job", jobs: [completedJob("a")] }));
    byRole(el, "button", "Continue");
    expect(allByRole(el, "button", "Remix")).toHaveLength(0);
    expect(allByRole(el, "button", "End on this frame")).toHaveLength(0);
  });

  it("a film offers neither", async () => {
    const el = await mount(new FakeModel({ jobs: [completedJob("f", { kind: "film" })] }));
    expect(allByRole(el, "button", "Continue")).toHaveLength(0);
    expect(allByRole(el, "button", "Remix")).toHaveLength(0);
  });
});

describe("storyboard: pure parts", () => {
  it("edit the list of shots", () => {
    expect(moveShot(["a", "b", "c"], 2, 0)).toEqual(["c", "a", "b"]);
    expect(moveShot(["a", "b", "c"], 0, 1)).toEqual(["b", "a", "c"]);
    expect(moveShot(["a", "b"], 1, 5)).toEqual(["a", "b"]);
    expect(removeShot(["a", "b", "c"], 1)).toEqual(["a", "c"]);
    expect(addShot(["a"])).toEqual(["a", ""]);
  });

  it("say why a run cannot start, where it stands and what it costs", () => {
    expect(runProblem([], BOARD)).toBe("Add a shot to start");
    expect(runProblem(["a", " "], BOARD)).toBe("Shot 2 has no prompt yet");
    expect(runProblem(["a"], { ...BOARD, running: true })).toBe("A run is under way");
    expect(runProblem(["a", "b"], BOARD)).toBeNull();
    expect(runText({ ...BOARD, running: true, current: 1, shots: ["s1", null, null] }, [])).toBe("Making shot 2 of 3…");
    expect(runText({ ...BOARD, running: true, current: null, shots: ["s1", "s2"] }, [])).toBe("Stitching the film…");
    const film = completedJob("f", { kind: "film", video: { width: 1280, height: 720, duration_s: 12, codec: "h264", fps: 24, frames: 288, faststart: true } });
    expect(runText({ ...BOARD, shots: ["s1", "s2", "s3"], film: "f" }, [film])).toBe("Film ready: 3 shots, 0:12");
    const shot = { prompt: "", model: "sora-2", duration: 4, size: "1280x720", input_reference: "", values: {} };
    expect(runEstimate(OPTIONS, shot, 3)).toBe("≈ $1.20 for 3 shots");
    // each shot priced by its model's own rule: Veo 3.1 Fast by sound, silent at $0.10 a second
    expect(runEstimate(OPTIONS, { ...shot, model: "veo-3.1-fast", size: "", values: { sound: false } }, 2)).toBe("≈ $0.80 for 2 shots");
    const items = stripItems({ ...BOARD, running: true, current: 1, shots: ["s1", "s2", null] }, [completedJob("s1"), makeJob({ id: "s2" })], ["x", "y", "z"]);
    expect(items.map((i) => [i.status, i.prompt])).toEqual([
      ["COMPLETED", "a paper boat on a rainy street"],
      ["PROCESSING", "a paper boat on a rainy street"],
      ["PENDING", "z"],
    ]);
  });
});

describe("storyboard view", () => {
  const boardModel = (extra: Record<string, unknown> = {}) =>
    new FakeModel({ mode: "storyboard", shots: ["a kite rising", "the kite dives"], duration: 4, size: "1280x720", board: BOARD, ...extra });

  it("lists the shots with accessible controls, and writes edits and moves back", async () => {
    const model = boardModel();
    const el = await mount(model);
    expect(el.querySelector(".sora-widget")!.getAttribute("data-mode")).toBe("storyboard");
    const first = byRole(el, "textbox", "Shot 1 prompt") as HTMLTextAreaElement;
    expect(first.value).toBe("a kite rising");
    expect((byRole(el, "button", "Move shot 1 up") as HTMLButtonElement).disabled).toBe(true);
    expect(visibleText(el)).toContain("≈ $0.80 for 2 shots");
    type(first, "a red kite rising");
    expect(model.attrs.shots).toEqual(["a red kite rising", "the kite dives"]);
    byRole(el, "button", "Move shot 2 up").click();
    expect(model.attrs.shots).toEqual(["the kite dives", "a red kite rising"]);
    expect((byRole(el, "textbox", "Shot 1 prompt") as HTMLTextAreaElement).value).toBe("the kite dives");
    byRole(el, "button", "Add shot").click();
    expect(model.attrs.shots).toEqual(["the kite dives", "a red kite rising", ""]);
    expect(document.activeElement).toBe(byRole(el, "textbox", "Shot 3 prompt"));
    const generate = byRole(el, "button", "Generate film") as HTMLButtonElement;
    expect(generate.disabled).toBe(true); // shot 3 is empty
    expect(document.getElementById(generate.getAttribute("aria-describedby")!)!.textContent).toBe("Shot 3 has no prompt yet");
    byRole(el, "button", "Remove shot 3").click();
    expect(model.attrs.shots).toEqual(["the kite dives", "a red kite rising"]);
    expect(generate.disabled).toBe(false);
    model.kernelSet({ shots: ["one", "two", "three"] }); // set from Python
    expect(allByRole(el, "textbox").map((t) => (t as HTMLTextAreaElement).value)).toEqual(["one", "two", "three"]);
  });

  it("asks for a run, follows it in the strip, then shows and offers the film", async () => {
    const model = boardModel();
    const el = await mount(model);
    byRole(el, "button", "Generate film").click();
    expect(model.lastSent("run_storyboard").content).toMatchObject({ shots: ["a kite rising", "the kite dives"] });
    model.kernelSet({ board: { ...BOARD, running: true, current: 0, shots: ["s1", null] }, jobs: [makeJob({ id: "s1" })] });
    await reply(model, "run_storyboard");
    expect(visibleText(el)).toContain("Making shot 1 of 2…");
    expect((byRole(el, "textbox", "Shot 1 prompt") as HTMLTextAreaElement).disabled).toBe(true);
    expect((byRole(el, "button", "Generate film") as HTMLButtonElement).disabled).toBe(true);
    const strip = el.querySelector(".sw-strip")!;
    expect(allByRole(strip, "button").map((b) => b.getAttribute("aria-label"))).toEqual([
      "Shot 1: Rendering the clip — a paper boat on a rainy street",
      "Shot 2: Waits for the shot before it — the kite dives",
    ]);

    const s1 = completedJob("s1", { params: { prompt: "a kite rising", duration: 4, size: "1280x720", input_reference: null } });
    const s2 = completedJob("s2", { derived_from: { id: "s1", how: "extend", prompt: "a kite rising" } });
    const film = completedJob("f", { kind: "film", filename: "film.mp4", video_path: "sora-outputs/film.mp4" });
    model.kernelSet({ board: { ...BOARD, shots: ["s1", "s2"], film: "f" }, jobs: [s1, s2, film] });
    expect(visibleText(el)).toContain("Film ready: 2 shots");
    expect(visibleText(el.querySelector(".sw-film")!)).toContain("Saved sora-outputs/film.mp4");
    // the player asks for the film (the newest clip) and the download is its bytes
    // (two transfers at a time, each holding its slot until its poster is taken: happy-dom
    // never decodes a frame, so the capture gives up after its timeout)
    vi.useFakeTimers();
    const answered = new Set<string>();
    for (let round = 0; round < 3; round += 1) {
      for (const request of model.sent.filter((s) => s.content.kind === "video" && !answered.has(s.content.id))) {
        answered.add(request.content.id);
        model.kernelSend({ kind: "video_chunk", id: request.content.id, index: 0, total: 1, mime: "video/mp4", size: 3 }, [
          new DataView(new Uint8Array([1, 2, 3]).buffer),
        ]);
      }
      await vi.advanceTimersByTimeAsync(16_000);
    }
    vi.useRealTimers();
    expect(model.sent.filter((s) => s.content.kind === "video").map((s) => s.content.job)).toEqual(["s1", "s2", "f"]);
    const download = byRole(el, "link", "Download film");
    expect(download.getAttribute("download")).toBe("film.mp4");
    expect(el.querySelector<HTMLVideoElement>(".sw-stage video")!.getAttribute("aria-label")).toContain(film.params.prompt);
    // a shot of the strip plays in the player when chosen
    byRole(strip, "button", /^Shot 1: Done, play it/).click();
    await flush();
    expect(el.querySelector(".sw-stage .sw-caption-prompt")!.textContent).toBe("a kite rising");
  });

  it("shows why a run stopped", async () => {
    const error = { type: "GenerationFailed", message: "blocked", http_status: null, request_id: "r", detail: "content policy", hint: "", retryable: false };
    const model = boardModel({ board: { ...BOARD, shots: ["s1", "s2"], error }, jobs: [completedJob("s1"), makeJob({ id: "s2", status: "FAILED", waiting: false, error })] });
    const el = await mount(model);
    expect(visibleText(el)).toContain("The run stopped: Generation failed");
    expect(visibleText(el.querySelector("[role=alert]")!)).toContain("content policy");
    expect((byRole(el, "button", "Generate film") as HTMLButtonElement).disabled).toBe(false); // try again
  });

  it("marks a shot that ended without a clip as ended, NOT_SUBMITTED too, and a running one as still going", async () => {
    const jobs = [
      makeJob({ id: "s1", status: "FAILED", waiting: false }),
      makeJob({ id: "s2", status: "NOT_SUBMITTED", waiting: false }),
      makeJob({ id: "s3", status: "PROCESSING" }),
    ];
    const model = boardModel({ shots: ["one", "two", "three"], board: { ...BOARD, shots: ["s1", "s2", "s3"] }, jobs });
    const el = await mount(model);
    const marks = [...el.querySelectorAll(".sw-strip .sw-placeholder")].map((p) => p.textContent);
    expect(marks).toEqual(["—", "—", "…"]);
  });

  it("releases every listener when the view goes", async () => {
    const model = boardModel();
    await mount(model);
    mounted.splice(0).forEach((cleanup) => cleanup());
    expect(model.listeners).toBe(0);
  });
});
