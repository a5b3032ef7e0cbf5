import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../src/widget";
import { DETACHED_TEXT, FINISHING_SUBMIT } from "../src/view/card";
import { FakeModel, bytesView, completedJob, makeJob } from "./fakes";
import { allByRole, byRole, visibleText } from "./dom";
import { openSessionCount } from "../src/session";
import type { Job } from "../src/protocol";

type Cleanup = () => void;
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

const mounted: Cleanup[] = [];
let initCleanups = new Map<FakeModel, Cleanup>();

/** initialize (once per model) + render, as anywidget does. */
async function mount(model: FakeModel): Promise<{ el: HTMLElement; root: HTMLElement; cleanup: Cleanup }> {
  if (!initCleanups.has(model)) {
    const init = (await widget.initialize({ model: model.proxy() } as never)) as Cleanup;
    initCleanups.set(model, init);
  }
  const el = document.createElement("div");
  document.body.appendChild(el);
  const done = (await widget.render({ model: model.proxy(), el } as never)) as Cleanup;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    done();
    el.remove();
  };
  mounted.push(cleanup);
  return { el, root: el.querySelector(".sora-widget") as HTMLElement, cleanup };
}

function closeModel(model: FakeModel): void {
  initCleanups.get(model)?.();
  initCleanups.delete(model);
}

/** The kernel answers the last request of a kind (promises settle a microtask later). */
async function reply(model: FakeModel, kind: string, payload: Record<string, unknown> = { ok: true }): Promise<void> {
  model.kernelSend({ kind: "reply", id: model.lastSent(kind).content.id, ...payload });
  await flush();
}

/** The kernel streams a clip for the video request of `job` (default: the last one). */
function sendVideo(model: FakeModel, bytes: number[][], job?: string): void {
  const request = [...model.sent].reverse().find((s) => s.content.kind === "video" && (!job || s.content.job === job));
  if (!request) throw new Error(`no video request for ${job}`);
  const { id } = request.content;
  const size = bytes.reduce((n, b) => n + b.length, 0);
  bytes.forEach((b, index) =>
    model.kernelSend({ kind: "video_chunk", id, index, total: bytes.length, mime: "video/mp4", size }, [bytesView(b)]),
  );
}

