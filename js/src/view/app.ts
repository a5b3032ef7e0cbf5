// One view of a SoraWidget: wires the traits, the view state and the model's session
// to the components (controls, main player, job cards, gallery). Everything acquired
// here is owned by `scope` and released by destroy().

import { batchSummary } from "../batch";
import { Dispatcher, type MessageChannel } from "../dispatch";
import { fieldOf, isImageField, jobForm, modelOf, type FormState } from "../form";
import { errorTitle, statusLabel, truncate } from "../format";
import { h, replaceChildren, setText, show } from "../h";
import { Scope, UrlPool } from "../lifecycle";
import { readBackend, readBatch, readClock, readForm, readJobs, readMode, readOptions, writeTraits, type WidgetModel } from "../model";
import { TRAITS_KEYS, type ImageField, type Job, type Mode, type Options } from "../protocol";
import type { Session } from "../session";
import { initialViewState, isPlayable, stageOf, viewReducer, type ViewAction, type ViewState } from "../state";
import { isTicking } from "../timing";
import { validateForm } from "../validate";
import { BatchHeader } from "./batchbar";
import { JobCard, type CardHost } from "./card";
import { Controls } from "./controls";
import { Gallery, type GalleryOptions } from "./gallery";
import { keepKeysInside } from "./keys";
import { Requests } from "./requests";
import { Stage } from "./stage";
import { StoryboardPanel } from "../storyboard/panel";

/** The traits a view redraws on (`mode` rebuilds it instead): every synced trait. */
const TRAITS = TRAITS_KEYS.filter((trait) => trait !== "mode");

/** What each mode shows. "full": the SoraWidget (controls, player, job cards, gallery);
 * "job": one compact card (the %sora view); "batch": a batch's view — no controls and
 * no cards (a thousand items would be a thousand cards), every item's status in the
 * gallery, a clip fetched and played when chosen; "storyboard": a Storyboard's shot
 * list, its poster strip and the film in the player. */
interface Layout {
  controls: boolean;
  storyboard: boolean;
  batchHeader: boolean;
  stage: boolean;
  cards: boolean;
  gallery: GalleryOptions | false;
  fetchEveryClip: boolean;
}

const LAYOUTS: Record<Mode, Layout> = {
  full: {
    controls: true,
    storyboard: false,
    batchHeader: false,
    stage: true,
    cards: true,
    gallery: { title: "History", newestFirst: true },
    fetchEveryClip: true,
  },
  job: {
    controls: false,
    storyboard: false,
    batchHeader: false,
    stage: false,
    cards: true,
    gallery: false,
    fetchEveryClip: true,
  },
  batch: {
    controls: false,
    storyboard: false,
    batchHeader: true,
    stage: true,
    cards: false,
    gallery: { title: "Items", newestFirst: false },
    fetchEveryClip: false,
  },
  storyboard: {
    controls: false,
    storyboard: true,
    batchHeader: false,
    stage: true,
    cards: false,
    gallery: false,
    fetchEveryClip: true,
  },
};

export class SoraView {
  readonly root: HTMLElement;
  private readonly scope = new Scope();
  private readonly requests: Requests;
  private readonly urls: UrlPool;
  private readonly live = h("div", { class: "sw-visually-hidden", role: "status", "aria-live": "polite" });
  private state: ViewState = initialViewState;
  private content: Scope | null = null;
  private mode: Mode = "full";
  private controls: Controls | null = null;
  private board: StoryboardPanel | null = null;
  private batchHeader: BatchHeader | null = null;
  private batchAnnounced = false;
  private stage: Stage | null = null;
  private gallery: Gallery | null = null;
  private jobList: HTMLElement | null = null;
  private emptyNote: HTMLElement | null = null;
  private jobsSection: HTMLElement | null = null;
  private readonly cards = new Map<string, { card: JobCard; scope: Scope }>();
  private stopTicker: (() => void) | null = null;
  private statuses = new Map<string, string>();
  private rendering = false;
  private dirty = false;

