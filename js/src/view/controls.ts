// The form: prompt, the Model menu, the chosen model's fields (view/fields.ts), Generate
// with the estimate beside it — plus the backend badge and the "no API key" notice. Every
// control mirrors its trait both ways: user input is written with set + save_changes, and
// trait changes from Python are applied in update() without disturbing a control that
// already shows the value.

import { estimateFor, estimateText, overBudget, spendText } from "../cost";
import { fitToModel, modelOf, type FormState, type TraitPatch } from "../form";
import { truncate } from "../format";
import { h, replaceChildren, setText, show, uid } from "../h";
import type { Scope } from "../lifecycle";
import { readBackend, readForm, readSpend, readString, writeTraits, type WidgetModel } from "../model";
import type { Backend, ImageField, Job, Options } from "../protocol";
import type { ReferenceCache } from "../session";
import type { ViewState } from "../state";
import { unavailableText, validateForm, type Problem } from "../validate";
import { FieldsPanel } from "./fields";
import { ErrorSlot } from "./parts";

/** The generate shortcut as this platform's users know it. */
const SHORTCUT =
  typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent) ? "⌘+Enter" : "Ctrl+Enter";

/** What the Model menu says of a model the API refused this session. */
export const UNAVAILABLE_MARK = "(no longer served here)";

export interface ControlsHost {
  model: WidgetModel;
  references: ReferenceCache;
  options(): Options | null;
  state(): ViewState;
  generate(): void;
  pickFile(file: File, field: ImageField): void;
  useEmulator(): void;
  /** the job whose parameters fill the controls (Remix), or null */
  remixing(): Job | null;
  cancelRemix(): void;
  announce(message: string): void;
}

export class Controls {
  readonly el: HTMLElement;
  readonly header: HTMLElement;
  readonly notice: HTMLElement;
  private readonly title = h("span", { class: "sw-title" }, "Sora 2");
  private readonly badge = h("span", { class: "sw-badge sw-badge-emulator" }, "Local emulator — synthetic clips");
  private readonly host = h("span", { class: "sw-host" });
  private readonly spend = h("span", { class: "sw-spend" });
  private readonly emulatorButton = h("button", { type: "button", class: "sw-button sw-button-primary" }, "Use local emulator");
  private readonly prompt = h("textarea", { id: uid("prompt"), class: "sw-prompt", rows: 3, spellcheck: "true" });
  private readonly counter = h("span", { class: "sw-counter", id: uid("count") });
  private readonly modelSelect = h("select", { id: uid("model"), class: "sw-select" });
  private modelsKey = "";
  private readonly fields: FieldsPanel;
  private readonly estimate = h("span", { class: "sw-estimate" });
  private readonly generateButton = h("button", { type: "button", class: "sw-button sw-button-primary sw-generate" }, "Generate");
  private readonly reason = h("p", { class: "sw-reason", id: uid("reason") });
  private readonly formError = new ErrorSlot({ role: "alert" });
  private readonly remixText = h("span");
  private readonly remixCancel = h("button", { type: "button", class: "sw-button sw-button-small" }, "Cancel remix");
  private readonly remixNote = h("p", { class: "sw-remix-note", hidden: true }, this.remixText, this.remixCancel);

  constructor(
    private readonly hostApi: ControlsHost,
    scope: Scope,
  ) {
    this.fields = new FieldsPanel(
      {
        references: hostApi.references,
        options: () => hostApi.options(),
        form: () => this.form(),
        write: (patch) => this.write(patch),
        pickFile: (file, field) => hostApi.pickFile(file, field),
        referenceName: () => readString(hostApi.model, "reference_name"),
      },
      scope,
    );
    this.header = h("div", { class: "sw-header" }, this.title, this.badge, this.host, this.spend);
    this.notice = keyNotice(this.emulatorButton);
    this.generateButton.setAttribute("aria-describedby", this.reason.id);
    this.el = h(
      "div",
      { class: "sw-form" },
      this.remixNote,
      this.promptField(),
      h("div", { class: "sw-row" }, this.modelField(), this.fields.row),
      this.fields.wide,
      h("div", { class: "sw-generate-row" }, this.generateButton, this.estimate, this.reason),
      this.formError.el,
    );
    this.listen(scope);
  }

  private promptField(): HTMLElement {
    this.prompt.placeholder = "Describe the clip: subject, action, setting, camera, light, sound…";
    this.prompt.setAttribute("aria-describedby", this.counter.id);
    const label = h("label", { for: this.prompt.id, class: "sw-label" }, "Prompt");
    return h("div", { class: "sw-field sw-field-prompt" }, h("div", { class: "sw-label-row" }, label, this.counter), this.prompt);
  }

  private modelField(): HTMLElement {
    const label = h("label", { for: this.modelSelect.id, class: "sw-label" }, "Model");
    return h("div", { class: "sw-field sw-field-model" }, label, this.modelSelect);
  }

