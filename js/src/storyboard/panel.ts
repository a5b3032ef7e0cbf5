// A Storyboard's view (the "storyboard" mode): the shots' prompts — editable, reorderable,
// written back to the `shots` trait — a Generate film button with the run's estimate,
// where the run stands, a strip of the run's shots with their posters and statuses, and
// the film (played by the view's main player; saved by the kernel, downloadable here).

import { paramsSummary, statusLabel, statusText, truncate } from "../format";
import { h, setText, show, uid } from "../h";
import type { Scope, UrlPool } from "../lifecycle";
import { safeImageSrc, safeMediaSrc } from "../media";
import { readBoard, readForm, readShots, readString, writeShots, type WidgetModel } from "../model";
import type { BoardProgress, Job, JobError, Options } from "../protocol";
import { isPlayable, type VideoEntry } from "../state";
import { endedWithoutClip } from "../timing";
import { ErrorSlot, parseSize, setStatus, statusBadge } from "../view/parts";
import { addShot, filmOf, moveShot, removeShot, runEstimate, runProblem, runText, stripItems, type StripItem } from "./shots";

export interface StoryboardHost {
  model: WidgetModel;
  urls: UrlPool;
  options(): Options | null;
  video(job: string): VideoEntry;
  /** play a shot (or the film) in the main player */
  select(job: string): void;
  /** ask the kernel for a run; `done` hears its answer (null: started) */
  run(shots: string[], done: (error: JobError | null) => void): void;
  announce(message: string): void;
}

interface Row {
  el: HTMLLIElement;
  number: HTMLElement;
  prompt: HTMLTextAreaElement;
  up: HTMLButtonElement;
  down: HTMLButtonElement;
  remove: HTMLButtonElement;
}

interface StripEntry {
  el: HTMLLIElement;
  button: HTMLButtonElement;
  thumb: HTMLElement;
  img: HTMLImageElement;
  placeholder: HTMLElement;
  status: HTMLElement;
  caption: HTMLElement;
}

export class StoryboardPanel {
  /** the shots, the run button and the strip */
  readonly el: HTMLElement;
  /** the film's facts and its download, under the player */
  readonly film: HTMLElement;
  private readonly summary = h("span", { class: "sw-host" });
  private readonly list = h("ol", { class: "sw-shot-list" });
  private readonly rows: Row[] = [];
  private readonly addButton = h("button", { type: "button", class: "sw-button" }, "Add shot");
  private readonly runButton = h("button", { type: "button", class: "sw-button sw-button-primary" }, "Generate film");
  private readonly estimate = h("span", { class: "sw-estimate" });
  private readonly reason = h("p", { class: "sw-reason", id: uid("boardreason") });
  private readonly progress = h("p", { class: "sw-board-progress" });
  private readonly errors = new ErrorSlot({ role: "alert" });
  private readonly strip = h("ol", { class: "sw-strip-list" });
  private readonly stripSection: HTMLElement;
  private readonly stripItems: StripEntry[] = [];
  private readonly filmText = h("p", { class: "sw-film-text" });
  private readonly download = h("a", { class: "sw-button sw-download" }, "Download film");
  private jobs: readonly Job[] = [];
  private requesting = false;
  private requestError: JobError | null = null;
  private lastProgress = "";

  constructor(
    private readonly host: StoryboardHost,
    private readonly scope: Scope,
  ) {
    const titleId = uid("board");
    const stripTitleId = uid("strip");
    const filmTitleId = uid("film");
    this.runButton.setAttribute("aria-describedby", this.reason.id);
    this.stripSection = h(
      "section",
      { class: "sw-strip", "aria-labelledby": stripTitleId },
      h("div", { class: "sw-section-title", id: stripTitleId }, "Shots of the film"),
      this.strip,
    );
    this.el = h(
      "section",
      { class: "sw-storyboard", "aria-labelledby": titleId },
      h("div", { class: "sw-header" }, h("span", { class: "sw-title", id: titleId }, "Storyboard"), this.summary),
      this.list,
      h("div", { class: "sw-generate-row" }, this.addButton, this.runButton, this.estimate, this.reason),
      // announced through the view's live region (announce), not a second one here
      h("p", { class: "sw-board-status" }, this.progress),
      this.errors.el,
      this.stripSection,
    );
    this.film = h(
      "section",
      { class: "sw-film", "aria-labelledby": filmTitleId },
      h("div", { class: "sw-section-title", id: filmTitleId }, "Film"),
      this.filmText,
      h("div", { class: "sw-card-actions" }, this.download),
    );

    scope.listen(this.addButton, "click", () => {
      writeShots(host.model, addShot(readShots(host.model)));
      this.update(null);
      this.rows[this.rows.length - 1]?.prompt.focus();
    });
    scope.listen(this.runButton, "click", () => this.run());
  }

