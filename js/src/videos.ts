// Clip bytes per model. A completed job's video is asked of the kernel once per model
// (not once per view): the Blob lives here, views make their own object URLs of it. The
// first frame is captured as a poster once, for the gallery and the player.

import { ChunkAssembler } from "./chunks";
import { Dispatcher, RequestError, TIMEOUTS } from "./dispatch";
import { viewError } from "./format";
import { idleVideo, videoReducer, type VideoAction, type VideoEntry } from "./state";

/** Turns a clip into a poster image (a data: URL), or null when it cannot. */
export type PosterCapture = (blob: Blob, signal: AbortSignal) => Promise<string | null>;

export interface VideoStoreOptions {
  /** ms without a chunk before the transfer counts as failed */
  timeoutMs?: number;
  /** transfers at once: a page of finished jobs should not flood the kernel */
  concurrency?: number;
  capture?: PosterCapture;
}

export class VideoStore {
  private readonly entries = new Map<string, VideoEntry>();
  private readonly listeners = new Set<() => void>();
  private readonly queue: string[] = [];
  private readonly abort = new AbortController();
  private active = 0;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly capture: PosterCapture | undefined;

  constructor(
    private readonly dispatcher: Dispatcher,
    options: VideoStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? TIMEOUTS.video;
    this.concurrency = options.concurrency ?? 2;
    this.capture = options.capture;
  }

  get(job: string): VideoEntry {
    return this.entries.get(job) ?? idleVideo;
  }

  /** Ask for a job's clip unless it was asked for already (once per model). */
  ensure(job: string): void {
    if (this.abort.signal.aborted || this.get(job).phase !== "idle") return;
    this.update(job, { type: "requested" });
    this.queue.push(job);
    this.pump();
  }

  /** Ask again after a failed transfer (the user pressed Retry). */
  retry(job: string): void {
    this.update(job, { type: "reset" });
    this.ensure(job);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.abort.abort();
    this.queue.length = 0;
    this.listeners.clear();
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as string;
      this.active += 1;
      void this.load(job).finally(() => {
        this.active -= 1;
        this.pump();
      });
    }
  }

  private async load(job: string): Promise<void> {
    const assembler = new ChunkAssembler();
    let blob: Blob;
    try {
      blob = await this.dispatcher.stream<Blob>(
        { kind: "video", job },
        {
          timeoutMs: this.timeoutMs,
          onChunk: (msg, buffers) => {
            const done = assembler.add(msg, buffers[0]);
            if (!done) {
              const { received, size } = assembler.progress;
              this.update(job, { type: "progress", received, size });
            }
            return done;
          },
        },
      );
    } catch (error) {
      if (error instanceof RequestError && error.cancelled) return;
      const jobError =
        error instanceof RequestError
          ? error.error
          : viewError(
              "VideoTransferError",
              `The video arrived damaged: ${error instanceof Error ? error.message : String(error)}.`,
              "Press Retry to ask the kernel for it again.",
            );
      this.update(job, { type: "failed", error: jobError });
      return;
    }
    this.update(job, { type: "arrived", blob });
    await this.poster(job, blob);
  }

  private async poster(job: string, blob: Blob): Promise<void> {
    let poster: string | null = null;
    if (this.capture) {
      try {
        poster = await this.capture(blob, this.abort.signal);
      } catch {
        poster = null; // a missing poster only means a placeholder thumbnail
      }
    }
    if (!this.abort.signal.aborted) this.update(job, { type: "poster", poster });
  }

  private update(job: string, action: VideoAction): void {
    const before = this.get(job);
    const after = videoReducer(before, action);
    if (after === before) return;
    this.entries.set(job, after);
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (error) {
        console.error("sora-widget: a video listener failed", error);
      }
    }
  }
}
