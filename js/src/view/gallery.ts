// The history of this widget's generations as thumbnails (the first frame of each
// clip; a placeholder until there is one). Choosing a finished clip plays it in the
// main player; choosing one still under way (or failed) moves focus to its card.
// In a batch view it lists the batch's items in their order, each with its status
// and, when it ended without a clip, why.

import { errorTitle, paramsSummary, statusLabel, truncate } from "../format";
import { h, setText, show } from "../h";
import type { Scope } from "../lifecycle";
import { safeImageSrc } from "../media";
import type { Job, Options } from "../protocol";
import { isPlayable, type VideoEntry } from "../state";
import { endedWithoutClip } from "../timing";
import { chip, clipShape } from "./parts";

export interface GalleryOptions {
  title: string;
  /** newest first (a widget's history) or in the order given (a batch's items) */
  newestFirst: boolean;
}

export interface GalleryHost {
  options(): Options | null;
  video(job: string): VideoEntry;
  select(job: string): void;
  focusCard(job: string): void;
}

interface Item {
  el: HTMLLIElement;
  button: HTMLButtonElement;
  thumb: HTMLElement;
  img: HTMLImageElement;
  placeholder: HTMLElement;
  status: HTMLElement;
  prompt: HTMLElement;
  params: HTMLElement;
  synthetic: HTMLElement;
  error: HTMLElement;
  job: Job;
}

export class Gallery {
  readonly el: HTMLElement;
  private readonly list = h("ul", { class: "sw-gallery-list" });
  private readonly items = new Map<string, Item>();

  constructor(
    private readonly host: GalleryHost,
    private readonly scope: Scope,
    private readonly options: GalleryOptions = { title: "History", newestFirst: true },
  ) {
    const titleId = `sw-gallery-${Math.random().toString(36).slice(2, 8)}`;
    this.el = h(
      "section",
      { class: "sw-gallery", "aria-labelledby": titleId },
      h("div", { class: "sw-section-title", id: titleId }, options.title),
      this.list,
    );
  }

  /** `jobs` oldest first; shown newest first, or in that order. */
  update(jobs: readonly Job[], current: ReadonlySet<string>): void {
    show(this.el, jobs.length > 0);
    const seen = new Set<string>();
    const ordered = this.options.newestFirst ? [...jobs].reverse() : jobs;
    let before: ChildNode | null = this.list.firstChild;
    for (const job of ordered) {
      seen.add(job.id);
      let item = this.items.get(job.id);
      if (!item) {
        item = this.create(job);
        this.items.set(job.id, item);
      }
      this.fill(item, job, current.has(job.id));
      if (item.el !== before) this.list.insertBefore(item.el, before);
      before = item.el.nextSibling;
    }
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.el.remove();
        this.items.delete(id);
      }
    }
  }

  private create(job: Job): Item {
    const img = h("img", { class: "sw-thumb", alt: "" });
    const placeholder = h("span", { class: "sw-placeholder" });
    const thumb = h("span", { class: "sw-gallery-thumb", "aria-hidden": "true" }, img, placeholder);
    const status = h("span", { class: "sw-status" });
    const prompt = h("span", { class: "sw-gallery-prompt" });
    const params = h("span", { class: "sw-gallery-params" });
    const synthetic = chip("Synthetic", "synthetic");
    const error = h("span", { class: "sw-gallery-error" });
    const button = h(
      "button",
      { type: "button", class: "sw-gallery-item" },
      thumb,
      h("span", { class: "sw-gallery-text" }, prompt, h("span", { class: "sw-gallery-meta" }, status, params, synthetic), error),
    );
    const item: Item = { el: h("li", null, button), button, thumb, img, placeholder, status, prompt, params, synthetic, error, job };
    this.scope.listen(button, "click", () => {
      if (isPlayable(item.job)) this.host.select(item.job.id);
      else this.host.focusCard(item.job.id);
    });
    return item;
  }

  private fill(item: Item, job: Job, current: boolean): void {
    item.job = job;
    const size = clipShape(job);
    const ratio = size ? `${size.width} / ${size.height}` : "";
    if (item.thumb.style.aspectRatio !== ratio) item.thumb.style.aspectRatio = ratio;
    const entry = isPlayable(job) ? this.host.video(job.id) : null;
    const poster = entry?.phase === "ready" ? safeImageSrc(entry.poster) : null;
    if (poster && item.img.getAttribute("src") !== poster) item.img.setAttribute("src", poster);
    show(item.img, poster !== null);
    show(item.placeholder, poster === null);
    setText(item.placeholder, placeholderText(job, entry));
    const label = statusLabel(job.status);
    setText(item.status, label);
    item.status.dataset.status = label;
    setText(item.prompt, truncate(job.params.prompt, 80));
    setText(item.params, paramsSummary(job.params, this.host.options()));
    show(item.synthetic, job.synthetic);
    const problem = job.error ? errorTitle(job.error) : "";
    setText(item.error, problem);
    show(item.error, problem !== "");
    item.el.dataset.status = label;
    item.el.classList.toggle("sw-current", current);
    if (current) item.button.setAttribute("aria-current", "true");
    else item.button.removeAttribute("aria-current");
    const action = isPlayable(job) ? "Play" : "Show job";
    const why = job.error ? `\n${errorTitle(job.error)}: ${job.error.message}` : "";
    item.button.title = `${action}: ${truncate(job.params.prompt, 200)}${why}`;
  }
}

function placeholderText(job: Job, entry: VideoEntry | null): string {
  if (!entry) {
    const status = statusLabel(job.status);
    if (status === "COMPLETED") return "Not saved";
    return endedWithoutClip(status) ? "—" : "…";
  }
  if (entry.phase === "idle") return "▶"; // not fetched until asked for (a batch's items)
  if (entry.phase === "error") return "Unavailable";
  if (entry.phase === "ready") return entry.posterDone ? "▶" : "…";
  return "Loading…";
}