function type(el: HTMLTextAreaElement | HTMLInputElement, value: string): void {
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

afterEach(() => {
  for (const cleanup of mounted.splice(0)) cleanup();
  for (const cleanup of initCleanups.values()) cleanup();
  initCleanups = new Map();
  expect(openSessionCount()).toBe(0); // every session closed by its owner
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("controls", () => {
  it("offer the model's own sizes, the estimate beside Generate, and stop at the budget", async () => {
    const model = new FakeModel({ prompt: "a kite", duration: 8 });
    const { el } = await mount(model);
    const select = el.querySelector("select") as HTMLSelectElement;
    const label = el.querySelector(`label[for="${select.id}"]`);
    expect(label?.textContent).toBe("Model");
    const sizes = () => Array.from(el.querySelectorAll<HTMLInputElement>(".sw-segment-input")).map((i) => i.value);
    expect(sizes()).not.toContain("1792x1024");
    expect(visibleText(el)).toContain("≈ $0.80 · sora-2 · 8 s");

    select.value = "sora-2-pro";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("model")).toBe("sora-2-pro");
    expect(sizes()).toContain("1792x1024");
    expect(visibleText(el)).toContain("≈ $2.40 · sora-2-pro · 8 s");
    model.kernelSet({ duration: 4 });
    expect(visibleText(el)).toContain("≈ $1.20 · sora-2-pro · 4 s");

    const generate = byRole(el, "button", "Generate") as HTMLButtonElement;
    expect(generate.disabled).toBe(false);
    model.kernelSet({ spend: { usd: 4.2, jobs: 3, budget_usd: 5, remaining_usd: 0.8 } });
    expect(visibleText(el)).toContain("Spent $4.20 of $5.00 ($0.80 left)");
    expect(generate.disabled).toBe(true);
    const reason = document.getElementById(generate.getAttribute("aria-describedby")!)!;
    expect(reason.textContent).toMatch(/^Over budget: this clip ≈ \$1\.20 · sora-2-pro · 4 s but \$0\.80 is left/);

    // a smaller model fits again, and a size sora-2 does not offer gives way to its first
    model.kernelSet({ size: "1792x1024" });
    select.value = "sora-2";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("size")).toBe("720x1280");
    expect(generate.disabled).toBe(false);
  });

  it("exist with the accessible names the browser tests use", async () => {
    const { el, root } = await mount(new FakeModel());
    expect(root.classList.contains("sora-widget")).toBe(true);
    expect(byRole(el, "textbox", "Prompt").tagName).toBe("TEXTAREA");
    const size = byRole(el, "radiogroup", "Size");
    expect(allByRole(size, "radio").map((r) => (r as HTMLInputElement).value)).toEqual(["720x1280", "1280x720"]);
    byRole(size, "radio", "Portrait 720×1280");
    byRole(size, "radio", "Landscape 1280×720");
    expect(size.querySelectorAll(".sw-aspect")).toHaveLength(2);
    const duration = byRole(el, "radiogroup", "Duration");
    for (const name of ["4 s", "8 s", "12 s"]) byRole(duration, "radio", name);
    byRole(el, "textbox", "Reference image");
    byRole(el, "button", "Choose image…");
    byRole(el, "button", "Generate");
    const file = el.querySelector<HTMLInputElement>("input[type=file]")!;
    expect(file.accept).toBe("image/gif,image/jpeg,image/png,image/webp");
  });

  it("show the traits and follow changes made in Python", async () => {
    const model = new FakeModel({ prompt: "a fox", size: "1280x720", duration: 4 });
    const { el } = await mount(model);
    const prompt = byRole(el, "textbox", "Prompt") as HTMLTextAreaElement;
    expect(prompt.value).toBe("a fox");
    expect((byRole(el, "radio", "Landscape 1280×720") as HTMLInputElement).checked).toBe(true);
    expect((byRole(el, "radio", "4 s") as HTMLInputElement).checked).toBe(true);
    expect(visibleText(el)).toContain("5 characters");
    model.kernelSet({ prompt: "a heron", size: "720x1280", duration: 12, input_reference: "https://img.example.com/a.png" });
    expect(prompt.value).toBe("a heron");
    expect((byRole(el, "radio", "Portrait 720×1280") as HTMLInputElement).checked).toBe(true);
    expect((byRole(el, "radio", "12 s") as HTMLInputElement).checked).toBe(true);
    expect((byRole(el, "textbox", "Reference image") as HTMLInputElement).value).toBe("https://img.example.com/a.png");
  });

  it("write user input back to the traits", async () => {
    const model = new FakeModel();
    const { el } = await mount(model);
    type(byRole(el, "textbox", "Prompt") as HTMLTextAreaElement, "a lighthouse");
    const landscape = byRole(el, "radio", "Landscape 1280×720") as HTMLInputElement;
    landscape.checked = true;
    landscape.dispatchEvent(new Event("change", { bubbles: true }));
    const twelve = byRole(el, "radio", "12 s") as HTMLInputElement;
    twelve.checked = true;
    twelve.dispatchEvent(new Event("change", { bubbles: true }));
    type(byRole(el, "textbox", "Reference image") as HTMLInputElement, " https://x.example/a.png ");
    expect(model.attrs).toMatchObject({
      prompt: "a lighthouse",
      size: "1280x720",
      duration: 12,
      input_reference: "https://x.example/a.png",
      reference_name: "",
    });
    expect(model.saves).toBe(4);
  });

  it("disable Generate with a visible reason while the prompt is empty", async () => {
    const model = new FakeModel({ prompt: "   " });
    const { el } = await mount(model);
    const generate = byRole(el, "button", "Generate") as HTMLButtonElement;
    expect(generate.disabled).toBe(true);
    const reason = document.getElementById(generate.getAttribute("aria-describedby")!)!;
    expect(reason.textContent).toBe("Type a prompt to generate");
    type(byRole(el, "textbox", "Prompt") as HTMLTextAreaElement, "a kite");
    expect(generate.disabled).toBe(false);
    type(byRole(el, "textbox", "Reference image") as HTMLInputElement, "not a url");
    expect(generate.disabled).toBe(true);
    expect(reason.textContent).toContain("http(s) URL");
  });

  it("send generate (button or Ctrl+Enter), block double submits, and show a failed reply", async () => {
    const model = new FakeModel({ prompt: "a kite", duration: 4 });
    const { el } = await mount(model);
    const generate = byRole(el, "button", "Generate") as HTMLButtonElement;
    generate.click();
    expect(model.lastSent("generate").content.params).toEqual({
      prompt: "a kite",
      duration: 4,
      size: "720x1280",
      input_reference: null,
    });
    expect(generate.disabled).toBe(true);
    generate.click();
    expect(model.sent.filter((s) => s.content.kind === "generate")).toHaveLength(1);
    await reply(model, "generate", {
      ok: false,
      error: {
        type: "AuthenticationError",
        message: "No API key",
        http_status: 401,
        hint: "Set the SEGMIND_API_KEY environment variable",
      },
    });
    expect(generate.disabled).toBe(false);
    const alert = el.querySelector("[role=alert]")!;
    expect(visibleText(alert)).toContain("API key missing or rejected (401)");
    expect(visibleText(alert)).toContain("Set the SEGMIND_API_KEY environment variable");

    const prompt = byRole(el, "textbox", "Prompt");
    prompt.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true, bubbles: true }));
    expect(model.sent.filter((s) => s.content.kind === "generate")).toHaveLength(2);
    await reply(model, "generate", { ok: true, job: "j1" });
    expect(el.querySelector("[role=alert]")!.hasAttribute("hidden")).toBe(true);
  });

  it("upload a chosen image, then show it from local bytes", async () => {
    const model = new FakeModel({ prompt: "x" });
    const { el } = await mount(model);
    const fileInput = el.querySelector<HTMLInputElement>("input[type=file]")!;
    const file = new File([new Uint8Array([137, 80, 78, 71])], "cat.png", { type: "image/png" });
    Object.defineProperty(fileInput, "files", { value: [file], configurable: true });
    fileInput.dispatchEvent(new Event("change"));
    await flush();
    const sent = model.lastSent("upload");
    expect(sent.content).toMatchObject({ kind: "upload", name: "cat.png", mime: "image/png" });
    expect(new Uint8Array(sent.buffers[0] as ArrayBuffer)).toEqual(new Uint8Array([137, 80, 78, 71]));
    expect((byRole(el, "button", "Generate") as HTMLButtonElement).disabled).toBe(true);
    // The kernel sets the traits, then replies.
    model.kernelSet({ input_reference: "https://uploads.example.com/cat.png", reference_name: "cat.png" });
    await reply(model, "upload", { ok: true, url: "https://uploads.example.com/cat.png" });
    const thumb = el.querySelector<HTMLImageElement>(".sw-ref-preview img")!;
    expect(thumb.hidden).toBe(false);
    expect(thumb.getAttribute("src")).toMatch(/^blob:/);
    expect(visibleText(el)).toContain("cat.png");
    byRole(el, "button", /^Remove/).click();
    expect(model.attrs.input_reference).toBe("");
  });

  it("refuses an unsupported file before sending anything", async () => {
    const model = new FakeModel();
    const { el } = await mount(model);
    const fileInput = el.querySelector<HTMLInputElement>("input[type=file]")!;
    Object.defineProperty(fileInput, "files", { value: [new File(["x"], "notes.txt", { type: "text/plain" })] });
    fileInput.dispatchEvent(new Event("change"));
    expect(model.sent).toHaveLength(0);
    expect(visibleText(el)).toContain("notes.txt is not a supported image");
  });

  it("accept an image dropped anywhere on the widget", async () => {
    const model = new FakeModel();
    const { root } = await mount(model);
    const file = new File([new Uint8Array([1])], "drop.webp", { type: "image/webp" });
    const drop = new Event("drop", { bubbles: true, cancelable: true });
    Object.defineProperty(drop, "dataTransfer", { value: { types: ["Files"], files: [file] } });
    root.querySelector(".sw-form")!.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    await flush();
    expect(model.lastSent("upload").content.name).toBe("drop.webp");
  });

  it("never fetches a remote reference: shows its host as text", async () => {
    const { el } = await mount(new FakeModel({ input_reference: "https://img.example.com/a.png" }));
    const preview = el.querySelector(".sw-ref-preview")!;
    expect(preview.querySelector("img")!.hasAttribute("src")).toBe(false);
    expect(visibleText(preview)).toContain("img.example.com");
  });
});

