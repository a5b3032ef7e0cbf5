// One job's card: status, live elapsed time against the expected time, the progress
// estimate, the request id, parameters, stop/resume, errors, and — once done — the
// clip's download link and the code that reproduces it. Built once per job and
// updated in place, so focus, an open <details> and a playing video survive updates.

import { formatUsd } from "../cost";
import { formatBytes, formatClock, formatElapsed, lineageText, paramsSummary, referenceText, statusText } from "../format";
import { h, setText, show, uid } from "../h";
import type { Scope, UrlPool } from "../lifecycle";
import { safeImageSrc, safeMediaSrc } from "../media";
import type { Job, JobError, Mode, Options } from "../protocol";
import { canDerive, canResume, isPlayable, type JobAction, type VideoEntry } from "../state";
import { isTerminal, isTicking, liveElapsed, progressPercent } from "../timing";
import { closeOnEscape } from "./keys";
import { ErrorSlot, chip, copyButton, setStatus, statusBadge } from "./parts";
import { Player } from "./player";

export interface CardHost {
  mode: Mode;
  urls: UrlPool;
  options(): Options | null;
  video(job: string): VideoEntry;
  retryVideo(job: string): void;
  stop(job: string): void;
  resume(job: string): void;
  select(job: string): void;
  toggleCompare(job: string): void;
  /** the next shot of `job`, starting from its last frame */
  continueFrom(job: string, prompt: string): void;
  /** fill the controls with the job's parameters (only where there are controls) */
  remix: ((job: string) => void) | null;
  /** the next clip ends on the job's last frame (only where there are controls) */
  endFrame: ((job: string) => void) | null;
  /** whether the widget's model now takes a last frame ("End on this frame" is offered) */
  takesLastFrame(): boolean;
  announce(message: string): void;
}

/** What a card needs beyond its job to draw itself. */
export interface CardContext {
  kernelClockMs: number;
  offsetMs: number;
  nowMs: number;
  busy: JobAction | undefined;
  actionError: JobError | undefined;
  /** shown in the main player right now */
  playing: boolean;
  comparing: boolean;
}

export const FINISHING_SUBMIT =
  "Finishing the submit: Stop waiting is offered once the server has answered (a submit is never cut off).";

export const DETACHED_TEXT =
  "Stopped waiting. The job keeps running on the server and is billed; resume it later from the ledger.";

export class JobCard {
  readonly el: HTMLElement;
  private job: Job;
  private context: CardContext | null = null;
  private readonly status = statusBadge();
  private readonly detachedChip = chip("Detached", "detached", "No longer waited for; still running on the server");
  private readonly syntheticChip = chip("Synthetic (local emulator)", "synthetic", "Rendered by the local emulator, not by the model on Segmind");
  private readonly time = h("span", { class: "sw-card-time" });
  private readonly prompt = h("p", { class: "sw-card-prompt" });
  private readonly lineage = h("p", { class: "sw-card-lineage" });
  private readonly description = h("p", { class: "sw-card-desc" });
  private readonly progressRow: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly fill = h("div", { class: "sw-progress-fill" });
  private readonly paramsText = h("dd");
  private readonly referenceText = h("dd");
  private readonly referenceRow = h("div", null, h("dt", null, "Reference"), this.referenceText);
  private readonly lastFrameText = h("dd");
  private readonly lastFrameRow = h("div", null, h("dt", null, "Last frame"), this.lastFrameText);
  private readonly requestId = h("code", { class: "sw-request-id" });
  private requestRow: HTMLElement = h("div");
  private readonly stopButton = h("button", { type: "button", class: "sw-button" }, "Stop waiting");
  private readonly resumeButton = h("button", { type: "button", class: "sw-button" }, "Resume");
  private readonly playButton = h("button", { type: "button", class: "sw-button sw-play" });
  private readonly playThumb = h("img", { class: "sw-thumb", alt: "" });
  private readonly compareButton = h("button", { type: "button", class: "sw-button", "aria-pressed": "false" }, "Compare");
  private readonly download = h("a", { class: "sw-button sw-download" }, "Download");
  private readonly continueButton = h("button", { type: "button", class: "sw-button", "aria-expanded": "false" }, "Continue");
  private readonly endFrameButton = h("button", { type: "button", class: "sw-button" }, "End on this frame");
  private readonly remixButton = h("button", { type: "button", class: "sw-button" }, "Remix");
  private readonly next: HTMLElement;
  private readonly nextPrompt: HTMLTextAreaElement;
  private readonly nextStart = h("button", { type: "button", class: "sw-button sw-button-primary" }, "Start next shot");
  private readonly nextCancel = h("button", { type: "button", class: "sw-button" }, "Cancel");
  private continuing = false;
  private readonly detachedNote = h("p", { class: "sw-detached-note" }, DETACHED_TEXT);
  private readonly jobError = new ErrorSlot();
  private readonly actionError = new ErrorSlot();
  private readonly videoError = new ErrorSlot();
  private readonly videoRetry = h("button", { type: "button", class: "sw-button sw-button-small" }, "Retry");
  private readonly reproduce: HTMLDetailsElement;
  private readonly reproduceCode = h("code");
  private readonly player: Player | null;

