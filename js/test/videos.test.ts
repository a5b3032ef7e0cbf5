import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Dispatcher, type MessageChannel } from "../src/dispatch";
import { VideoStore } from "../src/videos";
import { FakeModel, bytesView } from "./fakes";

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("VideoStore", () => {
  let model: FakeModel;
  let dispatcher: Dispatcher;
  let store: VideoStore;
  const capture = vi.fn(async () => "data:image/jpeg;base64,AAAA");
  beforeEach(() => {
    model = new FakeModel();
    dispatcher = new Dispatcher(model as unknown as MessageChannel);
    store = new VideoStore(dispatcher, { capture, concurrency: 1 });
  });
  afterEach(() => {
    store.dispose();
    dispatcher.dispose();
  });

  it("asks once per job, reassembles the clip and captures a poster", async () => {
    const seen: string[] = [];
    store.subscribe(() => seen.push(store.get("a").phase));
    store.ensure("a");
    store.ensure("a");
    expect(model.sent).toHaveLength(1);
    const { id } = model.lastSent("video").content;
    expect(model.lastSent().content).toMatchObject({ kind: "video", job: "a" });
    model.kernelSend({ kind: "video_chunk", id, index: 0, total: 2, mime: "video/mp4", size: 3 }, [bytesView([1, 2])]);
    expect(store.get("a")).toEqual({ phase: "loading", received: 2, size: 3 });
    model.kernelSend({ kind: "video_chunk", id, index: 1, total: 2, mime: "video/mp4", size: 3 }, [bytesView([3])]);
    await flush();
    const entry = store.get("a");
    expect(entry.phase).toBe("ready");
    if (entry.phase === "ready") {
      expect(entry.blob.size).toBe(3);
      expect(entry.poster).toBe("data:image/jpeg;base64,AAAA");
    }
    expect(capture).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(["loading", "loading", "ready", "ready"]);
    store.ensure("a");
    expect(model.sent).toHaveLength(1);
  });

  it("shows a failed transfer as an error, and retries on request", async () => {
    store.ensure("a");
    model.kernelSend({
      kind: "reply",
      id: model.lastSent().content.id,
      ok: false,
      error: { type: "SoraError", message: "the saved video could not be read", hint: "…" },
    });
    await flush();
    expect(store.get("a")).toMatchObject({ phase: "error", error: { message: "the saved video could not be read" } });
    store.retry("a");
    expect(model.sent).toHaveLength(2);
    expect(store.get("a").phase).toBe("loading");
  });

  it("turns a damaged stream into an error", async () => {
    store.ensure("a");
    const { id } = model.lastSent().content;
    model.kernelSend({ kind: "video_chunk", id, index: 0, total: 1, mime: "video/mp4", size: 10 }, [bytesView([1])]);
    await flush();
    expect(store.get("a")).toMatchObject({ phase: "error", error: { type: "VideoTransferError" } });
  });

  it("limits transfers at once and queues the rest", async () => {
    store.ensure("a");
    store.ensure("b");
    expect(model.sent.map((s) => s.content.job)).toEqual(["a"]);
    model.kernelSend({ kind: "video_chunk", id: model.lastSent().content.id, index: 0, total: 1, mime: "video/mp4", size: 1 }, [bytesView([1])]);
    await flush();
    expect(model.sent.map((s) => s.content.job)).toEqual(["a", "b"]);
  });

  it("keeps a clip without a poster when capture fails", async () => {
    capture.mockRejectedValueOnce(new Error("no canvas"));
    store.ensure("a");
    model.kernelSend({ kind: "video_chunk", id: model.lastSent().content.id, index: 0, total: 1, mime: "video/mp4", size: 1 }, [bytesView([1])]);
    await flush();
    expect(store.get("a")).toMatchObject({ phase: "ready", poster: null, posterDone: true });
  });
});