describe("controls that follow the model", () => {
  const chooseModel = (el: HTMLElement, name: string) => {
    const select = byRole(el, "combobox", "Model") as HTMLSelectElement;
    select.value = name;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  };

  it("rebuild from Veo 3.1 Fast's fields, keep what it takes and send them", async () => {
    const model = new FakeModel({ prompt: "a kite", duration: 4, size: "1280x720" });
    const { el } = await mount(model);
    chooseModel(el, "veo-3.1-fast");
    expect(model.attrs).toMatchObject({ model: "veo-3.1-fast", duration: 4, values: { aspect_ratio: "16:9", resolution: "720p", sound: true } });
    expect(allByRole(el, "radiogroup", "Size")).toHaveLength(0);
    expect(allByRole(el, "radio", "16:9 landscape")).toHaveLength(1);
    expect(allByRole(byRole(el, "radiogroup", "Duration"), "radio").map((r) => (r as HTMLInputElement).value)).toEqual(["4", "6", "8"]);
    byRole(el, "radiogroup", "Resolution");
    byRole(el.querySelector<HTMLElement>('[data-field="first_frame"]')!, "textbox", "First frame");
    byRole(el.querySelector<HTMLElement>('[data-field="last_frame"]')!, "button", "Choose image…");
    expect(allByRole(el, "textbox", "Reference image")).toHaveLength(0);
    expect(el.querySelector(".sw-title")!.textContent).toBe("Veo 3.1 Fast");
    expect(visibleText(el)).toContain("≈ $0.60 · veo-3.1-fast · 4 s");

    (byRole(el, "switch", "Sound") as HTMLInputElement).click();
    expect(visibleText(el)).toContain("≈ $0.40 · veo-3.1-fast · 4 s"); // silent: $0.10 a second
    const seed = byRole(el, "spinbutton", "Seed") as HTMLInputElement;
    type(seed, "7");
    byRole(el, "radio", "9:16 portrait").click();
    type(byRole(el, "textbox", "Last frame") as HTMLInputElement, "https://e.com/end.png");
    expect(model.attrs.values).toEqual({ aspect_ratio: "9:16", resolution: "720p", sound: false, seed: 7, last_frame: "https://e.com/end.png" });

    byRole(el, "button", "Generate").click();
    expect(model.lastSent("generate").content).toMatchObject({
      model: "veo-3.1-fast",
      params: { prompt: "a kite", duration: 4, size: null, input_reference: null, aspect_ratio: "9:16", resolution: "720p", sound: false, seed: 7, last_frame: "https://e.com/end.png" },
    });
  });

  it("say a required first frame is missing, and upload a last frame into its own field", async () => {
    const model = new FakeModel({ prompt: "a fox", model: "kling-o1-image-to-video", duration: 5, size: "" });
    const { el } = await mount(model);
    const generate = byRole(el, "button", "Generate") as HTMLButtonElement;
    expect(generate.disabled).toBe(true);
    expect(document.getElementById(generate.getAttribute("aria-describedby")!)!.textContent).toBe(
      "Kling O1 Image to Video makes video from an image: add the first frame",
    );
    const last = el.querySelector<HTMLElement>('[data-field="last_frame"]')!;
    const fileInput = last.querySelector<HTMLInputElement>("input[type=file]")!;
    Object.defineProperty(fileInput, "files", { value: [new File([new Uint8Array([1])], "end.png", { type: "image/png" })], configurable: true });
    fileInput.dispatchEvent(new Event("change"));
    await flush();
    expect(model.lastSent("upload").content).toMatchObject({ kind: "upload", name: "end.png", field: "last_frame" });
    expect(visibleText(last)).toContain("Uploading end.png…");
    model.kernelSet({ values: { last_frame: "https://uploads.example.com/end.png" } });
    await reply(model, "upload", { ok: true, url: "https://uploads.example.com/end.png" });
    expect(last.querySelector<HTMLImageElement>(".sw-ref-preview img")!.getAttribute("src")).toMatch(/^blob:/);
    expect(visibleText(last)).toContain("end.png");
    type(byRole(el, "textbox", "First frame") as HTMLInputElement, "https://e.com/start.png");
    expect(generate.disabled).toBe(false);
  });

  it("mark a model the API refused this session, and say why when it is picked", async () => {
    const model = new FakeModel({ prompt: "a kite", backend: { api_key_set: true, emulator: true, host: "127.0.0.1:9", unavailable: ["sora-2"] } });
    const { el } = await mount(model);
    const select = byRole(el, "combobox", "Model") as HTMLSelectElement;
    const names = Array.from(select.options).map((o) => o.textContent);
    expect(names[0]).toBe("Sora 2 · sora-2 (no longer served here)");
    expect(names[1]).toBe("Sora 2 Pro · sora-2-pro");
    const generate = byRole(el, "button", "Generate") as HTMLButtonElement;
    expect(generate.disabled).toBe(true);
    expect(document.getElementById(generate.getAttribute("aria-describedby")!)!.textContent).toMatch(/^Sora 2 is no longer served here/);
    chooseModel(el, "veo-3.1-fast");
    expect(generate.disabled).toBe(false);
    chooseModel(el, "sora-2");
    expect(el.querySelector('[role="status"]')!.textContent).toMatch(/^Sora 2 is no longer served here/);
  });

  it("keep keys inside the widget: every control that takes focus tells JupyterLab to leave its keys alone", async () => {
    const { el } = await mount(new FakeModel());
    const radio = byRole(el, "radio", "8 s");
    radio.dispatchEvent(new FocusEvent("focusin", { bubbles: true }));
    expect(radio.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    const button = byRole(el, "button", "Generate");
    button.dispatchEvent(new FocusEvent("focusin", { bubbles: true }));
    expect(button.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
  });
});

describe("backend", () => {
  it("explains how to set a key and offers the emulator", async () => {
    const model = new FakeModel({ backend: { api_key_set: false, emulator: false, host: "api.segmind.com" } });
    const { el } = await mount(model);
    const text = visibleText(el);
    expect(text).toContain("SEGMIND_API_KEY");
    expect(text).toContain("sw.configure(api_key=");
    byRole(el, "button", "Use local emulator").click();
    expect(model.lastSent().content.kind).toBe("use_emulator");
    model.kernelSet({ backend: { api_key_set: true, emulator: true, host: "127.0.0.1:9" } });
    await reply(model, "use_emulator");
    expect(allByRole(el, "button", "Use local emulator")).toHaveLength(0);
    expect(visibleText(el)).toContain("Local emulator — synthetic clips");
  });
});

describe("job cards", () => {
  it("show status, elapsed against expected, an estimate bar and the request id", async () => {
    vi.useFakeTimers();
    const now = Date.now();
    const model = new FakeModel({ jobs: [makeJob({ elapsed_s: 83 })], jobs_clock_ms: now });
    const { el } = await mount(model);
    const card = el.querySelector(".sw-card")!;
    expect(visibleText(card)).toContain("PROCESSING");
    expect(visibleText(card)).toContain("1:23 / ~3:00");
    const bar = byRole(card, "progressbar", "estimate");
    expect(bar.getAttribute("aria-valuenow")).toBe("46");
    expect(visibleText(card)).toContain("req-abc");
    byRole(card, "button", "Copy request id");
    vi.advanceTimersByTime(2000);
    expect(visibleText(card)).toContain("1:25 / ~3:00");
    // Done: the clock stops and the ticker is released.
    model.kernelSet({ jobs: [makeJob({ status: "FAILED", waiting: false, elapsed_s: 90 })], jobs_clock_ms: now + 2000 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("offer Stop waiting only once the submit has its answer", async () => {
    const model = new FakeModel({ jobs: [makeJob({ status: "SUBMITTING", request_id: null })] });
    const { el } = await mount(model);
    expect(allByRole(el, "button", "Stop waiting")).toHaveLength(0);
    expect(visibleText(el)).toContain(FINISHING_SUBMIT);
    model.kernelSet({ jobs: [makeJob({ status: "QUEUED" })] });
    expect(allByRole(el, "button", "Stop waiting")).toHaveLength(1);
    expect(visibleText(el)).not.toContain(FINISHING_SUBMIT);
  });

  it("stop waiting, say honestly what that means, and resume", async () => {
    const model = new FakeModel({ jobs: [makeJob()] });
    const { el } = await mount(model);
    byRole(el, "button", "Stop waiting").click();
    expect(model.lastSent().content).toMatchObject({ kind: "stop", job: "job-1" });
    model.kernelSet({ jobs: [makeJob({ waiting: false, detached: true })] });
    await reply(model, "stop");
    const text = visibleText(el);
    expect(text).toContain(DETACHED_TEXT);
    expect(text).toContain("Detached");
    expect(allByRole(el, "button", "Stop waiting")).toHaveLength(0);
    byRole(el, "button", "Resume").click();
    expect(model.lastSent().content).toMatchObject({ kind: "resume", job: "job-1" });
    await reply(model, "resume", { ok: false, error: { type: "InvalidParams", message: "job='job-1' is not allowed", hint: "Pass job as …" } });
    expect(visibleText(el.querySelector(".sw-card")!)).toContain("Invalid parameters");
  });

  it("show a failed job's title, detail and hint", async () => {
    const error = {
      type: "GenerationFailed",
      message: "The generation ended FAILED",
      http_status: null,
      request_id: "req-abc",
      detail: "Blocked by content policy: violence",
      hint: "The server refused or failed this generation; see its reason above.",
      retryable: false,
    };
    const { el } = await mount(new FakeModel({ jobs: [makeJob({ status: "FAILED", waiting: false, error })] }));
    const text = visibleText(el.querySelector(".sw-card")!);
    expect(text).toContain("FAILED");
    expect(text).toContain("Generation failed");
    expect(text).toContain("Blocked by content policy: violence");
    expect(text).toContain("The server refused or failed this generation");
  });

  it("render every server and user string as text", async () => {
    const evil = `<img src=x onerror=alert(1)><script>alert(2)</script>`;
    const model = new FakeModel({
      prompt: evil,
      jobs: [
        makeJob({
          params: { prompt: evil, duration: 8, size: "720x1280", input_reference: null },
          request_id: evil,
          reproduce: evil,
          error: { type: evil, message: evil, http_status: null, request_id: evil, detail: `${evil}!`, hint: evil, retryable: false },
        }),
      ],
    });
    const { root } = await mount(model);
    expect(root.querySelectorAll("script")).toHaveLength(0);
    expect(root.querySelectorAll("img[src=x]")).toHaveLength(0);
    expect([...root.querySelectorAll("*")].some((n) => [...n.attributes].some((a) => a.name.startsWith("on")))).toBe(false);
    expect((root.querySelector("textarea") as HTMLTextAreaElement).value).toBe(evil);
    expect(root.querySelector(".sw-card-prompt")!.textContent).toBe(evil);
    expect(root.querySelector(".sw-error-detail")!.textContent).toBe(`${evil}!`);
    expect(root.querySelector(".sw-error-title")!.textContent).toBe(evil); // unknown type: shown as its name
  });

  it("newest first, several at once, synthetic ones labelled", async () => {
    const model = new FakeModel({
      jobs: [makeJob({ id: "old", params: { ...makeJob().params, prompt: "first" } }), makeJob({ id: "new", synthetic: true, params: { ...makeJob().params, prompt: "second" } })],
    });
    const { el } = await mount(model);
    const cards = [...el.querySelectorAll<HTMLElement>(".sw-card")];
    expect(cards.map((c) => c.dataset.job)).toEqual(["new", "old"]);
    expect(visibleText(cards[0])).toContain("Synthetic");
    expect(visibleText(cards[1])).not.toContain("Synthetic");
  });
});

describe("completed clips", () => {
  it("fetch the video once, play it from a blob: URL, offer Download and Reproduce", async () => {
    const model = new FakeModel({ jobs: [completedJob("a")] });
    const { el } = await mount(model);
    expect(model.lastSent("video").content).toMatchObject({ kind: "video", job: "a" });
    expect(visibleText(el)).toContain("Loading video");
    sendVideo(model, [[0, 0, 0], [1, 1, 1]]);
    await flush();
    const video = el.querySelector<HTMLVideoElement>(".sw-stage video")!;
    expect(video.hidden).toBe(false);
    expect(video.getAttribute("src")).toMatch(/^blob:/);
    expect(video.hasAttribute("loop") && video.hasAttribute("playsinline")).toBe(true);
    // the controls (and Chromium's loading spinner with them) once the first frame is here
    expect(video.hasAttribute("controls")).toBe(false);
    video.dispatchEvent(new Event("loadeddata"));
    expect(video.hasAttribute("controls")).toBe(true);
    const download = byRole(el, "link", "Download") as HTMLAnchorElement;
    expect(download.getAttribute("download")).toBe("a.mp4");
    expect(download.getAttribute("href")).toMatch(/^blob:/);
    const reproduce = el.querySelector("details.sw-reproduce")!;
    expect(reproduce.querySelector("summary")!.textContent).toBe("Reproduce");
    expect(reproduce.querySelector("pre")!.textContent).toContain("sw.generate(");
    byRole(reproduce, "button", "Copy code to reproduce this clip");
  });

  it("show a failed video request in the card, with Retry", async () => {
    const model = new FakeModel({ jobs: [completedJob("a")] });
    const { el } = await mount(model);
    await reply(model, "video", { ok: false, error: { type: "SoraError", message: "the saved video could not be read", hint: "Check the output folder" } });
    await flush();
    const card = el.querySelector(".sw-card")!;
    expect(visibleText(card)).toContain("the saved video could not be read");
    byRole(card, "button", "Retry").click();
    expect(model.sent.filter((s) => s.content.kind === "video")).toHaveLength(2);
  });

  it("reuse the model's clip in a second view, each with its own object URL", async () => {
    const create = vi.spyOn(URL, "createObjectURL");
    const revoke = vi.spyOn(URL, "revokeObjectURL");
    const model = new FakeModel({ jobs: [completedJob("a")] });
    const first = await mount(model);
    sendVideo(model, [[1, 2, 3, 4, 5, 6]]);
    await flush();
    const second = await mount(model);
    expect(model.sent.filter((s) => s.content.kind === "video")).toHaveLength(1);
    const src1 = first.el.querySelector(".sw-stage video")!.getAttribute("src");
    const src2 = second.el.querySelector(".sw-stage video")!.getAttribute("src");
    expect(src2).toMatch(/^blob:/);
    expect(src1).not.toBe(src2);
    first.cleanup();
    expect(revoke).toHaveBeenCalledWith(src1);
    expect(revoke).not.toHaveBeenCalledWith(src2);
    expect(second.el.querySelector(".sw-stage video")!.getAttribute("src")).toBe(src2);
    second.cleanup();
    closeModel(model);
    const created = create.mock.results.map((r) => r.value);
    const revoked = revoke.mock.calls.map((c) => c[0]);
    expect(new Set(revoked)).toEqual(new Set(created));
  });

  it("compare two clips side by side, and pick one from the gallery", async () => {
    const model = new FakeModel({ jobs: [completedJob("a"), completedJob("b")] });
    const { el } = await mount(model);
    sendVideo(model, [[1, 2, 3, 4, 5, 6]], "a");
    await flush();
    sendVideo(model, [[6, 5, 4, 3, 2, 1]], "b");
    await flush();
    const stage = el.querySelector<HTMLElement>(".sw-stage")!;
    expect(el.querySelectorAll("video")).toHaveLength(1); // one main player, nothing hidden beside it
    for (const button of allByRole(el, "button", "Compare")) button.click();
    expect(allByRole(el, "button", "Compare").every((b) => b.getAttribute("aria-pressed") === "true")).toBe(true);
    expect(stage.dataset.mode).toBe("compare");
    expect([...stage.querySelectorAll("video")].filter((v) => !v.closest("[hidden]"))).toHaveLength(2);
    expect((byRole(stage, "button", "Play both") as HTMLButtonElement).disabled).toBe(false);
    const items = el.querySelectorAll<HTMLButtonElement>(".sw-gallery-item");
    expect(items).toHaveLength(2);
    items[1].click(); // the older clip, "a"
    expect(stage.dataset.mode).toBe("single");
    expect(el.querySelectorAll("video")).toHaveLength(1);
    expect(items[1].getAttribute("aria-current")).toBe("true");
    expect(stage.querySelector("figcaption")!.textContent).toContain("paper boat");
  });
});

describe("sound", () => {
  const facts = { width: 720, height: 1280, duration_s: 8, codec: "h264", fps: 24, frames: 192, faststart: true };
  const sounded = { ...facts, audio: { codec: "aac", channels: 2, sample_rate: 48000, duration_s: 8 } };

  async function comparing(a: Job["video"], b: Job["video"]) {
    const model = new FakeModel({ jobs: [completedJob("a", { video: a }), completedJob("b", { video: b })] });
    const { el } = await mount(model);
    sendVideo(model, [[1, 2, 3]], "a");
    await flush();
    sendVideo(model, [[3, 2, 1]], "b");
    await flush();
    for (const button of allByRole(el, "button", "Compare")) button.click();
    const stage = el.querySelector<HTMLElement>(".sw-stage")!;
    const [one, two] = [...stage.querySelectorAll("video")].filter((v) => !v.closest("[hidden]"));
    return { stage, one: playable(one), two: playable(two) };
  }

  /** jsdom does not play media: play() and pause() flip `paused` and fire their events, as browsers do. */
  function playable(video: HTMLVideoElement): HTMLVideoElement {
    let paused = true;
    Object.defineProperty(video, "paused", { get: () => paused });
    video.play = () => {
      paused = false;
      video.dispatchEvent(new Event("play"));
      return Promise.resolve();
    };
    video.pause = () => {
      paused = true;
      video.dispatchEvent(new Event("pause"));
    };
    return video;
  }

  it("never starts with sound by itself: what code starts plays muted until the user unmutes it", async () => {
    const { stage, one, two } = await comparing(sounded as Job["video"], sounded as Job["video"]);
    expect(one.muted || two.muted).toBe(false); // nothing is muted before anything plays
    void one.play(); // the user pressed play on one (its own control): it plays with sound
    expect(two.paused).toBe(false); // the other follows, muted
    expect(two.muted).toBe(true);
    expect(one.muted).toBe(false);
    two.muted = false; // the user turns the other's sound on
    two.dispatchEvent(new Event("volumechange"));
    one.pause(); // both pause
    expect(two.paused).toBe(true);
    byRole(stage, "button", "Play both").click();
    expect(one.paused || two.paused).toBe(false);
    expect(two.muted).toBe(false); // kept as the user set it
    expect(one.muted).toBe(true); // started by the button: muted until the user turns it on
  });

  it("says when a clip has no sound track, and only when its facts say so", async () => {
    const { stage } = await comparing({ ...facts, audio: null } as Job["video"], null);
    const captions = [...stage.querySelectorAll("figcaption")].map((c) => c.textContent ?? "");
    expect(captions.filter((c) => c.includes("No sound"))).toHaveLength(1);
  });
});

describe("job mode (%sora)", () => {
  it("shows only the job card with its player", async () => {
    const model = new FakeModel({ mode: "job", jobs: [completedJob("a")] });
    const { el } = await mount(model);
    expect(allByRole(el, "textbox", "Prompt")).toHaveLength(0);
    expect(allByRole(el, "button", "Generate")).toHaveLength(0);
    sendVideo(model, [[1, 2, 3, 4, 5, 6]]);
    await flush();
    const video = el.querySelector<HTMLVideoElement>(".sw-card video")!;
    expect(video.getAttribute("src")).toMatch(/^blob:/);
    byRole(el, "link", "Download");
  });
});

describe("batch mode (sw.generate_many)", () => {
  const items = () => [
    completedJob("a", { params: { prompt: "first item", duration: 4, size: "720x1280", input_reference: null } }),
    makeJob({ id: "b", status: "FAILED", waiting: false, error: { type: "GenerationFailed", message: "blocked", http_status: null, request_id: null, detail: null, hint: "", retryable: false } }),
    makeJob({ id: "c", status: "PENDING", waiting: false, request_id: null }),
  ];

  it("shows a progress header and every item in order, fetching no clip until one is chosen", async () => {
    const batch = { id: "b1", total: 3, done: 2, completed: 1, failed: 1, unknown: 0, running: 0 };
    const model = new FakeModel({ mode: "batch", jobs: items(), batch });
    const { el } = await mount(model);
    expect(allByRole(el, "button", "Generate")).toHaveLength(0);
    expect(el.querySelectorAll(".sw-card")).toHaveLength(0); // no card per item
    const bar = byRole(el, "progressbar", "Batch progress");
    expect(bar.getAttribute("aria-valuenow")).toBe("66");
    expect(visibleText(el)).toContain("2 of 3 done · 1 completed · 1 failed");
    const shown = [...el.querySelectorAll<HTMLElement>(".sw-gallery-list > li")];
    expect(shown.map((li) => li.dataset.status)).toEqual(["COMPLETED", "FAILED", "PENDING"]);
    expect(shown[1].textContent).toContain("Generation failed");
    expect(model.sent.filter((s) => s.content.kind === "video")).toHaveLength(0);

    shown[0].querySelector("button")!.click();
    expect(model.lastSent("video").content.job).toBe("a");
    sendVideo(model, [[1, 2, 3, 4, 5, 6]]);
    await flush();
    expect(el.querySelector(".sw-stage video")!.getAttribute("src")).toMatch(/^blob:/);

    model.kernelSet({ batch: { ...batch, done: 3, failed: 2 } });
    expect(bar.getAttribute("aria-valuenow")).toBe("100");
    expect(el.querySelector('[role="status"]')!.textContent).toContain("Batch finished");
  });
});

describe("cleanup", () => {
  it("removes every listener, timer and object URL, and a new view still works", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const create = vi.spyOn(URL, "createObjectURL");
    const revoke = vi.spyOn(URL, "revokeObjectURL");
    const model = new FakeModel({ prompt: "x", jobs: [makeJob({ id: "running" }), completedJob("a")] });
    const view = await mount(model);
    sendVideo(model, [[1, 2, 3, 4, 5, 6]]);
    await vi.advanceTimersByTimeAsync(0);
    byRole(view.el, "button", "Stop waiting").click(); // a request left pending
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    view.cleanup();
    expect(view.el.querySelector(".sora-widget")).toBeNull();

    const again = await mount(model);
    expect(model.sent.filter((s) => s.content.kind === "video")).toHaveLength(1);
    expect(again.el.querySelector(".sw-stage video")!.getAttribute("src")).toMatch(/^blob:/);
    again.cleanup();
    closeModel(model);

    expect(model.onCalls).toBeGreaterThan(0);
    expect(model.offCalls).toBe(model.onCalls);
    expect(model.listeners).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const created = create.mock.results.map((r) => r.value);
    expect(created.length).toBeGreaterThan(0);
    expect(new Set(revoke.mock.calls.map((c) => c[0]))).toEqual(new Set(created));
  });
});