  constructor(
    private readonly host: CardHost,
    scope: Scope,
    job: Job,
  ) {
    this.job = job;
    const titleId = `sw-job-${cssSafe(job.id)}-${Math.random().toString(36).slice(2, 7)}`;
    this.prompt.id = titleId;
    this.bar = h(
      "div",
      { class: "sw-progress", role: "progressbar", "aria-label": "estimate", "aria-valuemin": 0, "aria-valuemax": 100 },
      this.fill,
    );
    this.progressRow = h("div", { class: "sw-progress-row" }, this.bar, h("span", { class: "sw-progress-label", "aria-hidden": "true" }, "estimate"));
    this.reproduce = h(
      "details",
      { class: "sw-reproduce" },
      h("summary", null, "Reproduce"),
      h("pre", { class: "sw-code" }, this.reproduceCode),
      copyButton(scope, "code to reproduce this clip", () => this.job.reproduce, host.announce),
    );
    this.playButton.append(this.playThumb, h("span", null, "Play"));
    for (const button of [this.playButton, this.compareButton, this.continueButton, this.endFrameButton, this.remixButton]) {
      button.setAttribute("aria-describedby", titleId);
    }
    this.player = host.mode === "job" ? new Player(host, scope) : null;
    this.nextPrompt = h("textarea", { id: uid("next"), class: "sw-prompt sw-next-prompt", rows: 2, placeholder: "What happens next…" });
    this.next = this.nextForm(titleId);
    this.el = h(
      "li",
      { class: "sw-card", tabindex: "-1", "aria-labelledby": titleId, "data-job": job.id },
      h("div", { class: "sw-card-head" }, this.status, this.detachedChip, this.syntheticChip, this.time),
      this.prompt,
      this.lineage,
      this.description,
      this.progressRow,
      this.paramsList(scope),
      this.jobError.el,
      this.detachedNote,
      this.actionError.el,
      this.player?.el ?? null,
      this.videoError.el,
      h(
        "div",
        { class: "sw-card-actions" },
        ...[this.stopButton, this.resumeButton, this.playButton, this.compareButton, this.download],
        ...[this.continueButton, this.endFrameButton, this.remixButton],
      ),
      this.next,
      this.reproduce,
    );
    this.listen(scope);
  }

  /** Parameters, the first and last frames, the request id (with Copy). */
  private paramsList(scope: Scope): HTMLElement {
    const copy = copyButton(scope, "request id", () => this.job.request_id ?? "", this.host.announce);
    this.requestRow = h("div", null, h("dt", null, "Request id"), h("dd", { class: "sw-request" }, this.requestId, copy));
    return h(
      "dl",
      { class: "sw-params" },
      h("div", null, h("dt", null, "Parameters"), this.paramsText),
      this.referenceRow,
      this.lastFrameRow,
      this.requestRow,
    );
  }

  /** Continue: the next shot's prompt, asked for in the card itself. */
  private nextForm(titleId: string): HTMLElement {
    const noteId = uid("nextnote");
    this.nextPrompt.setAttribute("aria-describedby", noteId);
    this.continueButton.setAttribute("aria-controls", this.nextPrompt.id);
    const form = h(
      "div",
      { class: "sw-next", role: "group", "aria-labelledby": titleId },
      h("label", { for: this.nextPrompt.id, class: "sw-label" }, "Next shot"),
      this.nextPrompt,
      h("p", { id: noteId, class: "sw-field-note" }, "Starts from this clip's last frame, with its size, duration and model."),
      h("div", { class: "sw-card-actions" }, this.nextStart, this.nextCancel),
    );
    form.hidden = true;
    return form;
  }

