// A Scope owns everything that must be released when a view, a card or the model goes
// away: DOM listeners, model listeners, timers, object URLs, abort controllers. Each
// acquisition registers its release here, so cleanup cannot forget one.

type Off = () => void;

/** The part of an anywidget model a Scope needs to pair every `on` with its `off`. */
export interface Listenable {
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
}

export class Scope {
  private releases: Off[] = [];
  private closed = false;

  get disposed(): boolean {
    return this.closed;
  }

  /** Register a release; runs at once if the scope is already disposed. */
  add(release: Off): Off {
    if (this.closed) {
      release();
      return release;
    }
    this.releases.push(release);
    return release;
  }

  listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement,
    type: K,
    handler: (event: HTMLElementEventMap[K]) => void,
    options?: AddEventListenerOptions,
  ): void;
  listen(target: EventTarget, type: string, handler: (event: Event) => void, options?: AddEventListenerOptions): void;
  listen(target: EventTarget, type: string, handler: (event: any) => void, options?: AddEventListenerOptions): void {
    target.addEventListener(type, handler, options);
    this.add(() => target.removeEventListener(type, handler, options));
  }

  /** model.on with its model.off registered. */
  on(model: Listenable, event: string, callback: (...args: any[]) => void): void {
    model.on(event, callback);
    this.add(() => model.off(event, callback));
  }

  timeout(fn: () => void, ms: number): Off {
    const clear = () => {
      clearTimeout(handle);
      this.forget(clear);
    };
    const handle = setTimeout(() => {
      this.forget(clear); // fired: nothing left to release
      fn();
    }, ms);
    this.add(clear);
    return clear;
  }

  interval(fn: () => void, ms: number): Off {
    const handle = setInterval(fn, ms);
    let cleared = false;
    const clear = () => {
      if (!cleared) clearInterval(handle);
      cleared = true;
    };
    this.add(clear);
    return clear;
  }

  private forget(release: Off): void {
    const i = this.releases.indexOf(release);
    if (i >= 0) this.releases.splice(i, 1);
  }

  /** A scope disposed with this one, or earlier on its own (a job card, a player). */
  child(): Scope {
    const child = new Scope();
    const release = () => child.dispose();
    this.add(release);
    child.add(() => this.forget(release));
    return child;
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    // Reverse order: later acquisitions may depend on earlier ones.
    const releases = this.releases.reverse();
    this.releases = [];
    for (const release of releases) {
      try {
        release();
      } catch (error) {
        console.error("sora-widget: cleanup step failed", error);
      }
    }
  }
}

/**
 * Object URLs of one view. A Blob may be shared by several views (the model caches it),
 * but each view makes its own URL and revokes it when it goes, so nothing leaks and no
 * view can revoke a URL another one still shows.
 */
export class UrlPool {
  private urls = new Map<Blob, string>();

  constructor(scope: Scope) {
    scope.add(() => this.revokeAll());
  }

  url(blob: Blob): string {
    let url = this.urls.get(blob);
    if (!url) {
      url = URL.createObjectURL(blob);
      this.urls.set(blob, url);
    }
    return url;
  }

  revoke(blob: Blob): void {
    const url = this.urls.get(blob);
    if (url) {
      URL.revokeObjectURL(url);
      this.urls.delete(blob);
    }
  }

  /** Revoke the URLs of blobs no longer in use. */
  keepOnly(blobs: Iterable<Blob>): void {
    const keep = new Set(blobs);
    for (const blob of [...this.urls.keys()]) if (!keep.has(blob)) this.revoke(blob);
  }

  revokeAll(): void {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }

  get size(): number {
    return this.urls.size;
  }
}
