// The chosen model's fields as controls, built from `options.models[i].fields`: a short
// choice is a row of radio segments, a long one a menu, a switch for on/off, a number box, a
// text box, and an image picker for each image field. Each control's accessible name is
// its field's label ("Duration", "Size", "Aspect ratio", "Reference image", …). A field the
// model lacks has no control. Every control mirrors its value both ways: input is written
// through the host, trait changes from Python arrive in update().

import { controlKind, fieldValue, isImageField, patchFor, type FieldValue, type FormState, type TraitPatch } from "../form";
import { durationLabel, sizeLabel } from "../format";
import { h, uid } from "../h";
import type { Scope } from "../lifecycle";
import type { ChoiceOption, FieldOption, ImageField, ModelOption, Options } from "../protocol";
import type { ReferenceCache } from "../session";
import type { ViewState } from "../state";
import { aspectIcon } from "./parts";
import { ImagePicker } from "./picker";

export interface FieldsHost {
  references: ReferenceCache;
  options(): Options | null;
  form(): FormState;
  /** write the traits a control changed, then bring the controls in line */
  write(patch: TraitPatch): void;
  pickFile(file: File, field: ImageField): void;
  /** the shown name of an uploaded first frame (the `reference_name` trait) */
  referenceName(): string;
}

interface Control {
  readonly el: HTMLElement;
  /** a row of its own (pickers, text) rather than a place in the row of choices */
  readonly wide: boolean;
  update(value: FieldValue, problem: string | null): void;
}

/** The controls of one model's fields, rebuilt when the model (or what it offers) changes. */
export class FieldsPanel {
  /** the short controls, beside the Model menu */
  readonly row = h("div", { class: "sw-fields" });
  /** the wide ones (images, text), each on a row of its own */
  readonly wide = h("div", { class: "sw-fields-wide" });
  private controls: { field: FieldOption; control: Control; picker: ImagePicker | null }[] = [];
  private key = "";
  private scope: Scope | null = null;

  constructor(
    private readonly host: FieldsHost,
    private readonly parent: Scope,
  ) {}

  /** Show the form's values; rebuild first when `model` is not what is shown. */
  update(model: ModelOption | null, form: FormState, state: ViewState, problems: ReadonlyMap<string, string>): void {
    const options = this.host.options();
    const key = model ? JSON.stringify([model, options?.sizes ?? []]) : "";
    if (key !== this.key) this.rebuild(model, key);
    for (const { field, control, picker } of this.controls) {
      const problem = problems.get(field.name) ?? null;
      const value = fieldValue(form, field.name);
      if (picker) picker.update(typeof value === "string" ? value : "", field.name === "first_frame" ? this.host.referenceName() : "", state, problem);
      else control.update(value, problem);
    }
  }

  private rebuild(model: ModelOption | null, key: string): void {
    this.key = key;
    this.scope?.dispose();
    const scope = this.parent.child();
    this.scope = scope;
    this.controls = (model?.fields ?? []).map((field) => this.build(field, scope));
    this.row.replaceChildren(...this.controls.filter((c) => !c.control.wide).map((c) => c.control.el));
    this.wide.replaceChildren(...this.controls.filter((c) => c.control.wide).map((c) => c.control.el));
  }

  private build(field: FieldOption, scope: Scope): { field: FieldOption; control: Control; picker: ImagePicker | null } {
    const write = (value: FieldValue) => this.host.write(patchFor(this.host.form(), field.name, value));
    if (isImageField(field.name) && field.kind === "image") {
      const picker = new ImagePicker(field as FieldOption & { name: ImageField }, { ...this.host, write }, scope);
      return { field, picker, control: { el: picker.el, wide: true, update: () => undefined } };
    }
    const kind = controlKind(field);
    const control =
      kind === "radio"
        ? radioControl(field, write, scope, this.host.options())
        : kind === "select"
          ? selectControl(field, write, scope)
          : kind === "switch"
            ? switchControl(field, write, scope)
            : kind === "number"
              ? numberControl(field, write, scope)
              : textControl(field, write, scope);
    return { field, control, picker: null };
  }
}

/** Radio segments named by a label of their own ("Size"); each shows its choice's label
 * ("Portrait 720×1280", "8 s", "16:9 landscape"), with the clip's shape drawn where it has one. */
