// The record output drawn by the view itself, under the widget, where the host never
// updates an output once it is shown: Voilà renders each output once, from the notebook it
// executed, and marimo shows what a cell returns (`mo.ui.anywidget(w)`: the widget alone).
// There the kernel fills `record_output` (views.ClipView); where the record output is an
// output of its own, updated by its display id and saved with the notebook (JupyterLab,
// Notebook 7), it leaves the trait {} and nothing is drawn here.
//
// Every value reaches the page as text (h()); a poster only as a JPEG data URI.

import { h, replaceChildren } from "./h";
import { Scope } from "./lifecycle";
import type { WidgetModel } from "./model";
import "./records.css";

const POSTER_PREFIX = "data:image/jpeg;base64,";

/** One record, as much of it as the strip shows (the schema's names). */
export interface ShownRecord {
  id: string;
  status: string;
  prompt: string;
  duration: string;
  size: string;
  requestId: string | null;
  sha256: string | null;
  synthetic: boolean;
  note: string | null;
  error: string | null;
  kind: string;
  parts: number;
}

export interface ShownRecords {
  records: ShownRecord[];
  posters: Record<string, string>;
}

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** `record_output`, or null when the kernel keeps the record output elsewhere ({}). */
export function readRecordOutput(model: WidgetModel): ShownRecords | null {
  const value = model.get("record_output") as { generations?: unknown; posters?: unknown } | undefined;
  if (!value || !Array.isArray(value.generations)) return null;
  const posters: Record<string, string> = {};
  if (value.posters && typeof value.posters === "object") {
    for (const [id, uri] of Object.entries(value.posters as Record<string, unknown>)) {
      if (typeof uri === "string" && uri.startsWith(POSTER_PREFIX)) posters[id] = uri;
    }
  }
  const records = value.generations
    .filter((r): r is Record<string, unknown> => !!r && typeof r === "object" && typeof (r as { id?: unknown }).id === "string")
    .map((r): ShownRecord => {
      const params = (r.params && typeof r.params === "object" ? r.params : {}) as Record<string, unknown>;
      const error = (r.error && typeof r.error === "object" ? r.error : null) as Record<string, unknown> | null;
      return {
        id: String(r.id),
        status: text(r.status) ?? "UNKNOWN",
        prompt: String(params.prompt ?? ""),
        duration: params.duration === undefined || params.duration === null ? "?" : String(params.duration),
        size: String(params.size ?? ""),
        requestId: text(r.request_id),
        sha256: text(r.sha256),
        synthetic: r.synthetic === true,
        note: text(r.note),
        error: error ? (text(error.detail) ?? text(error.message)) : null,
        kind: text(r.kind) ?? "clip",
        parts: Array.isArray(r.parts) ? r.parts.length : 0,
      };
    });
  return { records, posters };
}

function facts(record: ShownRecord): string {
  const origin = record.requestId
    ? `request ${record.requestId}`
    : record.kind === "film"
      ? `film of ${record.parts} clips`
      : "no request id";
  const sha = record.sha256 ? ` · sha256 ${record.sha256.slice(0, 12)}…` : "";
  return `${origin}${sha}`;
}

function row(record: ShownRecord, poster: string | undefined): HTMLElement {
  return h(
    "li",
    { class: "sw-record", "data-status": record.status, "data-record-id": record.id },
    poster ? h("img", { class: "sw-record-poster", src: poster, alt: "", width: 96 }) : null,
    h(
      "div",
      { class: "sw-record-text" },
      h(
        "div",
        { class: "sw-record-head" },
        h("span", { class: "sw-status", "data-status": record.status }, record.status),
        record.synthetic ? h("span", { class: "sw-status sw-chip-synthetic" }, "synthetic") : null,
        h("span", { class: "sw-record-params" }, `${record.duration}s ${record.size}`),
        h("span", { class: "sw-record-prompt" }, record.prompt),
      ),
      h("div", { class: "sw-record-facts" }, facts(record)),
      record.note ? h("div", { class: "sw-record-note" }, record.note) : null,
      record.error ? h("div", { class: "sw-record-error" }, record.error) : null,
    ),
  );
}

/** Draw `shown` into `node` (hidden when null: the record output is elsewhere). */
export function drawRecords(node: HTMLElement, shown: ShownRecords | null): void {
  node.hidden = shown === null;
  if (shown === null) {
    replaceChildren(node);
    return;
  }
  const heading = h("div", { class: "sw-record-title" }, "Record");
  if (shown.records.length === 0) {
    replaceChildren(node, heading, h("div", { class: "sw-record-empty" }, "sora-widget: no generations yet"));
    return;
  }
  replaceChildren(node, heading, h("ul", { class: "sw-record-list" }, shown.records.map((r) => row(r, shown.posters[r.id]))));
}

/** Mount the record output under a view, in `el`; returns its cleanup. */
export function mountRecordOutput(model: WidgetModel, el: HTMLElement): () => void {
  const scope = new Scope();
  const node = h("section", { class: "sora-widget-record-output", "aria-label": "Record of generations" });
  el.appendChild(node);
  scope.add(() => node.remove());
  const draw = () => drawRecords(node, readRecordOutput(model));
  scope.on(model, "change:record_output", draw);
  draw();
  return () => scope.dispose();
}
