// Small DOM pieces several components share. All text goes in as Text nodes (h()).

import { copyText } from "../clipboard";
import { errorTitle, statusLabel, statusText } from "../format";
import { h, replaceChildren, setText, show } from "../h";
import type { Scope } from "../lifecycle";
import type { Job, JobError, SizeOption } from "../protocol";

/** An error as the user sees it: what it means, what happened, what to do. */
export function errorBlock(error: JobError, ...extra: (Node | null)[]): HTMLElement {
  const detail = error.detail && error.detail !== error.message ? error.detail : null;
  return h(
    "div",
    { class: "sw-error", "data-error-type": error.type },
    h("div", { class: "sw-error-title" }, errorTitle(error)),
    error.message ? h("div", { class: "sw-error-message" }, error.message) : null,
    detail ? h("div", { class: "sw-error-detail" }, detail) : null,
    error.hint ? h("div", { class: "sw-error-hint" }, error.hint) : null,
    error.request_id ? h("div", { class: "sw-error-id" }, "Request id: ", h("code", null, error.request_id)) : null,
    ...extra,
  );
}

/** A slot that shows an error block, or nothing; rebuilt only when the error changes. */
export class ErrorSlot {
  readonly el: HTMLElement;
  private shown: string | null = null;

  constructor(attrs: Record<string, string> = {}) {
    this.el = h("div", { class: "sw-error-slot", ...attrs });
    this.el.hidden = true;
  }

  set(error: JobError | null, ...extra: (Node | null)[]): void {
    const key = error ? JSON.stringify(error) : null;
    if (key === this.shown) return;
    this.shown = key;
    if (error) replaceChildren(this.el, errorBlock(error, ...extra));
    else replaceChildren(this.el);
    show(this.el, error !== null);
  }
}

export function statusBadge(): HTMLElement {
  return h("span", { class: "sw-status" });
}

export function setStatus(badge: HTMLElement, status: string): void {
  const label = statusLabel(status);
  setText(badge, label);
  badge.dataset.status = label;
  badge.title = statusText(label);
}

export function chip(text: string, kind: string, title?: string): HTMLElement {
  return h("span", { class: `sw-chip sw-chip-${kind}`, title: title ?? null }, text);
}

/** A little box with the clip's aspect ratio, drawn in CSS. */
export function aspectIcon(size: Pick<SizeOption, "width" | "height">): HTMLElement {
  const long = 16;
  const ratio = size.width / size.height;
  const icon = h("span", { class: "sw-aspect", "aria-hidden": "true" });
  icon.style.width = `${Math.round(ratio >= 1 ? long : long * ratio)}px`;
  icon.style.height = `${Math.round(ratio >= 1 ? long / ratio : long)}px`;
  return icon;
}

/** "720x1280" → {width, height}, for layout before a video's metadata is known. */
export function parseSize(size: string | null): { width: number; height: number } | null {
  const m = /^(\d+)x(\d+)$/.exec(size ?? "");
  return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
}

/** A clip's shape: the size it was asked in, else (a clip in its first frame's shape) the
 * saved file's, else not known yet. */
export function clipShape(job: Pick<Job, "params" | "video">): { width: number; height: number } | null {
  return parseSize(job.params.size) ?? (job.video ? { width: job.video.width, height: job.video.height } : null);
}

/**
 * A "Copy" button. Its accessible name says what it copies; the outcome is shown on
 * the button for a moment and announced.
 */
export function copyButton(
  scope: Scope,
  what: string,
  text: () => string,
  announce: (message: string) => void,
): HTMLButtonElement {
  const button = h("button", { type: "button", class: "sw-button sw-button-small", "aria-label": `Copy ${what}` }, "Copy");
  let reset: (() => void) | null = null;
  scope.listen(button, "click", () => {
    void copyText(text()).then((ok) => {
      if (scope.disposed) return;
      setText(button, ok ? "Copied" : "Copy failed");
      announce(ok ? `Copied ${what}` : `Could not copy ${what}; select it and copy by hand`);
      reset?.();
      reset = scope.timeout(() => setText(button, "Copy"), 1800);
    });
  });
  return button;
}
