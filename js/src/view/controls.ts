// The form: prompt, size, duration, reference image, Generate — plus the backend
// badge and the "no API key" notice. Every control mirrors its trait both ways: user
// input is written with set + save_changes, and trait changes from Python are applied
// in update() without disturbing a control that already shows the value.

import { durationLabel, hostOf, referenceText, sizeLabel, truncate } from "../format";
import { h, replaceChildren, setText, show, uid } from "../h";
import { type Scope, UrlPool } from "../lifecycle";
import { safeImageSrc } from "../media";
import { durationsFor, estimateFor, estimateText, fitToModel, overBudget, sizesFor, spendText } from "../cost";
import { readBackend, readDuration, readSpend, readString, writeTraits, type WidgetModel } from "../model";
import type { Job, Options } from "../protocol";
import type { ReferenceCache } from "../session";
import type { ViewState } from "../state";
import { referenceKind, validateForm } from "../validate";
import { ErrorSlot, aspectIcon } from "./parts";

/** The generate shortcut as this platform's users know it. */
const SHORTCUT =
  typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent) ? "⌘+Enter" : "Ctrl+Enter";

export interface ControlsHost {
  model: WidgetModel;
  references: ReferenceCache;
  options(): Options | null;
  state(): ViewState;
  generate(): void;
  pickFile(file: File): void;
  useEmulator(): void;
  /** the job whose parameters fill the controls (Remix), or null */
  remixing(): Job | null;
  cancelRemix(): void;
}

export class Controls {
  readonly el: HTMLElement;
  readonly header: HTMLElement;
  readonly notice: HTMLElement;
  private readonly badge = h("span", { class: "sw-badge sw-badge-emulator" }, "Local emulator — synthetic clips");
  private readonly host = h("span", { class: "sw-host" });
  private readonly spend = h("span", { class: "sw-spend" });
  private readonly modelSelect: HTMLSelectElement;
  private readonly estimate = h("span", { class: "sw-estimate" });
  private readonly emulatorButton = h("button", { type: "button", class: "sw-button sw-button-primary" }, "Use local emulator");
  private readonly prompt: HTMLTextAreaElement;
  private readonly counter = h("span", { class: "sw-counter" });
  private readonly sizeGroup: HTMLElement;
  private readonly durationGroup: HTMLElement;
  private readonly radioName = uid("radio");
  private optionsKey = "";
  private readonly reference: HTMLInputElement;
  private readonly fileInput: HTMLInputElement;
  private readonly chooseButton = h("button", { type: "button", class: "sw-button" }, "Choose image…");
  private readonly preview: HTMLElement;
  private readonly thumb = h("img", { class: "sw-ref-thumb", alt: "Reference image preview" });
  private readonly thumbText = h("span", { class: "sw-ref-thumb sw-ref-host", "aria-hidden": "true" });
  private readonly refName = h("span", { class: "sw-ref-name" });
  private readonly removeButton = h("button", { type: "button", class: "sw-button sw-button-small" }, "Remove");
  private readonly refStatus = h("p", { class: "sw-field-note" });
  private readonly refError = new ErrorSlot();
  private readonly referenceUrls: UrlPool;
  private readonly generateButton = h("button", { type: "button", class: "sw-button sw-button-primary sw-generate" }, "Generate");
  private readonly reason = h("p", { class: "sw-reason", id: uid("reason") });
  private readonly formError = new ErrorSlot({ role: "alert" });
  private readonly remixText = h("span");
  private readonly remixCancel = h("button", { type: "button", class: "sw-button sw-button-small" }, "Cancel remix");
  private readonly remixNote = h("p", { class: "sw-remix-note" }, this.remixText, this.remixCancel);

