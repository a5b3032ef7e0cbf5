// Requests from the view to the kernel, each tagged with a unique id; the kernel's
// `reply` (or stream of `video_chunk`s) with that id settles it. One `msg:custom`
// listener per dispatcher routes every message, a timer per request turns silence into
// a visible error, and dispose() rejects whatever is still pending (view or model
// cleanup), so no promise hangs and no handler outlives its owner.

import type { JobError, Reply, Request, RequestKind } from "./protocol";
import { viewError } from "./format";

/** How long the kernel may stay silent before a request counts as failed (ms); for a
 * video, the silence between two chunks. One per request kind the protocol defines. */
export const TIMEOUTS = {
  generate: 120_000, // the kernel may be busy running a cell before it sees the request
  video: 60_000,
  stop: 60_000,
  resume: 60_000,
  upload: 300_000, // the kernel uploads the image to Segmind before answering
  use_emulator: 180_000, // starting the emulator takes a moment
  continue: 300_000, // the kernel extracts the last frame and uploads it before answering
  end_frame: 300_000, // the same: extract the last frame, upload it
  run_storyboard: 120_000,
} as const satisfies Record<RequestKind, number>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A request as the caller writes it; the dispatcher adds the `id`. */
export type RequestBody = DistributiveOmit<Request, "id">;
export type OkReply = Extract<Reply, { kind: "reply"; ok: true }>;
export type ChunkMessage = Extract<Reply, { kind: "video_chunk" }>;

type CustomHandler = (msg: unknown, buffers?: DataView[]) => void;

/** What a dispatcher needs of an anywidget model (a test double implements just this). */
export interface MessageChannel {
  on(event: "msg:custom", callback: CustomHandler): void;
  off(event: "msg:custom", callback: CustomHandler): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
}

/** A failed request. `cancelled` ones were dropped by cleanup and need no message. */
export class RequestError extends Error {
  constructor(
    readonly error: JobError,
    readonly cancelled = false,
  ) {
    super(error.message);
    this.name = "RequestError";
  }
}

export interface RequestOptions {
  /** ms of silence before giving up (TIMEOUTS of the request's kind unless given); for
   * streams, counted again from each chunk */
  timeoutMs?: number;
  buffers?: ArrayBuffer[];
}

export interface StreamOptions<T> extends RequestOptions {
  /** Called for each chunk; a value other than undefined completes the request. */
  onChunk(msg: ChunkMessage, buffers: DataView[]): T | undefined;
}

interface Pending {
  kind: string;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | null;
  onMessage(msg: Reply, buffers: DataView[]): void;
  fail(error: RequestError): void;
}

export class Dispatcher {
  private readonly pending = new Map<string, Pending>();
  // Several views (and the model-level session) each have a dispatcher on the same
  // model and all of them see every message: a random prefix keeps ids apart without
  // crypto.randomUUID, which is missing outside secure contexts (plain-http Jupyter).
  private readonly prefix = Math.random().toString(36).slice(2, 10);
  private counter = 0;
  private closed = false;
  private readonly handler: CustomHandler = (msg, buffers) => this.route(msg, buffers ?? []);

  constructor(private readonly model: MessageChannel) {
    model.on("msg:custom", this.handler);
  }

  /** Number of requests still waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Send a request; resolves with the ok reply, rejects with a RequestError. */
  request(body: RequestBody, options: RequestOptions = {}): Promise<OkReply> {
    return new Promise<OkReply>((resolve, reject) => {
      this.start(body, options, reject, (msg, settle) => {
        if (msg.kind !== "reply") return; // chunks are not expected here; ignore them
        settle(() => (msg.ok ? resolve(msg) : reject(new RequestError(normalizeError(msg.error)))));
      });
    });
  }

