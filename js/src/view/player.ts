// One video player: a placeholder with transfer progress while the clip arrives, the
// <video> once its Blob is here, and a visible error (with Retry) when it cannot play.
// Clips have sound: the native controls carry play, volume and mute; the user presses
// play, and what code starts (compare mode's other clip) plays muted until the user
// turns that player's sound on.

import { formatBytes } from "../format";
import { h, setText, show } from "../h";
import type { Scope, UrlPool } from "../lifecycle";
import { safeImageSrc, safeMediaSrc } from "../media";
import type { Job } from "../protocol";
import type { VideoEntry } from "../state";
import { viewError } from "../format";
import { ErrorSlot, clipShape } from "./parts";

export interface PlayerHost {
  urls: UrlPool;
  retryVideo(job: string): void;
}

export class Player {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  private readonly placeholder: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly errors = new ErrorSlot();
  private readonly retry: HTMLButtonElement;
  private jobId: string | null = null;
  private src: string | null = null;
  private playbackFailed = false;
  /** the user turned this player's sound on (unmuted it with its controls) */
  private soundOn = false;

  constructor(
    private readonly host: PlayerHost,
    scope: Scope,
  ) {
    // the source is an in-memory blob: load it all. No controls until its first frame is here
    // (see `showControlsOnceLoaded`).
    this.video = h("video", { class: "sw-video", loop: true, playsinline: true, preload: "auto" });
    this.video.playsInline = true;
    this.progress = h("span", { class: "sw-placeholder-text" });
    this.placeholder = h("div", { class: "sw-placeholder sw-video-placeholder" }, this.progress);
    this.retry = h("button", { type: "button", class: "sw-button sw-button-small" }, "Retry");
    this.el = h("div", { class: "sw-player" }, this.placeholder, this.video, this.errors.el);
    this.video.hidden = true;
    scope.listen(this.video, "error", () => {
      // Only a failure of the current source counts (removing src also fires error).
      if (!this.src || !this.video.getAttribute("src")) return;
      this.playbackFailed = true;
      this.paint();
    });
    this.showControlsOnceLoaded(scope);
    scope.listen(this.retry, "click", () => {
      if (this.jobId) this.host.retryVideo(this.jobId);
    });
    scope.listen(this.video, "volumechange", () => {
      this.soundOn = !this.video.muted && this.video.volume > 0;
    });
  }

  /** Play because code asked (not the user's own press): never with sound by itself. */
  playQuietly(): void {
    if (!this.soundOn) this.video.muted = true;
    void this.video.play()?.catch?.(() => undefined);
  }

  /**
   * Chromium's controls draw a loading spinner while a paused video loads, and take it away
   * only at the end of a turn of its animation; where the video is not being drawn meanwhile
   * (hidden, or scrolled out of a windowed notebook) that turn never ends, and the spinner
   * stayed over a paused, loaded clip. The controls — and their spinner — appear once the
   * clip's first frame is here, when there is nothing left to load.
   */
  private showControlsOnceLoaded(scope: Scope): void {
    scope.listen(this.video, "loadeddata", () => {
      if (this.video.getAttribute("src")) this.video.controls = true;
    });
  }

  private job: Job | null = null;
  private entry: VideoEntry | null = null;

  /** Show a job's clip in whatever state its transfer is. */
  show(job: Job, entry: VideoEntry): void {
    if (job.id !== this.jobId) {
      this.jobId = job.id;
      this.playbackFailed = false;
      this.setSrc(null);
    }
    this.job = job;
    this.entry = entry;
    this.paint();
  }

  private paint(): void {
    const { job, entry } = this;
    if (!job || !entry) return;

    const size = clipShape(job);
    const ratio = size ? `${size.width} / ${size.height}` : "";
    if (this.placeholder.style.aspectRatio !== ratio) this.placeholder.style.aspectRatio = ratio;
    if (this.video.style.aspectRatio !== ratio) this.video.style.aspectRatio = ratio;
    this.video.setAttribute("aria-label", `Video: ${job.params.prompt}`);

    if (entry.phase === "ready") {
      const src = safeMediaSrc(this.host.urls.url(entry.blob));
      this.setSrc(src);
      const poster = safeImageSrc(entry.poster);
      if (poster && this.video.getAttribute("poster") !== poster) this.video.setAttribute("poster", poster);
    }
    const ready = entry.phase === "ready" && this.src !== null && !this.playbackFailed;
    show(this.video, ready);
    show(this.placeholder, !ready && entry.phase !== "error" && !this.playbackFailed);
    if (entry.phase === "loading") {
      const { received, size: total } = entry;
      setText(
        this.progress,
        total > 0 ? `Loading video… ${formatBytes(received)} of ${formatBytes(total)}` : "Loading video…",
      );
    } else if (entry.phase === "idle") {
      setText(this.progress, "Waiting for the video…");
    }
    if (entry.phase === "error") this.errors.set(entry.error, this.retry);
    else if (this.playbackFailed) {
      this.errors.set(
        viewError(
          "PlaybackError",
          "The clip arrived, but this browser could not decode it.",
          "Use Download to save it and play it with another player (the file is also in the output folder).",
        ),
      );
    } else this.errors.set(null);
  }

  private setSrc(src: string | null): void {
    if (src === this.src) return;
    this.src = src;
    this.playbackFailed = false; // a new source deserves a new chance
    this.video.controls = false; // until the new clip's first frame is here
    if (src) this.video.src = src;
    else if (this.video.getAttribute("src")) {
      this.video.removeAttribute("src");
      try {
        this.video.load(); // let go of the old clip's decoder
      } catch {
        /* not supported in this DOM */
      }
    }
  }
}
