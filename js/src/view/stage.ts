// The main player: the clip chosen in the gallery or a card (the newest one by
// default), or two clips side by side in compare mode with "Play both".

import { paramsSummary, truncate } from "../format";
import { h, replaceChildren, setText, show } from "../h";
import type { Scope } from "../lifecycle";
import type { Job, Options } from "../protocol";
import type { Stage as StageModel, VideoEntry } from "../state";
import { chip } from "./parts";
import { Player, type PlayerHost } from "./player";

export interface StageHost extends PlayerHost {
  options(): Options | null;
  video(job: string): VideoEntry;
  clearCompare(): void;
  announce(message: string): void;
}

/** The clip is known to have no sound track (its facts say so; unknown is not silent). */
export function isSilent(job: Job): boolean {
  const facts = job.video as { audio?: unknown } | null;
  return facts !== null && facts.audio === null;
}

export class Stage {
  readonly el: HTMLElement;
  private readonly panes: { el: HTMLElement; caption: HTMLElement; player: Player }[];
  private readonly bar: HTMLElement;
  private readonly paneList: HTMLElement;
  private readonly playBoth = h("button", { type: "button", class: "sw-button sw-button-primary" }, "Play both");
  private readonly exitCompare = h("button", { type: "button", class: "sw-button" }, "Exit compare");
  private readonly hint = h("p", { class: "sw-stage-hint" });
  private comparing = false;
  /** set while this code itself plays or pauses, so the sync does not echo */
  private syncing = false;

  constructor(
    private readonly host: StageHost,
    scope: Scope,
  ) {
    this.panes = [0, 1].map(() => {
      const player = new Player(host, scope);
      const caption = h("div", { class: "sw-caption" });
      return { player, caption, el: h("figure", { class: "sw-pane" }, player.el, h("figcaption", null, caption)) };
    });
    this.bar = h("div", { class: "sw-stage-bar" }, this.playBoth, this.exitCompare);
    // The second pane joins the DOM only in compare mode: outside it, the widget holds
    // exactly one main <video>, which is what users (and browser tests) look for.
    this.paneList = h("div", { class: "sw-panes" }, this.panes[0].el);
    this.el = h("section", { class: "sw-stage", "aria-label": "Player" }, this.bar, this.paneList, this.hint);

    scope.listen(this.playBoth, "click", () => this.togglePlayBoth());
    scope.listen(this.exitCompare, "click", () => host.clearCompare());
    // In compare mode, playing or pausing one clip does the same to the other.
    for (const [i, pane] of this.panes.entries()) {
      const other = () => this.panes[1 - i].player;
      scope.listen(pane.player.video, "play", () => this.mirror(other(), "play"));
      scope.listen(pane.player.video, "pause", () => this.mirror(other(), "pause"));
    }
  }

  update(stage: StageModel, comparePicks: number): void {
    this.comparing = stage.mode === "compare";
    this.el.dataset.mode = stage.mode;
    show(this.el, stage.mode !== "empty" || comparePicks > 0);
    show(this.bar, this.comparing);
    const second = this.panes[1];
    if (this.comparing && !second.el.isConnected) this.paneList.appendChild(second.el);
    if (!this.comparing && second.el.parentNode) {
      if (!second.player.video.paused) second.player.video.pause();
      second.el.remove();
    }
    const jobs: Job[] = stage.mode === "compare" ? stage.jobs : stage.mode === "single" ? [stage.job] : [];
    show(this.panes[0].el, jobs.length > 0);
    jobs.forEach((job, i) => {
      const pane = this.panes[i];
      pane.player.show(job, this.host.video(job.id));
      this.caption(pane.caption, job);
    });
    setText(
      this.hint,
      comparePicks === 1 ? "Pick one more clip with its Compare button to play them side by side." : "",
    );
    show(this.hint, comparePicks === 1);
    this.updatePlayBoth();
  }

  private caption(el: HTMLElement, job: Job): void {
    const silent = isSilent(job);
    const key = `${job.id}|${job.synthetic}|${silent}`;
    if (el.dataset.key === key) return;
    el.dataset.key = key;
    replaceChildren(
      el,
      h("span", { class: "sw-caption-prompt" }, truncate(job.params.prompt, 160)),
      h("span", { class: "sw-caption-params" }, paramsSummary(job.params, this.host.options())),
      job.synthetic ? chip("Synthetic", "synthetic") : null,
      silent ? chip("No sound", "silent", "This clip has no sound track") : null,
    );
  }

  private players(): Player[] {
    return this.panes.map((p) => p.player).filter((p) => !p.video.hidden && p.video.getAttribute("src"));
  }

  private videos(): HTMLVideoElement[] {
    return this.players().map((p) => p.video);
  }

  private togglePlayBoth(): void {
    const players = this.players();
    if (players.length < 2) return;
    const anyPlaying = players.some((p) => !p.video.paused);
    this.syncing = true;
    try {
      for (const { video } of players) {
        if (anyPlaying) video.pause();
        else video.currentTime = 0; // start together, so the clips line up
      }
      // two sound tracks at once are noise: each plays muted until the user unmutes it
      if (!anyPlaying) for (const player of players) player.playQuietly();
    } finally {
      this.syncing = false;
    }
    this.host.announce(anyPlaying ? "Paused both clips" : "Playing both clips");
    this.updatePlayBoth();
  }

  private mirror(player: Player, action: "play" | "pause"): void {
    this.updatePlayBoth();
    const other = player.video;
    if (!this.comparing || this.syncing || other.hidden || !other.getAttribute("src")) return;
    if (action === "play" && other.paused) player.playQuietly();
    if (action === "pause" && !other.paused) other.pause();
  }

  private updatePlayBoth(): void {
    const videos = this.videos();
    this.playBoth.disabled = videos.length < 2;
    setText(this.playBoth, videos.some((v) => !v.paused) ? "Pause both" : "Play both");
  }
}
