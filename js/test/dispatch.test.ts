import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Dispatcher, RequestError, normalizeError, type MessageChannel } from "../src/dispatch";
import { FakeModel, bytesView } from "./fakes";

const channel = (m: FakeModel) => m as unknown as MessageChannel;

describe("Dispatcher", () => {
  let model: FakeModel;
  let dispatcher: Dispatcher;
  beforeEach(() => {
    vi.useFakeTimers();
    model = new FakeModel();
    dispatcher = new Dispatcher(channel(model));
  });
  afterEach(() => {
    dispatcher.dispose();
    vi.useRealTimers();
  });

  it("tags each request with a unique id and resolves on its reply", async () => {
    const a = dispatcher.request({ kind: "stop", job: "j1" }, { timeoutMs: 1000 });
    const b = dispatcher.request({ kind: "resume", job: "j2" }, { timeoutMs: 1000 });
    const [ida, idb] = model.sent.map((s) => s.content.id);
    expect(ida).not.toBe(idb);
    expect(model.sent[0].content).toMatchObject({ kind: "stop", job: "j1" });
    model.kernelSend({ kind: "reply", id: idb, ok: true });
    model.kernelSend({ kind: "reply", id: ida, ok: true, job: "x" });
    await expect(a).resolves.toMatchObject({ job: "x" });
    await expect(b).resolves.toMatchObject({ ok: true });
    expect(dispatcher.size).toBe(0);
  });

  it("ignores replies to other ids and foreign messages", async () => {
    const p = dispatcher.request({ kind: "use_emulator" }, { timeoutMs: 1000 });
    model.kernelSend({ kind: "reply", id: "someone-else", ok: true });
    model.kernelSend("not an object");
    model.kernelSend({ kind: "other", id: model.lastSent().content.id });
    expect(dispatcher.size).toBe(1);
    model.kernelSend({ kind: "reply", id: model.lastSent().content.id, ok: true });
    await expect(p).resolves.toBeTruthy();
  });

  it("rejects with the kernel's error on ok:false", async () => {
    const p = dispatcher.request({ kind: "stop", job: "j" }, { timeoutMs: 1000 });
    model.kernelSend({
      kind: "reply",
      id: model.lastSent().content.id,
      ok: false,
      error: { type: "InvalidParams", message: "job='j' is not allowed", hint: "Pass job as…" },
    });
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).error).toMatchObject({ type: "InvalidParams", hint: "Pass job as…", detail: null });
  });

  it("times out with a visible error, and ignores a late reply", async () => {
    const p = dispatcher.request(
      { kind: "generate", model: "sora-2", params: { prompt: "x", duration: 4, size: "720x1280", input_reference: null }, remix_of: null },
      { timeoutMs: 5000 },
    );
    const id = model.lastSent().content.id;
    vi.advanceTimersByTime(5001);
    const error = (await p.catch((e: unknown) => e)) as RequestError;
    expect(error.error.type).toBe("KernelTimeout");
    expect(error.error.message).toContain("generate");
    expect(error.cancelled).toBe(false);
    expect(() => model.kernelSend({ kind: "reply", id, ok: true })).not.toThrow();
  });

  it("streams chunks, restarting the timeout on each", async () => {
    const got: number[] = [];
    const p = dispatcher.stream<string>(
      { kind: "video", job: "j" },
      {
        timeoutMs: 1000,
        onChunk: (msg) => {
          got.push(msg.index);
          return msg.index === msg.total - 1 ? "done" : undefined;
        },
      },
    );
    const id = model.lastSent().content.id;
    for (let i = 0; i < 3; i += 1) {
      vi.advanceTimersByTime(900); // never 1000 ms of silence
      model.kernelSend({ kind: "video_chunk", id, index: i, total: 3, mime: "video/mp4", size: 3 }, [bytesView([i])]);
    }
    await expect(p).resolves.toBe("done");
    expect(got).toEqual([0, 1, 2]);
  });

  it("fails a stream on an error reply or a throwing chunk handler", async () => {
    const p1 = dispatcher.stream({ kind: "video", job: "j" }, { timeoutMs: 1000, onChunk: () => undefined });
    model.kernelSend({ kind: "reply", id: model.lastSent().content.id, ok: false, error: { type: "SoraError", message: "unreadable" } });
    await expect(p1).rejects.toMatchObject({ error: { type: "SoraError", message: "unreadable" } });
    const p2 = dispatcher.stream({ kind: "video", job: "j" }, {
      timeoutMs: 1000,
      onChunk: () => {
        throw new Error("chunk 0 arrived twice");
      },
    });
    model.kernelSend({ kind: "video_chunk", id: model.lastSent().content.id, index: 0, total: 1, mime: "video/mp4", size: 1 });
    await expect(p2).rejects.toMatchObject({ error: { type: "VideoTransferError" } });
  });

  it("passes buffers along with the request", () => {
    const bytes = new Uint8Array([1, 2, 3]).buffer;
    dispatcher
      .request({ kind: "upload", name: "a.png", mime: "image/png", field: "first_frame" }, { timeoutMs: 1000, buffers: [bytes] })
      .catch(() => undefined); // cancelled by dispose in afterEach
    expect(model.lastSent("upload").buffers).toEqual([bytes]);
  });

  it("rejects everything as cancelled and stops listening on dispose", async () => {
    const p = dispatcher.request({ kind: "stop", job: "j" }, { timeoutMs: 1000 });
    expect(model.listeners).toBe(1);
    dispatcher.dispose();
    const error = (await p.catch((e: unknown) => e)) as RequestError;
    expect(error.cancelled).toBe(true);
    expect(model.listeners).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await expect(dispatcher.request({ kind: "stop", job: "j" }, { timeoutMs: 1 })).rejects.toMatchObject({ cancelled: true });
  });

  it("reports a send that throws (comm closed)", async () => {
    model.send = () => {
      throw new Error("Comm is closed");
    };
    await expect(dispatcher.request({ kind: "stop", job: "j" }, { timeoutMs: 1000 })).rejects.toMatchObject({
      error: { type: "KernelUnavailable" },
    });
  });
});

describe("normalizeError", () => {
  it("fills every field", () => {
    expect(normalizeError(null)).toEqual({
      type: "SoraError",
      message: "The kernel reported an error without a message.",
      http_status: null,
      request_id: null,
      detail: null,
      hint: "",
      retryable: false,
    });
    expect(normalizeError({ type: "RateLimited", http_status: 429, retryable: true })).toMatchObject({ http_status: 429, retryable: true });
  });
});
