// Test doubles: an anywidget model with a scripted kernel, and job/option fixtures.

import type { Job, Options } from "../src/protocol";
import catalogue from "./fixtures/options.json";
import type { WidgetModel } from "../src/model";

type Handler = (...args: any[]) => void;

/** The `options` trait as the kernel sends it: params.view_options(), written by
 * tools/view_options_json.py (a pytest fails when it is stale). */
export const OPTIONS = catalogue as unknown as Options;

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: "job-1",
    kind: "clip",
    request_id: "req-abc",
    status: "PROCESSING",
    waiting: true,
    detached: false,
    model: "sora-2",
    cost: { usd: 0.8, source: "estimate" },
    params: { prompt: "a paper boat on a rainy street", duration: 8, size: "720x1280", input_reference: null },
    reference_source: null,
    submitted_at: "2026-01-01T00:00:00Z",
    completed_at: null,
    elapsed_s: 10,
    expected_s: 180,
    video_path: null,
    filename: null,
    sha256: null,
    bytes: null,
    video: null,
    error: null,
    synthetic: false,
    reproduce: "import sora_widget as sw\n\nclip = sw.generate('a paper boat')",
    derived_from: null,
    ...overrides,
  };
}

export function completedJob(id: string, overrides: Partial<Job> = {}): Job {
  return makeJob({
    id,
    request_id: `req-${id}`,
    status: "COMPLETED",
    waiting: false,
    video_path: `sora-outputs/${id}.mp4`,
    filename: `${id}.mp4`,
    bytes: 6,
    elapsed_s: 170,
    ...overrides,
  });
}

export class FakeModel {
  attrs: Record<string, unknown>;
  readonly handlers = new Map<string, Set<Handler>>();
  readonly sent: { content: any; buffers: unknown[] }[] = [];
  onCalls = 0;
  offCalls = 0;
  saves = 0;
  widget_manager = { get_model: async () => this as never };

  constructor(attrs: Record<string, unknown> = {}) {
    this.attrs = {
      prompt: "",
      duration: 8,
      size: "720x1280",
      model: "sora-2",
      spend: { usd: 0, jobs: 0, budget_usd: null, remaining_usd: null },
      input_reference: "",
      reference_name: "",
      options: OPTIONS,
      backend: { api_key_set: true, emulator: false, host: "api.segmind.com", unavailable: [] },
      values: {},
      jobs: [],
      jobs_clock_ms: Date.now(),
      mode: "full",
      ...attrs,
    };
  }

  get(name: string): any {
    return this.attrs[name];
  }

  set(name: string, value: unknown): void {
    this.attrs[name] = value;
    this.emit(`change:${name}`);
  }

  save_changes(): void {
    this.saves += 1;
  }

  on(event: string, handler: Handler): void {
    this.onCalls += 1;
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(handler);
  }

  off(event?: string | null, handler?: Handler | null): void {
    this.offCalls += 1;
    if (event && handler) this.handlers.get(event)?.delete(handler);
  }

  send(content: unknown, _callbacks?: unknown, buffers?: unknown[]): void {
    this.sent.push({ content, buffers: buffers ?? [] });
  }

  /** Number of listeners still registered. */
  get listeners(): number {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }

  /** The kernel changes a trait (as a comm update would). */
  kernelSet(values: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(values)) this.attrs[name] = value;
    for (const name of Object.keys(values)) this.emit(`change:${name}`);
  }

  /** The kernel sends a custom message. */
  kernelSend(msg: unknown, buffers: DataView[] = []): void {
    for (const handler of [...(this.handlers.get("msg:custom") ?? [])]) handler(msg, buffers);
  }

  /** The last request the view sent, optionally of a given kind. */
  lastSent(kind?: string): { content: any; buffers: unknown[] } {
    const found = [...this.sent].reverse().find((s) => !kind || s.content.kind === kind);
    if (!found) throw new Error(`no ${kind ?? ""} request was sent`);
    return found;
  }

  asModel(): WidgetModel {
    return this as unknown as WidgetModel;
  }

  /**
   * A fresh proxy, as anywidget passes to `initialize` and to each `render`: bound
   * get/set/send/on/off of this model, but a different object every time.
   */
  proxy(): WidgetModel {
    return {
      get: this.get.bind(this),
      set: this.set.bind(this),
      save_changes: this.save_changes.bind(this),
      send: this.send.bind(this),
      on: (name: string, callback: Handler) => this.on(name, callback),
      off: (name?: string | null, callback?: Handler | null) => this.off(name, callback),
      widget_manager: this.widget_manager,
    } as unknown as WidgetModel;
  }

  private emit(event: string): void {
    for (const handler of [...(this.handlers.get(event) ?? [])]) handler();
  }
}

export function bytesView(bytes: number[]): DataView {
  return new DataView(new Uint8Array(bytes).buffer);
}