  constructor(
    private readonly model: WidgetModel,
    el: HTMLElement,
    private readonly session: Session,
  ) {
    const dispatcher = new Dispatcher(model as unknown as MessageChannel);
    this.scope.add(() => dispatcher.dispose());
    this.requests = new Requests(dispatcher, this.scope, {
      state: () => this.state,
      dispatch: (action) => this.dispatch(action),
      announce: (message) => this.announce(message),
      options: () => this.options(),
      references: session.references,
    });
    this.urls = new UrlPool(this.scope);
    this.root = h("div", { class: "sora-widget" });
    el.appendChild(this.root);
    this.scope.add(() => this.root.remove());
    keepKeysInside(this.root, this.scope);

    for (const trait of TRAITS) this.scope.on(model, `change:${trait}`, () => this.update());
    this.scope.on(model, "change:mode", () => this.mount());
    this.scope.add(session.videos.subscribe(() => this.update()));
    this.mount();
  }

  destroy(): void {
    this.scope.dispose();
  }

  // -- building -------------------------------------------------------------------------------

  /** Build the DOM for the current mode (again, if Python switches it). */
  private mount(): void {
    this.content?.dispose();
    this.cards.clear();
    this.stopTicker = null;
    this.statuses = new Map();
    const scope = this.scope.child();
    this.content = scope;
    this.mode = readMode(this.model);
    this.root.dataset.mode = this.mode;

    this.batchHeader = null;
    const jobsTitleId = `sw-jobs-${Math.random().toString(36).slice(2, 8)}`;
    this.jobList = h("ol", { class: "sw-job-list" });
    this.emptyNote = h("p", { class: "sw-empty" });
    this.jobsSection = h(
      "section",
      { class: "sw-jobs", "aria-labelledby": jobsTitleId },
      h("div", { class: "sw-section-title", id: jobsTitleId, hidden: this.mode === "job" }, "Jobs"),
      this.emptyNote,
      this.jobList,
    );

    const layout = LAYOUTS[this.mode];
    this.controls = layout.controls ? this.newControls(scope) : null;
    this.board = layout.storyboard ? this.newBoard(scope) : null;
    this.batchHeader = layout.batchHeader ? new BatchHeader() : null;
    this.stage = layout.stage ? this.newStage(scope) : null;
    this.gallery = layout.gallery ? this.newGallery(scope, layout.gallery) : null;
    const parts: (HTMLElement | null | undefined)[] = [
      this.live,
      this.controls?.header,
      this.controls?.notice,
      this.controls?.el,
      this.board?.el,
      this.batchHeader?.el,
      this.stage?.el,
      this.board?.film,
      layout.cards ? this.jobsSection : null,
      this.gallery?.el,
    ];
    replaceChildren(this.root, ...parts.filter((part): part is HTMLElement => !!part));
    if (layout.controls) this.listenForDrops(scope);
    this.update();
  }

  private newControls(scope: Scope): Controls {
    return new Controls(
      {
        model: this.model,
        references: this.session.references,
        options: () => this.options(),
        state: () => this.state,
        generate: () => this.generate(),
        pickFile: (file, field) => this.requests.pickFile(file, field),
        useEmulator: () => this.requests.useEmulator(),
        remixing: () => this.remixing(),
        cancelRemix: () => this.dispatch({ type: "clearRemix" }),
        announce: (message) => this.announce(message),
      },
      scope,
    );
  }

  private newBoard(scope: Scope): StoryboardPanel {
    return new StoryboardPanel(
      {
        model: this.model,
        urls: this.urls,
        options: () => this.options(),
        video: (job) => this.session.videos.get(job),
        select: (job) => this.select(job),
        run: (shots, done) => this.requests.runStoryboard(shots, done),
        announce: (message) => this.announce(message),
      },
      scope,
    );
  }

  private newStage(scope: Scope): Stage {
    return new Stage(
      {
        urls: this.urls,
        options: () => this.options(),
        video: (job) => this.session.videos.get(job),
        retryVideo: (job) => this.session.videos.retry(job),
        clearCompare: () => this.dispatch({ type: "clearCompare" }),
        announce: (message) => this.announce(message),
      },
      scope,
    );
  }

  private newGallery(scope: Scope, options?: GalleryOptions): Gallery {
    return new Gallery(
      {
        options: () => this.options(),
        video: (job) => this.session.videos.get(job),
        select: (job) => this.select(job),
        focusCard: (job) => this.cards.get(job)?.card.focus(),
      },
      scope,
      options,
    );
  }

  // -- rendering ------------------------------------------------------------------------------

  /** Bring the DOM in line with the traits and the state. Re-entrant calls coalesce. */
  private update(): void {
    if (this.scope.disposed || !this.content) return;
    if (this.rendering) {
      this.dirty = true;
      return;
    }
    this.rendering = true;
    try {
      do {
        this.dirty = false;
        this.render();
      } while (this.dirty);
    } finally {
      this.rendering = false;
    }
  }

