// The header of the batch view (sw.generate_many): which batch, a progress bar over its
// items, and what became of them so far.

import { batchPercent, batchSummary } from "../batch";
import { h, setText } from "../h";
import type { BatchProgress } from "../protocol";

export class BatchHeader {
  readonly el: HTMLElement;
  private readonly title = h("div", { class: "sw-section-title" });
  private readonly fill = h("div", { class: "sw-progress-fill" });
  private readonly bar: HTMLElement;
  private readonly summary = h("div", { class: "sw-batch-summary" });

  constructor() {
    this.bar = h(
      "div",
      { class: "sw-progress", role: "progressbar", "aria-label": "Batch progress", "aria-valuemin": 0, "aria-valuemax": 100 },
      this.fill,
    );
    this.el = h(
      "section",
      { class: "sw-batch-header" },
      this.title,
      h("div", { class: "sw-progress-row" }, this.bar, this.summary),
    );
  }

  update(b: BatchProgress): void {
    setText(this.title, b.id ? `Batch ${b.id} · ${b.total} items` : `Batch · ${b.total} items`);
    const percent = batchPercent(b);
    const now = String(percent);
    if (this.bar.getAttribute("aria-valuenow") !== now) {
      this.bar.setAttribute("aria-valuenow", now);
      this.fill.style.transform = `scaleX(${percent / 100})`;
    }
    const text = batchSummary(b);
    this.bar.setAttribute("aria-valuetext", `${percent}% — ${text}`);
    setText(this.summary, text);
    this.el.dataset.complete = String(b.total > 0 && b.done >= b.total);
  }
}
