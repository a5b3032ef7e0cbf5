// Per-model state shared by every view of one widget: the video cache, the clock skew
// estimate and the locally picked reference images. anywidget calls `initialize` once
// per model, and its cleanup ends the session. Frontends that never call `initialize`
// still work: the first view then opens the session and the last one closes it.

import { Dispatcher, type MessageChannel } from "./dispatch";
import { Scope } from "./lifecycle";
import type { WidgetModel } from "./model";
import { readClock } from "./model";
import { ClockSync } from "./timing";
import { VideoStore, type VideoStoreOptions } from "./videos";

/** Local image files that became a reference: their URL (from the kernel) → bytes. */
export class ReferenceCache {
  private readonly files = new Map<string, { blob: Blob; name: string }>();

  remember(url: string, blob: Blob, name: string): void {
    this.files.delete(url);
    this.files.set(url, { blob, name });
    // Only the latest few matter (the reference field shows one at a time).
    while (this.files.size > 4) this.files.delete(this.files.keys().next().value as string);
  }

  get(url: string): { blob: Blob; name: string } | undefined {
    return this.files.get(url);
  }
}

export interface Session {
  readonly videos: VideoStore;
  readonly clock: ClockSync;
  readonly references: ReferenceCache;
  dispose(): void;
}

export type SessionOptions = VideoStoreOptions;

export function createSession(model: WidgetModel, options: SessionOptions = {}): Session {
  const scope = new Scope();
  const dispatcher = new Dispatcher(model as unknown as MessageChannel);
  scope.add(() => dispatcher.dispose());
  const videos = new VideoStore(dispatcher, options);
  scope.add(() => videos.dispose());
  const clock = new ClockSync();
  // Registered before any view's listener, so views read an up-to-date offset.
  scope.on(model, "change:jobs_clock_ms", () => clock.observe(readClock(model), Date.now()));
  return { videos, clock, references: new ReferenceCache(), dispose: () => scope.dispose() };
}

interface Entry {
  session: Session;
  /** the model (proxy) the session was opened with */
  model: WidgetModel;
  /** opened by `initialize` (closed by its cleanup) or by the first view */
  byInitialize: boolean;
  views: number;
}

// anywidget hands `initialize` and every `render` a fresh proxy of the model (bound
// get/set/send/on/off), so the object itself cannot be the key. Open sessions are
// found with sameModel() instead.
const entries = new Set<Entry>();

/**
 * Whether two model proxies wrap the same widget model. Proxies of one model return the
 * very same attribute objects from get(); another model's were deserialized separately,
 * so they are different objects even when equal in value. The test is live (both read
 * the current attributes), so it holds after the kernel replaces a trait.
 */
export function sameModel(a: WidgetModel, b: WidgetModel): boolean {
  if (a === b) return true;
  let compared = 0;
  for (const trait of ["options", "backend", "jobs"] as const) {
    const x: unknown = a.get(trait);
    const y: unknown = b.get(trait);
    if (typeof x !== "object" || x === null) continue;
    if (x !== y) return false;
    compared += 1;
  }
  return compared > 0;
}

function find(model: WidgetModel): Entry | undefined {
  for (const entry of entries) if (sameModel(entry.model, model)) return entry;
  return undefined;
}

/** For `initialize`: open the model's session; the returned cleanup closes it. */
export function openSession(model: WidgetModel, options?: SessionOptions): () => void {
  let entry = find(model);
  if (entry) {
    entry.byInitialize = true;
  } else {
    entry = { session: createSession(model, options), model, byInitialize: true, views: 0 };
    entries.add(entry);
  }
  const opened = entry;
  return () => {
    if (!entries.delete(opened)) return;
    opened.session.dispose();
  };
}

/** For `render`: the model's session (opened now if `initialize` never ran) and its release. */
export function acquireSession(model: WidgetModel, options?: SessionOptions): { session: Session; release: () => void } {
  let entry = find(model);
  if (!entry) {
    entry = { session: createSession(model, options), model, byInitialize: false, views: 0 };
    entries.add(entry);
  }
  const held = entry;
  held.views += 1;
  let released = false;
  return {
    session: held.session,
    release: () => {
      if (released) return;
      released = true;
      held.views -= 1;
      if (held.views === 0 && !held.byInitialize && entries.delete(held)) held.session.dispose();
    },
  };
}

/** Sessions open now (for tests: each must be closed by its owner). */
export function openSessionCount(): number {
  return entries.size;
}