  private render(): void {
    const jobs = readJobs(this.model);
    this.state = viewReducer(this.state, { type: "jobsChanged", jobs });
    const layout = LAYOUTS[this.mode];
    const batch = layout.batchHeader;
    // Ask for every finished clip (once per model): the player and the gallery need them.
    // A batch's clips are fetched one by one as they are chosen: it may hold a thousand.
    if (layout.fetchEveryClip) for (const job of jobs) if (isPlayable(job)) this.session.videos.ensure(job.id);

    this.controls?.update();
    this.board?.update(jobs);
    this.batchHeader?.update(readBatch(this.model));
    const stage = batch && this.state.selected === null ? ({ mode: "empty" } as const) : stageOf(jobs, this.state);
    if (batch && stage.mode === "single") this.session.videos.ensure(stage.job.id);
    const current = new Set(stage.mode === "single" ? [stage.job.id] : stage.mode === "compare" ? stage.jobs.map((j) => j.id) : []);
    this.stage?.update(stage, this.state.compare.length);
    this.gallery?.update(jobs, current);
    if (batch) {
      // One announcement for the batch, not one per item.
      this.announceBatch();
      return;
    }
    this.renderCards(jobs, current);
    this.announceTransitions(jobs);
    this.updateTicker(jobs);
  }

  private announceBatch(): void {
    const b = readBatch(this.model);
    const complete = b.total > 0 && b.done >= b.total;
    if (complete && !this.batchAnnounced) this.announce(`Batch finished: ${batchSummary(b)}`);
    this.batchAnnounced = complete;
  }

  private renderCards(jobs: readonly Job[], current: ReadonlySet<string>): void {
    const list = this.jobList as HTMLElement;
    const host = this.cardHost();
    const kernelClockMs = readClock(this.model);
    const offsetMs = this.session.clock.offsetMs;
    const nowMs = Date.now();
    const seen = new Set<string>();
    let before: ChildNode | null = list.firstChild;
    for (let i = jobs.length - 1; i >= 0; i -= 1) {
      const job = jobs[i];
      seen.add(job.id);
      let entry = this.cards.get(job.id);
      if (!entry) {
        const scope = (this.content as Scope).child();
        entry = { card: new JobCard(host, scope, job), scope };
        this.cards.set(job.id, entry);
      }
      entry.card.update(job, {
        kernelClockMs,
        offsetMs,
        nowMs,
        busy: this.state.busy[job.id],
        actionError: this.state.jobErrors[job.id],
        playing: current.has(job.id),
        comparing: this.state.compare.includes(job.id),
      });
      if (entry.card.el !== before) list.insertBefore(entry.card.el, before);
      before = entry.card.el.nextSibling;
    }
    for (const [id, entry] of this.cards) {
      if (seen.has(id)) continue;
      entry.scope.dispose();
      entry.card.el.remove();
      this.cards.delete(id);
    }
    const empty = jobs.length === 0;
    show(this.emptyNote as HTMLElement, empty);
    setText(
      this.emptyNote as HTMLElement,
      this.mode === "job" ? "Starting the job…" : "No clips yet. Type a prompt and press Generate; the clip appears here.",
    );
  }

  private cardHost(): CardHost {
    return {
      mode: this.mode,
      urls: this.urls,
      options: () => this.options(),
      video: (job) => this.session.videos.get(job),
      retryVideo: (job) => this.session.videos.retry(job),
      stop: (job) => this.requests.stop(job),
      resume: (job) => this.requests.resume(job),
      select: (job) => this.select(job),
      toggleCompare: (job) => this.toggleCompare(job),
      continueFrom: (job, prompt) => this.requests.continueFrom(job, prompt),
      remix: LAYOUTS[this.mode].controls ? (job) => this.remix(job) : null,
      // where the widget's model ends on an image: the next clip can end on this clip's last frame
      endFrame: LAYOUTS[this.mode].controls ? (job) => this.requests.endFrame(job) : null,
      takesLastFrame: () => fieldOf(modelOf(this.options(), this.form().model), "last_frame") !== null,
      announce: (message) => this.announce(message),
    };
  }

  /** Tick once a second while some job is running; stop when none is. */
  private updateTicker(jobs: readonly Job[]): void {
    const needed = jobs.some(isTicking);
    if (needed && !this.stopTicker && this.content) {
      this.stopTicker = this.content.interval(() => {
        const now = Date.now();
        for (const { card } of this.cards.values()) card.tick(now);
      }, 1000);
    } else if (!needed && this.stopTicker) {
      this.stopTicker();
      this.stopTicker = null;
    }
  }