  private listen(scope: Scope): void {
    const host = this.host;
    scope.listen(this.stopButton, "click", () => host.stop(this.job.id));
    scope.listen(this.resumeButton, "click", () => host.resume(this.job.id));
    scope.listen(this.playButton, "click", () => host.select(this.job.id));
    scope.listen(this.compareButton, "click", () => host.toggleCompare(this.job.id));
    scope.listen(this.videoRetry, "click", () => host.retryVideo(this.job.id));
    scope.listen(this.continueButton, "click", () => this.openNext(this.next.hidden));
    scope.listen(this.nextCancel, "click", () => this.closeNext());
    scope.listen(this.nextStart, "click", () => this.startNext());
    scope.listen(this.nextPrompt, "keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        event.stopPropagation(); // ours, not the notebook's "run cell"
        this.startNext();
      }
    });
    scope.listen(this.endFrameButton, "click", () => host.endFrame?.(this.job.id));
    scope.listen(this.remixButton, "click", () => host.remix?.(this.job.id));
    // Escape closes what the card opened, and gives focus back to what opened it
    closeOnEscape(scope, this.next, () => !this.next.hidden && (this.closeNext(), true));
    closeOnEscape(scope, this.reproduce, () => {
      if (!this.reproduce.open) return false;
      this.reproduce.open = false;
      this.reproduce.querySelector("summary")?.focus();
      return true;
    });
  }

  private closeNext(): void {
    this.openNext(false);
    this.continueButton.focus();
  }

  private openNext(open: boolean): void {
    show(this.next, open);
    this.continueButton.setAttribute("aria-expanded", String(open));
    if (open) this.nextPrompt.focus();
  }

  private startNext(): void {
    const prompt = this.nextPrompt.value.trim();
    if (!prompt) {
      this.host.announce("Type what happens in the next shot first");
      this.nextPrompt.focus();
      return;
    }
    if (this.context?.busy === "continue") return;
    this.host.continueFrom(this.job.id, prompt);
  }

  get id(): string {
    return this.job.id;
  }

  update(job: Job, context: CardContext): void {
    this.job = job;
    this.context = context;
    const terminal = isTerminal(job.status);

    setStatus(this.status, job.status);
    this.el.dataset.status = job.status;
    show(this.detachedChip, job.detached);
    show(this.syntheticChip, job.synthetic);
    setText(this.prompt, job.params.prompt || "(no prompt)");
    const lineage = lineageText(job.derived_from);
    setText(this.lineage, lineage);
    show(this.lineage, lineage !== "");
    setText(this.description, describe(job));

    setText(this.paramsText, `${paramsSummary(job.params, this.host.options())} · ${job.model}${costText(job)}`);
    show(this.referenceRow, !!job.params.input_reference);
    setText(this.referenceText, referenceText(job.params.input_reference, job.reference_source));
    show(this.lastFrameRow, !!job.params.last_frame);
    setText(this.lastFrameText, referenceText(job.params.last_frame ?? null));
    show(this.requestRow, !!job.request_id);
    setText(this.requestId, job.request_id ?? "");

    // Stop waiting only once the server has answered the submit: a submit is never cut
    // off (it may already be billed), so before its request id there is nothing to stop.
    const waiting = job.waiting && !terminal && job.request_id !== null;
    show(this.stopButton, waiting);
    this.stopButton.disabled = context.busy === "stop";
    show(this.resumeButton, canResume(job));
    this.resumeButton.disabled = context.busy === "resume";
    show(this.detachedNote, job.detached);

    this.jobError.set(job.error);
    this.actionError.set(context.actionError ?? null);
    this.updateNext(job, context);

    const playable = isPlayable(job);
    const entry = playable ? this.host.video(job.id) : null;
    this.updateMedia(job, entry, context);

    setText(this.reproduceCode, job.reproduce);
    show(this.reproduce, job.reproduce !== "");
    this.tick(context.nowMs);
  }

  /** Continue and Remix: offered on a finished clip; the next shot's form closes once
   * the kernel has started it. */
  private updateNext(job: Job, context: CardContext): void {
    const derivable = canDerive(job);
    show(this.continueButton, derivable);
    show(this.remixButton, derivable && this.host.remix !== null);
    show(this.endFrameButton, derivable && this.host.endFrame !== null && this.host.takesLastFrame());
    this.endFrameButton.disabled = context.busy === "end_frame";
    setText(this.endFrameButton, context.busy === "end_frame" ? "Reading the last frame…" : "End on this frame");
    if (!derivable && !this.next.hidden) this.openNext(false);
    const busy = context.busy === "continue";
    this.nextStart.disabled = busy;
    this.nextPrompt.disabled = busy;
    setText(this.nextStart, busy ? "Starting…" : "Start next shot");
    if (this.continuing && !busy && !context.actionError) {
      this.nextPrompt.value = "";
      this.openNext(false);
    }
    this.continuing = busy;
  }

  /** Refresh the clock and the progress bar (every second while the job runs). */
  tick(nowMs: number): void {
    const context = this.context;
    if (!context) return;
    const job = this.job;
    const elapsed = liveElapsed(job, context.kernelClockMs, context.offsetMs, nowMs);
    if (job.status === "COMPLETED") {
      setText(this.time, elapsed > 0 ? `took ${formatClock(elapsed)}` : "");
    } else if (isTerminal(job.status)) {
      setText(this.time, elapsed > 0 ? `after ${formatClock(elapsed)}` : "");
    } else {
      setText(this.time, formatElapsed(elapsed, job.expected_s));
    }
    // The bar estimates progress of a job still under way; finished jobs need none.
    const running = !isTerminal(job.status);
    show(this.progressRow, running);
    if (running) {
      const percent = progressPercent(job.status, elapsed, job.expected_s);
      const now = String(percent);
      if (this.bar.getAttribute("aria-valuenow") !== now) {
        this.bar.setAttribute("aria-valuenow", now);
        this.bar.setAttribute(
          "aria-valuetext",
          `about ${percent}% — ${formatClock(elapsed)} of a typical ${formatClock(job.expected_s)}${isTicking(job) ? "" : " (not being waited for)"}`,
        );
        this.fill.style.transform = `scaleX(${percent / 100})`;
      }
      this.bar.classList.toggle("sw-progress-paused", !isTicking(job));
    }
  }

  /** Move keyboard focus here (the gallery does this for clips that cannot play yet). */
  focus(): void {
    this.el.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
    this.el.focus();
  }

  private updateMedia(job: Job, entry: VideoEntry | null, context: CardContext): void {
    const ready = entry?.phase === "ready" ? entry : null;

    // Download: only a blob: URL of bytes already here, with the file's own name.
    const href = ready ? safeMediaSrc(this.host.urls.url(ready.blob)) : null;
    show(this.download, href !== null);
    if (href && this.download.getAttribute("href") !== href) {
      this.download.setAttribute("href", href);
      this.download.setAttribute("download", job.filename ?? `${job.id}.mp4`);
      this.download.title = `Save ${job.filename ?? "the clip"} (${formatBytes(ready?.blob.size ?? 0)})`;
    } else if (!href && this.download.hasAttribute("href")) {
      this.download.removeAttribute("href");
    }

    if (this.player) {
      // The compact %sora view: the card itself plays the clip.
      show(this.player.el, entry !== null);
      if (entry) this.player.show(job, entry);
      show(this.playButton, false);
      show(this.compareButton, false);
      this.videoError.set(null);
      return;
    }

    show(this.playButton, entry !== null);
    this.playButton.classList.toggle("sw-current", context.playing);
    const poster = ready ? safeImageSrc(ready.poster) : null;
    show(this.playThumb, poster !== null);
    if (poster && this.playThumb.getAttribute("src") !== poster) this.playThumb.setAttribute("src", poster);

    show(this.compareButton, entry !== null);
    this.compareButton.setAttribute("aria-pressed", String(context.comparing));
    // Nothing fails silently: a clip that did not arrive says so here too.
    this.videoError.set(entry?.phase === "error" ? entry.error : null, this.videoRetry);
  }
}

/** " · $0.80" once the API said what it cost, " · ≈ $0.80" while it is an estimate. */
function costText(job: Job): string {
  if (!job.cost) return "";
  // the API's or Segmind's own figure is what was charged; an estimate is marked as one
  return ` · ${job.cost.source === "estimate" ? "≈ " : ""}${formatUsd(job.cost.usd)}`;
}

function describe(job: Job): string {
  if (job.detached) return "Not waiting for this job any more";
  if (job.status === "SUBMITTING" && job.waiting) return FINISHING_SUBMIT;
  if (job.status === "COMPLETED" && !job.video_path) return "Done on the server; the clip is not saved yet";
  if (job.status === "COMPLETED" && job.bytes) return `Saved ${job.filename ?? "the clip"} (${formatBytes(job.bytes)})`;
  if (!job.waiting && !isTerminal(job.status) && job.status !== "SUBMITTING") return "Not being waited for";
  return statusText(job.status);
}

function cssSafe(id: string): string {
  return id.replace(/[^a-zA-Z0-9_-]/g, "_");
}