  /** Bring the panel in line with the traits (`jobs`: the kernel's, oldest first; null:
   * unchanged since the last call). */
  update(jobs: readonly Job[] | null): void {
    if (jobs !== null) this.jobs = jobs;
    const model = this.host.model;
    const shots = readShots(model);
    const board = readBoard(model);
    const options = this.host.options();
    const form = readForm(model, options);
    const { sound, seed } = form.values;
    const shot = {
      prompt: "",
      duration: form.duration,
      size: form.size || null,
      input_reference: null,
      sound: typeof sound === "boolean" ? sound : null,
      seed: typeof seed === "number" ? seed : null,
    };
    setText(this.summary, `${paramsSummary(shot, options)} · ${form.model} · per shot`);

    this.updateRows(shots, board);
    setText(this.estimate, runEstimate(options, form, shots.length));
    const problem = runProblem(shots, board) ?? (this.requesting ? "Starting…" : null);
    this.runButton.disabled = problem !== null;
    this.addButton.disabled = board.running;
    setText(this.reason, problem ?? "Makes every shot in order, then stitches them");
    this.reason.classList.toggle("sw-reason-blocking", problem !== null && !board.running);

    const progress = runText(board, this.jobs);
    setText(this.progress, progress);
    if (progress !== this.lastProgress) {
      if (this.lastProgress !== "") this.host.announce(progress);
      this.lastProgress = progress;
    }
    this.errors.set(board.error ?? this.requestError);
    this.updateStrip(stripItems(board, this.jobs, shots));
    this.updateFilm(board);
  }

  // -- the shot list ------------------------------------------------------------------------

  private updateRows(shots: string[], board: BoardProgress): void {
    while (this.rows.length < shots.length) this.rows.push(this.newRow(this.rows.length));
    while (this.rows.length > shots.length) (this.rows.pop() as Row).el.remove();
    this.rows.forEach((row, i) => {
      // a row shows the shot at its position; typing in it is never overwritten by its own echo
      if (row.prompt.value !== shots[i] && document.activeElement !== row.prompt) row.prompt.value = shots[i];
      row.prompt.disabled = board.running;
      row.up.disabled = board.running || i === 0;
      row.down.disabled = board.running || i === shots.length - 1;
      row.remove.disabled = board.running;
      row.el.dataset.current = String(board.running && board.current === i);
    });
  }

  private newRow(index: number): Row {
    const n = index + 1;
    const number = h("span", { class: "sw-shot-number", "aria-hidden": "true" }, String(n));
    const prompt = h("textarea", {
      class: "sw-prompt sw-shot-prompt",
      rows: 2,
      "aria-label": `Shot ${n} prompt`,
      placeholder: index === 0 ? "The first shot: subject, setting, camera, light…" : "What happens next…",
      "data-lm-suppress-shortcuts": "true",
    });
    const up = h("button", { type: "button", class: "sw-button sw-button-small", "aria-label": `Move shot ${n} up` }, "↑");
    const down = h("button", { type: "button", class: "sw-button sw-button-small", "aria-label": `Move shot ${n} down` }, "↓");
    const remove = h("button", { type: "button", class: "sw-button sw-button-small", "aria-label": `Remove shot ${n}` }, "Remove");
    const el = h(
      "li",
      { class: "sw-shot-row" },
      number,
      prompt,
      h("span", { class: "sw-shot-actions" }, up, down, remove),
    );
    this.list.appendChild(el);
    const model = this.host.model;
    this.scope.listen(prompt, "input", () => {
      const shots = readShots(model);
      shots[index] = prompt.value;
      writeShots(model, shots);
    });
    const move = (to: number, focus: "up" | "down") => {
      writeShots(model, moveShot(readShots(model), index, to));
      this.update(null);
      const target = this.rows[Math.max(0, Math.min(this.rows.length - 1, to))];
      const button = focus === "up" ? target.up : target.down;
      (button.disabled ? target.prompt : button).focus();
      this.host.announce(`Shot ${n} is now shot ${Math.max(0, Math.min(this.rows.length - 1, to)) + 1}`);
    };
    this.scope.listen(up, "click", () => move(index - 1, "up"));
    this.scope.listen(down, "click", () => move(index + 1, "down"));
    this.scope.listen(remove, "click", () => {
      writeShots(model, removeShot(readShots(model), index));
      this.update(null);
      (this.rows[index]?.prompt ?? this.addButton).focus();
      this.host.announce(`Removed shot ${n}`);
    });
    return { el, number, prompt, up, down, remove };
  }

