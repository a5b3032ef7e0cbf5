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
  /** opened by `initialize` (closed by its cleanup) or by the first view */
  byInitialize: boolean;
  views: number;
}

const sessions = new WeakMap<object, Entry>();

/** For `initialize`: open the model's session; the returned cleanup closes it. */
export function openSession(model: WidgetModel, options?: SessionOptions): () => void {
  const existing = sessions.get(model);
  if (existing) {
    existing.byInitialize = true;
  } else {
    sessions.set(model, { session: createSession(model, options), byInitialize: true, views: 0 });
  }
  return () => {
    const entry = sessions.get(model);
    if (!entry) return;
    sessions.delete(model);
    entry.session.dispose();
  };
}

/** For `render`: the model's session (opened now if `initialize` never ran) and its release. */
export function acquireSession(model: WidgetModel, options?: SessionOptions): { session: Session; release: () => void } {
  let entry = sessions.get(model);
  if (!entry) {
    entry = { session: createSession(model, options), byInitialize: false, views: 0 };
    sessions.set(model, entry);
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
      if (held.views === 0 && !held.byInitialize && sessions.get(model) === held) {
        sessions.delete(model);
        held.session.dispose();
      }
    },
  };
}