  /** Tell screen reader users when a job changes status (not on first sight). */
  private announceTransitions(jobs: readonly Job[]): void {
    const messages: string[] = [];
    const next = new Map<string, string>();
    for (const job of jobs) {
      const key = `${job.status}|${job.error?.type ?? ""}`;
      next.set(job.id, key);
      const before = this.statuses.get(job.id);
      if (before !== undefined && before !== key) {
        const what = `“${truncate(job.params.prompt, 40)}”`;
        messages.push(
          job.error ? `${what}: ${errorTitle(job.error)}` : `${what}: ${statusLabel(job.status).toLowerCase()}`,
        );
      }
    }
    this.statuses = next;
    if (messages.length) this.announce(messages.join(". "));
  }

  private announce(message: string): void {
    // Re-setting identical text is not re-announced; a trailing no-break space toggles it.
    this.live.textContent = this.live.textContent === message ? `${message}\u00a0` : message;
  }

  // -- actions --------------------------------------------------------------------------------

  private dispatch(action: ViewAction): void {
    const next = viewReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    this.update();
  }

  private options(): Options | null {
    return readOptions(this.model);
  }

  private form(): FormState {
    return readForm(this.model, this.options());
  }

  private generate(): void {
    const s = this.state;
    if (s.generating || s.uploading || s.switchingBackend) return;
    const options = this.options();
    const form = this.form();
    const problems = validateForm(form, options, readBackend(this.model)?.unavailable ?? []);
    const model = modelOf(options, form.model);
    if (problems.length > 0 || !model) {
      this.announce(problems[0]?.message ?? "Choose a model");
      if (problems[0]?.field === "prompt") this.controls?.focusPrompt();
      return;
    }
    this.requests.generate(form, model, this.remixing());
  }

  /** The job whose parameters fill the controls (Remix), while it is still listed. */
  private remixing(): Job | null {
    const id = this.state.remixOf;
    return id === null ? null : (readJobs(this.model).find((j) => j.id === id) ?? null);
  }

  private remix(id: string): void {
    const job = readJobs(this.model).find((j) => j.id === id);
    if (!job) return;
    writeTraits(this.model, jobForm(job));
    this.dispatch({ type: "remix", job: id });
    this.controls?.el.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
    this.controls?.focusPrompt();
    this.announce(`The controls hold the parameters of “${truncate(job.params.prompt, 40)}”: change what you like, then Generate`);
  }

  private select(job: string): void {
    this.dispatch({ type: "select", job });
    this.stage?.el.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
  }

  private toggleCompare(job: string): void {
    this.dispatch({ type: "toggleCompare", job });
    if (this.state.compare.length === 2) {
      this.announce("Comparing two clips side by side in the player");
      this.stage?.el.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
    }
  }

  // -- drag and drop --------------------------------------------------------------------------

  private listenForDrops(scope: Scope): void {
    const root = this.root;
    const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes("Files");
    const over = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault(); // without this the browser would open the file instead
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
      root.classList.add("sw-dragging");
    };
    scope.listen(root, "dragenter", over);
    scope.listen(root, "dragover", over);
    scope.listen(root, "dragleave", (event) => {
      const to = event.relatedTarget as Node | null;
      if (!to || !root.contains(to)) root.classList.remove("sw-dragging");
    });
    scope.listen(root, "drop", (event) => {
      root.classList.remove("sw-dragging");
      if (!hasFiles(event)) return;
      event.preventDefault();
      const file = event.dataTransfer?.files?.[0];
      const field = this.dropField(event.target);
      if (file && field) this.requests.pickFile(file, field);
      else if (file) this.announce(`${modelOf(this.options(), this.form().model)?.label ?? "This model"} takes no image`);
    });
  }

  /** The image field a file dropped on `target` is for: the picker it lands on, else the
   * first frame (or the only image field the model has). */
  private dropField(target: EventTarget | null): ImageField | null {
    const picker = target instanceof Element ? target.closest<HTMLElement>("[data-field]") : null;
    const named = picker?.dataset.field;
    if (named && isImageField(named)) return named;
    const model = modelOf(this.options(), this.form().model);
    return model?.fields.find((f) => f.kind === "image" && isImageField(f.name))?.name as ImageField | undefined ?? null;
  }
}