  constructor(
    private readonly hostApi: ControlsHost,
    private readonly scope: Scope,
  ) {
    const model = hostApi.model;
    this.referenceUrls = new UrlPool(scope);

    this.header = h(
      "div",
      { class: "sw-header" },
      h("span", { class: "sw-title" }, "Sora 2"),
      this.badge,
      this.host,
      this.spend,
    );

    this.notice = h(
      "div",
      { class: "sw-notice", role: "note" },
      h("strong", null, "No Segmind API key is set."),
      h(
        "p",
        null,
        "Set the ",
        h("code", null, "SEGMIND_API_KEY"),
        " environment variable before starting Jupyter, or run ",
        h("code", null, 'sw.configure(api_key="…")'),
        " in a cell. To try it out without a key, the local emulator renders synthetic clips offline, for free.",
      ),
      this.emulatorButton,
    );

    // Prompt
    const promptId = uid("prompt");
    const counterId = uid("count");
    this.counter.id = counterId;
    this.prompt = h("textarea", {
      id: promptId,
      class: "sw-prompt",
      rows: 3,
      placeholder: "Describe the clip: subject, action, setting, camera, light, sound…",
      "aria-describedby": counterId,
      spellcheck: "true",
      // Lumino (JupyterLab) must not treat keys typed here as notebook shortcuts.
      "data-lm-suppress-shortcuts": "true",
    });
    const promptField = h(
      "div",
      { class: "sw-field sw-field-prompt" },
      h("div", { class: "sw-label-row" }, h("label", { for: promptId, class: "sw-label" }, "Prompt"), this.counter),
      this.prompt,
    );

    // Model: sizes and durations follow it
    const modelId = uid("model");
    this.modelSelect = h("select", { id: modelId, class: "sw-select" });
    const modelField = h(
      "div",
      { class: "sw-field" },
      h("label", { for: modelId, class: "sw-label" }, "Model"),
      this.modelSelect,
    );

    // Size and duration
    const sizeLabelId = uid("size");
    this.sizeGroup = h("div", { role: "radiogroup", "aria-labelledby": sizeLabelId, class: "sw-segments" });
    const durationLabelId = uid("duration");
    this.durationGroup = h("div", { role: "radiogroup", "aria-labelledby": durationLabelId, class: "sw-segments" });

    // Reference image
    const referenceId = uid("reference");
    const refStatusId = uid("refstatus");
    this.refStatus.id = refStatusId;
    this.reference = h("input", {
      id: referenceId,
      type: "text",
      class: "sw-input",
      inputmode: "url",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "https://… or data:image/…;base64,…  (optional)",
      "aria-describedby": refStatusId,
      "data-lm-suppress-shortcuts": "true",
    });
    this.fileInput = h("input", { type: "file", class: "sw-file", hidden: true, tabindex: "-1", "aria-hidden": "true" });
    this.preview = h("div", { class: "sw-ref-preview" }, this.thumb, this.thumbText, this.refName, this.removeButton);

    const generateRow = h("div", { class: "sw-generate-row" }, this.generateButton, this.estimate, this.reason);
    this.generateButton.setAttribute("aria-describedby", this.reason.id);

    this.remixNote.hidden = true;
    this.el = h(
      "div",
      { class: "sw-form" },
      this.remixNote,
      promptField,
      h(
        "div",
        { class: "sw-row" },
        modelField,
        h("div", { class: "sw-field" }, h("span", { class: "sw-label", id: sizeLabelId }, "Size"), this.sizeGroup),
        h("div", { class: "sw-field" }, h("span", { class: "sw-label", id: durationLabelId }, "Duration"), this.durationGroup),
      ),
      h(
        "div",
        { class: "sw-field sw-field-reference" },
        h("label", { for: referenceId, class: "sw-label" }, "Reference image"),
        h("div", { class: "sw-ref-row" }, this.reference, this.chooseButton, this.fileInput),
        this.preview,
        this.refStatus,
        this.refError.el,
      ),
      generateRow,
      this.formError.el,
    );

    scope.listen(this.prompt, "input", () => {
      writeTraits(model, { prompt: this.prompt.value });
      this.autosize();
      this.update();
    });
    scope.listen(this.prompt, "keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        event.stopPropagation(); // ours, not the notebook's "run cell"
        hostApi.generate();
      }
    });
    scope.listen(this.reference, "input", () => {
      // A typed value replaces an uploaded file: its shown name no longer applies.
      writeTraits(model, { input_reference: this.reference.value.trim(), reference_name: "" });
      this.update();
    });
    scope.listen(this.chooseButton, "click", () => this.fileInput.click());
    scope.listen(this.fileInput, "change", () => {
      const file = this.fileInput.files?.[0];
      this.fileInput.value = ""; // choosing the same file again must fire change again
      if (file) hostApi.pickFile(file);
    });
    scope.listen(this.removeButton, "click", () => {
      writeTraits(model, { input_reference: "", reference_name: "" });
      this.update();
      this.reference.focus();
    });
    scope.listen(this.modelSelect, "change", () => {
      const options = hostApi.options();
      const name = this.modelSelect.value;
      // a size or duration the new model does not offer gives way to its first
      const fit = options ? fitToModel(options, name, readString(model, "size"), readDuration(model)) : null;
      writeTraits(model, { model: name, ...(fit ?? {}) });
      this.update();
    });
    scope.listen(this.generateButton, "click", () => hostApi.generate());
    scope.listen(this.remixCancel, "click", () => {
      hostApi.cancelRemix();
      this.prompt.focus();
    });
    scope.listen(this.emulatorButton, "click", () => hostApi.useEmulator());
  }

  /** Bring every control in line with the traits and the view state. */
  update(): void {
    const model = this.hostApi.model;
    const options = this.hostApi.options();
    const state = this.hostApi.state();
    this.updateBackend(state);
    this.updateChoices(options);

    const prompt = readString(model, "prompt");
    if (this.prompt.value !== prompt) {
      this.prompt.value = prompt;
      this.autosize();
    }
    const count = Array.from(prompt).length;
    setText(this.counter, `${count} character${count === 1 ? "" : "s"}`);

    const size = readString(model, "size");
    const duration = readDuration(model);
    const chosenModel = readString(model, "model") || options?.model || "";
    if (this.modelSelect.value !== chosenModel) this.modelSelect.value = chosenModel;
    for (const input of this.sizeGroup.querySelectorAll("input")) input.checked = input.value === size;
    for (const input of this.durationGroup.querySelectorAll("input")) input.checked = Number(input.value) === duration;

    const reference = readString(model, "input_reference");
    this.updateReference(reference, readString(model, "reference_name"), state);

    const problems = validateForm({ prompt, size, duration, input_reference: reference, model: chosenModel }, options);
    const refProblem = problems.find((p) => p.field === "input_reference");
    this.reference.setAttribute("aria-invalid", String(!!refProblem));
    this.prompt.setAttribute("aria-invalid", "false");

    const spend = readSpend(model);
    setText(this.spend, spend ? spendText(spend) : "");
    show(this.spend, spend !== null && (spend.jobs > 0 || spend.budget_usd !== null));
    const estimate = options ? estimateFor(options, chosenModel, size, duration) : null;
    setText(this.estimate, estimate ? estimateText(estimate) : "");
    if (estimate && options?.prices_as_of) this.estimate.title = `Segmind's listed prices as of ${options.prices_as_of}`;

    let reason = problems[0]?.message ?? overBudget(estimate, spend) ?? "";
    if (!reason && state.uploading) reason = `Uploading ${state.uploading}…`;
    if (!reason && state.generating) reason = "Submitting…";
    if (!reason && state.switchingBackend) reason = "Starting the local emulator…";
    this.generateButton.disabled = reason !== "";
    setText(this.reason, reason || `${SHORTCUT} in the prompt also generates`);
    this.reason.classList.toggle("sw-reason-blocking", reason !== "");
    this.formError.set(state.formError);

    const remixing = this.hostApi.remixing();
    show(this.remixNote, remixing !== null);
    setText(
      this.remixText,
      remixing ? `Remix of “${truncate(remixing.params.prompt, 50)}”: change what you like; Generate makes a new take. ` : "",
    );
  }

  focusPrompt(): void {
    this.prompt.focus();
  }

  private updateBackend(state: ViewState): void {
    const backend = readBackend(this.hostApi.model);
    show(this.badge, backend?.emulator === true);
    setText(this.host, backend && !backend.emulator && backend.host ? backend.host : "");
    show(this.host, !!backend && !backend.emulator && !!backend.host);
    show(this.notice, backend !== null && !backend.api_key_set && !backend.emulator);
    this.emulatorButton.disabled = state.switchingBackend;
  }

  /** (Re)build the choices when the allowed values change: once, and when the model
   * changes (its sizes and durations). */
  private updateChoices(options: Options | null): void {
    const model = this.hostApi.model;
    const chosen = readString(model, "model") || options?.model || "";
    const key = options ? JSON.stringify([options.models, options.sizes, options.durations, options.image_types, chosen]) : "";
    if (key === this.optionsKey) return;
    this.optionsKey = key;
    replaceChildren(
      this.modelSelect,
      (options?.models ?? []).map((m) => h("option", { value: m.name }, m.name)),
    );
    this.modelSelect.disabled = !options || options.models.length < 2;
    replaceChildren(
      this.sizeGroup,
      (options ? sizesFor(options, chosen) : []).map((option) =>
        this.radio(`${this.radioName}-size`, option.value, [aspectIcon(option), sizeLabel(option)], () =>
          writeTraits(model, { size: option.value }),
        ),
      ),
    );
    replaceChildren(
      this.durationGroup,
      (options ? durationsFor(options, chosen) : []).map((seconds) =>
        this.radio(`${this.radioName}-duration`, String(seconds), [durationLabel(seconds)], () =>
          writeTraits(model, { duration: seconds }),
        ),
      ),
    );
    if (options) this.fileInput.accept = options.image_types.join(",");
    this.chooseButton.disabled = !options;
  }

  private radio(name: string, value: string, face: (Node | string)[], onChange: () => void): HTMLElement {
    const input = h("input", { type: "radio", name, value, class: "sw-segment-input" });
    this.scope.listen(input, "change", () => {
      if (input.checked) onChange();
      this.update();
    });
    const text = face.filter((f): f is string => typeof f === "string").join(" ");
    const icons = face.filter((f): f is Node => typeof f !== "string");
    return h("label", { class: "sw-segment" }, input, h("span", { class: "sw-segment-face" }, ...icons, h("span", null, text)));
  }

  private updateReference(reference: string, name: string, state: ViewState): void {
    if (this.reference.value.trim() !== reference) this.reference.value = reference;
    const local = reference ? this.hostApi.references.get(reference) : undefined;
    this.referenceUrls.keepOnly(local ? [local.blob] : []);
    const kind = referenceKind(reference);
    // Only local bytes become an <img>: a remote URL would make the browser fetch it.
    const src = local ? safeImageSrc(this.referenceUrls.url(local.blob)) : kind === "data" ? safeImageSrc(reference) : null;
    if (src) {
      if (this.thumb.getAttribute("src") !== src) this.thumb.setAttribute("src", src);
    } else if (this.thumb.hasAttribute("src")) this.thumb.removeAttribute("src");
    show(this.thumb, src !== null);
    const host = kind === "url" ? hostOf(reference) : null;
    setText(this.thumbText, host ? "URL" : "");
    show(this.thumbText, src === null && host !== null);
    setText(this.refName, reference ? referenceText(reference, name || local?.name || null) : "");
    show(this.preview, reference !== "");

    const note = state.uploading
      ? `Uploading ${state.uploading}…`
      : reference === ""
        ? "Optional: an image the clip should start from. Choose a file, drop one here, or paste a URL."
        : kind === "url" && !local
          ? `Used by the API from ${host}; not loaded here.`
          : "";
    setText(this.refStatus, note);
    show(this.refStatus, note !== "");
    this.refError.set(state.referenceError);
    this.chooseButton.disabled = state.uploading !== null || this.hostApi.options() === null;
  }

  private autosize(): void {
    // Grow with the text up to a limit (CSS max-height), then scroll.
    this.prompt.style.height = "auto";
    if (this.prompt.scrollHeight > 0) this.prompt.style.height = `${this.prompt.scrollHeight + 2}px`;
  }
}