  /** Send a request answered by a stream of `video_chunk` messages. */
  stream<T>(body: RequestBody, options: StreamOptions<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.start(body, options, reject, (msg, settle, buffers, restartTimer) => {
        if (msg.kind === "reply") {
          const error = msg.ok
            ? viewError("VideoTransferError", "The kernel ended the transfer without sending the video.", RETRY_HINT)
            : normalizeError(msg.error);
          settle(() => reject(new RequestError(error)));
          return;
        }
        restartTimer();
        let result: T | undefined;
        try {
          result = options.onChunk(msg, buffers);
        } catch (error) {
          settle(() => reject(asRequestError(error)));
          return;
        }
        if (result !== undefined) settle(() => resolve(result as T));
      });
    });
  }

  /** Reject everything pending (as cancelled) and stop listening. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.model.off("msg:custom", this.handler);
    for (const entry of [...this.pending.values()]) {
      entry.fail(new RequestError(viewError("Cancelled", "The view was closed.", ""), true));
    }
    this.pending.clear();
  }

  private start(
    body: RequestBody,
    options: RequestOptions,
    reject: (error: RequestError) => void,
    handle: (
      msg: Reply,
      settle: (finish: () => void) => void,
      buffers: DataView[],
      restartTimer: () => void,
    ) => void,
  ): void {
    if (this.closed) {
      reject(new RequestError(viewError("Cancelled", "The view was closed.", ""), true));
      return;
    }
    this.counter += 1;
    const id = `${this.prefix}-${this.counter}`;
    const settle = (finish: () => void) => {
      const entry = this.pending.get(id);
      if (!entry) return; // already settled (late reply after a timeout, say)
      if (entry.timer !== null) clearTimeout(entry.timer);
      this.pending.delete(id);
      finish();
    };
    const entry: Pending = {
      kind: body.kind,
      timeoutMs: options.timeoutMs ?? TIMEOUTS[body.kind],
      timer: null,
      onMessage: (msg, buffers) => handle(msg, settle, buffers, restartTimer),
      fail: (error) => settle(() => reject(error)),
    };
    const restartTimer = () => {
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => entry.fail(new RequestError(timeoutError(entry))), entry.timeoutMs);
    };
    this.pending.set(id, entry);
    restartTimer();
    try {
      this.model.send({ ...body, id }, undefined, options.buffers ?? []);
    } catch (error) {
      entry.fail(
        new RequestError(
          viewError(
            "KernelUnavailable",
            `The request could not be sent: ${describe(error)}`,
            "The kernel may have stopped or restarted. Re-run the cell that shows this widget.",
          ),
        ),
      );
    }
  }

  private route(msg: unknown, buffers: DataView[]): void {
    if (!isReply(msg)) return;
    const entry = this.pending.get(msg.id);
    if (entry) entry.onMessage(msg, buffers);
  }
}

const RETRY_HINT = "Try again; if it keeps failing, the video file is in the output folder on the kernel's machine.";

function timeoutError(entry: Pending): JobError {
  const seconds = Math.round(entry.timeoutMs / 1000);
  return viewError(
    "KernelTimeout",
    `No answer from the kernel to the ${entry.kind} request after ${seconds} s.`,
    "The kernel may be busy running a cell, or it was restarted. The request may still be handled once it is free: check the jobs below before trying again.",
  );
}

function isReply(msg: unknown): msg is Reply {
  if (typeof msg !== "object" || msg === null) return false;
  const m = msg as { id?: unknown; kind?: unknown };
  return typeof m.id === "string" && (m.kind === "reply" || m.kind === "video_chunk");
}

/** A JobError from whatever the kernel sent, with every field present. */
export function normalizeError(raw: unknown): JobError {
  const e = (typeof raw === "object" && raw !== null ? raw : {}) as Partial<Record<keyof JobError, unknown>>;
  const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  return {
    type: str(e.type) ?? "SoraError",
    message: str(e.message) ?? "The kernel reported an error without a message.",
    http_status: typeof e.http_status === "number" ? e.http_status : null,
    request_id: str(e.request_id),
    detail: str(e.detail),
    hint: str(e.hint) ?? "",
    retryable: e.retryable === true,
  };
}

function asRequestError(error: unknown): RequestError {
  if (error instanceof RequestError) return error;
  return new RequestError(viewError("VideoTransferError", describe(error), RETRY_HINT));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