function radioControl(field: FieldOption, write: (value: FieldValue) => void, scope: Scope, options: Options | null): Control {
  const labelId = uid(field.name);
  const name = uid("radio");
  const inputs = field.choices.map((choice) => {
    const input = h("input", { type: "radio", name, value: String(choice.value), class: "sw-segment-input" });
    scope.listen(input, "change", () => {
      if (input.checked) write(choice.value);
    });
    return { input, choice };
  });
  const group = h(
    "div",
    { role: "radiogroup", "aria-labelledby": labelId, class: "sw-segments" },
    inputs.map(({ input, choice }) => h("label", { class: "sw-segment" }, input, segmentFace(field, choice, options))),
  );
  return {
    el: h("div", { class: "sw-field", "data-field": field.name }, h("span", { class: "sw-label", id: labelId }, field.label), group),
    wide: false,
    update(value, problem) {
      for (const { input, choice } of inputs) input.checked = choice.value === value;
      group.setAttribute("aria-invalid", String(problem !== null));
    },
  };
}

function segmentFace(field: FieldOption, choice: ChoiceOption, options: Options | null): HTMLElement {
  const size = field.name === "size" ? options?.sizes.find((s) => s.value === choice.value) : undefined;
  const shape = size ?? (field.name === "aspect_ratio" ? ratioOf(String(choice.value)) : null);
  const text = size ? sizeLabel(size) : field.name === "duration" ? durationLabel(Number(choice.value)) : choice.label;
  return h("span", { class: "sw-segment-face" }, shape ? aspectIcon(shape) : null, h("span", null, text));
}

/** "16:9" → its shape, for the little picture beside an aspect ratio. */
function ratioOf(aspect: string): { width: number; height: number } | null {
  const m = /^(\d+):(\d+)$/.exec(aspect);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
}

function labelled(field: FieldOption, control: HTMLElement, ...after: (HTMLElement | null)[]): HTMLElement {
  control.id = uid(field.name);
  return h(
    "div",
    { class: "sw-field", "data-field": field.name },
    h("label", { for: control.id, class: "sw-label" }, field.label),
    control,
    ...after,
  );
}

/** A note under a control saying what the field does, read with it (aria-describedby). */
function helpOf(field: FieldOption, control: HTMLElement): HTMLElement | null {
  if (!field.help) return null;
  const note = h("p", { class: "sw-field-note", id: uid("help") }, field.help);
  control.setAttribute("aria-describedby", note.id);
  return note;
}

function selectControl(field: FieldOption, write: (value: FieldValue) => void, scope: Scope): Control {
  const select = h(
    "select",
    { class: "sw-select" },
    field.choices.map((choice, i) => h("option", { value: String(i) }, field.name === "duration" ? durationLabel(Number(choice.value)) : choice.label)),
  );
  scope.listen(select, "change", () => write(field.choices[Number(select.value)]?.value ?? null));
  return {
    el: labelled(field, select),
    wide: false,
    update(value, problem) {
      const index = String(field.choices.findIndex((c) => c.value === value));
      if (select.value !== index) select.value = index;
      select.setAttribute("aria-invalid", String(problem !== null));
    },
  };
}

function switchControl(field: FieldOption, write: (value: FieldValue) => void, scope: Scope): Control {
  const input = h("input", { type: "checkbox", role: "switch", class: "sw-switch" });
  scope.listen(input, "change", () => write(input.checked));
  const help = helpOf(field, input);
  return {
    el: labelled(field, input, help),
    wide: false,
    update(value) {
      const on = typeof value === "boolean" ? value : field.default === true;
      if (input.checked !== on) input.checked = on;
      input.setAttribute("aria-checked", String(on));
    },
  };
}

function numberControl(field: FieldOption, write: (value: FieldValue) => void, scope: Scope): Control {
  const input = h("input", {
    type: "number",
    class: "sw-input sw-number",
    inputmode: "numeric",
    step: 1,
    min: field.minimum,
    max: field.maximum,
    placeholder: "none",
  });
  const parse = (): FieldValue => (input.value.trim() === "" ? null : Number(input.value));
  scope.listen(input, "input", () => write(parse()));
  const help = helpOf(field, input);
  return {
    el: labelled(field, input, help),
    wide: false,
    update(value, problem) {
      // a half-typed number ("-") reads as none: it stays as typed
      if (parse() !== value) input.value = value === null ? "" : String(value);
      input.setAttribute("aria-invalid", String(problem !== null));
    },
  };
}

function textControl(field: FieldOption, write: (value: FieldValue) => void, scope: Scope): Control {
  const input = h("input", { type: "text", class: "sw-input", autocomplete: "off", placeholder: field.required ? "" : "(optional)" });
  scope.listen(input, "input", () => write(input.value));
  const help = helpOf(field, input);
  return {
    el: labelled(field, input, help),
    wide: true,
    update(value, problem) {
      const text = typeof value === "string" ? value : "";
      if (input.value !== text) input.value = text;
      input.setAttribute("aria-invalid", String(problem !== null));
    },
  };
}