  private run(): void {
    const shots = readShots(this.host.model).map((s) => s.trim());
    if (this.requesting || runProblem(shots, readBoard(this.host.model)) !== null) return;
    this.requesting = true;
    this.requestError = null;
    this.update(null);
    this.host.run(shots, (error) => {
      this.requesting = false;
      this.requestError = error;
      this.update(null);
    });
  }

  // -- the strip of posters -----------------------------------------------------------------

  private updateStrip(items: StripItem[]): void {
    show(this.stripSection, items.length > 0);
    while (this.stripItems.length < items.length) this.stripItems.push(this.newStripEntry());
    while (this.stripItems.length > items.length) (this.stripItems.pop() as StripEntry).el.remove();
    items.forEach((item, i) => this.fillStrip(this.stripItems[i], item));
  }

  private newStripEntry(): StripEntry {
    const img = h("img", { class: "sw-thumb", alt: "" });
    const placeholder = h("span", { class: "sw-placeholder" });
    const status = statusBadge();
    const caption = h("span", { class: "sw-strip-caption" });
    const thumb = h("span", { class: "sw-gallery-thumb", "aria-hidden": "true" }, img, placeholder);
    const button = h(
      "button",
      { type: "button", class: "sw-strip-item" },
      thumb,
      h("span", { class: "sw-strip-text" }, status, caption),
    );
    const entry: StripEntry = { el: h("li", null, button), button, thumb, img, placeholder, status, caption };
    this.strip.appendChild(entry.el);
    this.scope.listen(button, "click", () => {
      const job = button.dataset.job;
      if (job) this.host.select(job);
    });
    return entry;
  }

  private fillStrip(entry: StripEntry, item: StripItem): void {
    const { job } = item;
    setStatus(entry.status, item.status);
    entry.el.dataset.status = statusLabel(item.status);
    setText(entry.caption, `Shot ${item.index + 1} · ${truncate(item.prompt, 40)}`);
    const playable = job !== null && isPlayable(job);
    entry.button.disabled = !playable;
    if (job) entry.button.dataset.job = job.id;
    else delete entry.button.dataset.job;
    const said = job ? statusText(item.status) : "Waits for the shot before it";
    entry.button.setAttribute(
      "aria-label",
      `Shot ${item.index + 1}: ${said}${playable ? ", play it" : ""} — ${truncate(item.prompt, 80)}`,
    );
    const size = parseSize(readString(this.host.model, "size"));
    const ratio = size ? `${size.width} / ${size.height}` : "";
    if (entry.thumb.style.aspectRatio !== ratio) entry.thumb.style.aspectRatio = ratio;
    const video = job && playable ? this.host.video(job.id) : null;
    const poster = video?.phase === "ready" ? safeImageSrc(video.poster) : null;
    if (poster && entry.img.getAttribute("src") !== poster) entry.img.setAttribute("src", poster);
    show(entry.img, poster !== null);
    show(entry.placeholder, poster === null);
    setText(entry.placeholder, playable ? "▶" : endedWithoutClip(item.status) ? "—" : "…");
  }

  // -- the film -----------------------------------------------------------------------------

  private updateFilm(board: BoardProgress): void {
    const film = filmOf(board, this.jobs);
    show(this.film, film !== null);
    if (!film) return;
    const seconds = film.video?.duration_s;
    setText(
      this.filmText,
      `Saved ${film.video_path ?? "the film"}${seconds ? ` · ${seconds} s` : ""} · ${board.shots.length} shots stitched`,
    );
    const entry = this.host.video(film.id);
    const href = entry.phase === "ready" ? safeMediaSrc(this.host.urls.url(entry.blob)) : null;
    show(this.download, href !== null);
    if (href && this.download.getAttribute("href") !== href) {
      this.download.setAttribute("href", href);
      this.download.setAttribute("download", film.filename ?? `${film.id}.mp4`);
    }
  }
}