  private listen(scope: Scope): void {
    const host = this.hostApi;
    scope.listen(this.prompt, "input", () => {
      this.write({ prompt: this.prompt.value });
      this.autosize();
    });
    scope.listen(this.prompt, "keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        event.stopPropagation(); // ours, not the notebook's "run cell"
        host.generate();
      }
    });
    scope.listen(this.modelSelect, "change", () => this.chooseModel(this.modelSelect.value));
    scope.listen(this.generateButton, "click", () => host.generate());
    scope.listen(this.remixCancel, "click", () => {
      host.cancelRemix();
      this.prompt.focus();
    });
    scope.listen(this.emulatorButton, "click", () => host.useEmulator());
  }

  /** The controls follow the new model: what it takes of the current values stays, the
   * rest gives way to its defaults (the kernel's fit, sent back, has the last word). */
  private chooseModel(name: string): void {
    const options = this.hostApi.options();
    this.write(options ? fitToModel(options, name, this.form()) : { model: name });
    const entry = modelOf(options, name);
    if (entry && readBackend(this.hostApi.model)?.unavailable.includes(name)) this.hostApi.announce(unavailableText(entry));
  }

  private form(): FormState {
    return readForm(this.hostApi.model, this.hostApi.options());
  }

  private write(patch: TraitPatch): void {
    writeTraits(this.hostApi.model, patch);
    this.update();
  }

  /** Bring every control in line with the traits and the view state. */
  update(): void {
    const options = this.hostApi.options();
    const state = this.hostApi.state();
    const form = this.form();
    const backend = readBackend(this.hostApi.model);
    this.updateBackend(backend, state);
    this.updateModels(options, form.model, backend?.unavailable ?? []);
    this.updatePrompt(form.prompt);
    const problems = validateForm(form, options, backend?.unavailable ?? []);
    const byField = new Map(problems.map((p) => [p.field, p.message]));
    this.fields.update(modelOf(options, form.model), form, state, byField);
    this.updateGenerate(form, problems, state, options);
    this.updateRemix();
  }

  focusPrompt(): void {
    this.prompt.focus();
  }

  private updatePrompt(prompt: string): void {
    if (this.prompt.value !== prompt) {
      this.prompt.value = prompt;
      this.autosize();
    }
    const count = Array.from(prompt).length;
    setText(this.counter, `${count} character${count === 1 ? "" : "s"}`);
    this.prompt.setAttribute("aria-invalid", "false");
  }

  private updateBackend(backend: Backend | null, state: ViewState): void {
    show(this.badge, backend?.emulator === true);
    setText(this.host, backend && !backend.emulator && backend.host ? backend.host : "");
    show(this.host, !!backend && !backend.emulator && !!backend.host);
    show(this.notice, backend !== null && !backend.api_key_set && !backend.emulator);
    this.emulatorButton.disabled = state.switchingBackend;
    const spend = readSpend(this.hostApi.model);
    setText(this.spend, spend ? spendText(spend) : "");
    show(this.spend, spend !== null && (spend.jobs > 0 || spend.budget_usd !== null));
  }

  /** The Model menu: every catalogued model, by its label and slug; one the API refused
   * this session is marked (choosing it says why). */
  private updateModels(options: Options | null, chosen: string, unavailable: readonly string[]): void {
    const models = options?.models ?? [];
    const key = JSON.stringify([models.map((m) => [m.name, m.label]), unavailable]);
    if (key !== this.modelsKey) {
      this.modelsKey = key;
      replaceChildren(
        this.modelSelect,
        models.map((m) =>
          h("option", { value: m.name }, `${m.label} · ${m.name}${unavailable.includes(m.name) ? ` ${UNAVAILABLE_MARK}` : ""}`),
        ),
      );
    }
    this.modelSelect.disabled = models.length < 2;
    if (this.modelSelect.value !== chosen) this.modelSelect.value = chosen;
    setText(this.title, modelOf(options, chosen)?.label ?? "Sora 2");
  }

  private updateGenerate(form: FormState, problems: Problem[], state: ViewState, options: Options | null): void {
    const estimate = estimateFor(options, form);
    setText(this.estimate, estimate ? estimateText(estimate) : "");
    if (estimate && options?.prices_as_of) this.estimate.title = `Segmind's listed prices as of ${options.prices_as_of}`;
    let reason = problems[0]?.message ?? overBudget(estimate, readSpend(this.hostApi.model)) ?? "";
    if (!reason && state.uploading) reason = `Uploading ${state.uploading.name}…`;
    if (!reason && state.generating) reason = "Submitting…";
    if (!reason && state.switchingBackend) reason = "Starting the local emulator…";
    this.generateButton.disabled = reason !== "";
    setText(this.reason, reason || `${SHORTCUT} in the prompt also generates`);
    this.reason.classList.toggle("sw-reason-blocking", reason !== "");
    this.formError.set(state.formError);
  }

  private updateRemix(): void {
    const remixing = this.hostApi.remixing();
    show(this.remixNote, remixing !== null);
    setText(
      this.remixText,
      remixing ? `Remix of “${truncate(remixing.params.prompt, 50)}”: change what you like; Generate makes a new take. ` : "",
    );
  }

  private autosize(): void {
    // Grow with the text up to a limit (CSS max-height), then scroll.
    this.prompt.style.height = "auto";
    if (this.prompt.scrollHeight > 0) this.prompt.style.height = `${this.prompt.scrollHeight + 2}px`;
  }
}

/** "No Segmind API key is set", how to set one, and the emulator to try without. */
function keyNotice(emulatorButton: HTMLElement): HTMLElement {
  return h(
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
    emulatorButton,
  );
}
