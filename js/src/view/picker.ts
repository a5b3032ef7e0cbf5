// One image field of the model (the first frame — Sora's "Reference image" — or the last
// frame): a text box for a URL or a data URI, "Choose image…" for a local file (uploaded
// by the kernel through the `upload` request, which names the field), a preview drawn from
// local bytes only, and Remove.

import { hostOf, referenceText } from "../format";
import { h, setText, show, uid } from "../h";
import { type Scope, UrlPool } from "../lifecycle";
import { safeImageSrc } from "../media";
import type { FieldOption, ImageField, Options } from "../protocol";
import type { ReferenceCache } from "../session";
import type { ViewState } from "../state";
import { referenceKind } from "../validate";
import { ErrorSlot } from "./parts";

export interface PickerHost {
  references: ReferenceCache;
  options(): Options | null;
  /** a typed value, or "" for none */
  write(value: string): void;
  pickFile(file: File, field: ImageField): void;
}

export class ImagePicker {
  readonly el: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly fileInput = h("input", { type: "file", class: "sw-file", hidden: true, tabindex: "-1", "aria-hidden": "true" });
  private readonly chooseButton = h("button", { type: "button", class: "sw-button" }, "Choose image…");
  private readonly thumb: HTMLImageElement;
  private readonly thumbText = h("span", { class: "sw-ref-thumb sw-ref-host", "aria-hidden": "true" });
  private readonly name = h("span", { class: "sw-ref-name" });
  private readonly removeButton = h("button", { type: "button", class: "sw-button sw-button-small" }, "Remove");
  private readonly preview: HTMLElement;
  private readonly status = h("p", { class: "sw-field-note", id: uid("refstatus") });
  private readonly error = new ErrorSlot();
  private readonly urls: UrlPool;

  constructor(
    readonly field: FieldOption & { name: ImageField },
    private readonly host: PickerHost,
    scope: Scope,
  ) {
    this.urls = new UrlPool(scope);
    const inputId = uid(field.name);
    const labelId = uid("label");
    this.input = h("input", {
      id: inputId,
      type: "text",
      class: "sw-input",
      inputmode: "url",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: `https://… or data:image/…;base64,…${field.required ? "" : "  (optional)"}`,
      "aria-describedby": this.status.id,
      "aria-required": field.required ? "true" : null,
    });
    this.thumb = h("img", { class: "sw-ref-thumb", alt: `${field.label} preview` });
    this.preview = h("div", { class: "sw-ref-preview" }, this.thumb, this.thumbText, this.name, this.removeButton);
    this.el = h(
      "div",
      // not a named group: its name would be the text box's too ("Reference image" twice);
      // the buttons are described by the field's label instead
      { class: "sw-field sw-field-reference", "data-field": field.name },
      h("label", { for: inputId, class: "sw-label", id: labelId }, field.label),
      h("div", { class: "sw-ref-row" }, this.input, this.chooseButton, this.fileInput),
      this.preview,
      this.status,
      this.error.el,
    );
    this.chooseButton.setAttribute("aria-describedby", labelId);
    this.removeButton.setAttribute("aria-describedby", labelId);
    this.listen(scope);
  }

  private listen(scope: Scope): void {
    scope.listen(this.input, "input", () => this.host.write(this.input.value.trim()));
    scope.listen(this.chooseButton, "click", () => this.fileInput.click());
    scope.listen(this.fileInput, "change", () => {
      const file = this.fileInput.files?.[0];
      this.fileInput.value = ""; // choosing the same file again must fire change again
      if (file) this.host.pickFile(file, this.field.name);
    });
    scope.listen(this.removeButton, "click", () => {
      this.host.write("");
      this.input.focus();
    });
  }

  /** Show `value` (with the uploaded file's name, when it is one) and the upload's state. */
  update(value: string, name: string, state: ViewState, problem: string | null): void {
    if (this.input.value.trim() !== value) this.input.value = value;
    this.input.setAttribute("aria-invalid", String(problem !== null && value !== ""));
    const options = this.host.options();
    if (options) this.fileInput.accept = options.image_types.join(",");
    const local = value ? this.host.references.get(value) : undefined;
    this.urls.keepOnly(local ? [local.blob] : []);
    const kind = referenceKind(value);
    // Only local bytes become an <img>: a remote URL would make the browser fetch it.
    const src = local ? safeImageSrc(this.urls.url(local.blob)) : kind === "data" ? safeImageSrc(value) : null;
    if (src) {
      if (this.thumb.getAttribute("src") !== src) this.thumb.setAttribute("src", src);
    } else if (this.thumb.hasAttribute("src")) this.thumb.removeAttribute("src");
    show(this.thumb, src !== null);
    const host = kind === "url" ? hostOf(value) : null;
    setText(this.thumbText, host ? "URL" : "");
    show(this.thumbText, src === null && host !== null);
    setText(this.name, value ? referenceText(value, name || local?.name || null) : "");
    show(this.preview, value !== "");

    const uploading = state.uploading && state.uploading.field === this.field.name ? state.uploading.name : null;
    setText(this.status, this.note(value, kind === "url" && !local ? host : null, uploading));
    show(this.status, this.status.textContent !== "");
    this.error.set(state.imageErrors[this.field.name] ?? null);
    this.chooseButton.disabled = state.uploading !== null || options === null;
  }

  private note(value: string, remoteHost: string | null, uploading: string | null): string {
    if (uploading) return `Uploading ${uploading}…`;
    if (value === "") {
      const need = this.field.required ? "Required" : "Optional";
      const what = this.field.help || "an image";
      return `${need}: ${what}. Choose a file, drop one here, or paste a URL.`;
    }
    return remoteHost ? `Used by the API from ${remoteHost}; not loaded here.` : "";
  }
}
