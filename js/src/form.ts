// The controls' values as one value, and the model's fields as controls see them: where
// each field's value lives in the traits, which control shows it, and what a model switch
// keeps. Pure; the catalogue (params/catalogue.py, sent as `options.models[i].fields`)
// says which fields a model has, so adding a model adds no code here.

import type { FieldOption, ImageField, Job, JobParams, ModelOption, Options } from "./protocol";

/** A value of one field, as the `values` trait holds it. */
export type FieldValue = string | number | boolean | null;

/** What the controls say: the traits a generate request is made of. */
export interface FormState {
  prompt: string;
  model: string;
  duration: number;
  /** "WxH" of a model with a size field (a shape-taking model's is derived by the kernel) */
  size: string;
  /** the first frame (Sora's reference image) */
  input_reference: string;
  /** every other field by name: aspect_ratio, resolution, last_frame, sound, seed, own options */
  values: Record<string, FieldValue>;
}

/** The traits a control writes (the two-way half that goes to Python). */
export interface TraitPatch {
  model?: string;
  prompt?: string;
  duration?: number;
  size?: string;
  input_reference?: string;
  reference_name?: string;
  values?: Record<string, FieldValue>;
}

export type ControlKind = "radio" | "select" | "switch" | "number" | "text" | "image";

/** A choice of at most this many values is a row of radio segments; a longer one a menu. */
export const MAX_SEGMENTS = 5;

/** The fields with a trait of their own; every other field lives in `values`. */
const OWN_TRAIT: Record<string, "duration" | "size" | "input_reference"> = {
  duration: "duration",
  size: "size",
  first_frame: "input_reference",
};

export const IMAGE_FIELDS: readonly ImageField[] = ["first_frame", "last_frame"];

export function isImageField(name: string): name is ImageField {
  return (IMAGE_FIELDS as readonly string[]).includes(name);
}

export function controlKind(field: Pick<FieldOption, "kind" | "choices">): ControlKind {
  switch (field.kind) {
    case "choice":
      return field.choices.length <= MAX_SEGMENTS ? "radio" : "select";
    case "bool":
      return "switch";
    case "int":
      return "number";
    case "image":
      return "image";
    case "text":
      return "text";
  }
}

/** The model's entry, or null when the kernel sent no such model. */
export function modelOf(options: Options | null, name: string): ModelOption | null {
  return options?.models.find((m) => m.name === name) ?? null;
}

export function fieldOf(model: ModelOption | null, name: string): FieldOption | null {
  return model?.fields.find((f) => f.name === name) ?? null;
}

/** The value a field has in the form ("" and null: none). */
export function fieldValue(form: FormState, name: string): FieldValue {
  const own = OWN_TRAIT[name];
  if (own === "duration") return Number.isFinite(form.duration) ? form.duration : null;
  if (own) return form[own] || null;
  return name in form.values ? form.values[name] : null;
}

/** The trait patch that gives `name` the value `value` (null: none). */
export function patchFor(form: FormState, name: string, value: FieldValue): TraitPatch {
  const own = OWN_TRAIT[name];
  if (own === "duration") return { duration: Number(value) };
  if (own === "size") return { size: value === null ? "" : String(value) };
  // a typed or dropped first frame replaces an uploaded file: its shown name no longer applies
  if (own === "input_reference") return { input_reference: value === null ? "" : String(value), reference_name: "" };
  const values = { ...form.values };
  if (value === null || value === "") delete values[name];
  else values[name] = value;
  return { values };
}

/** The clip's pixel size: its size field's, or what its aspect ratio and resolution make;
 * null when the clip takes the first frame's shape (or the shape is not known yet). */
export function sizeOf(model: ModelOption, form: FormState): string | null {
  if (fieldOf(model, "size")) return form.size || null;
  const aspect = fieldValue(form, "aspect_ratio") ?? fieldOf(model, "aspect_ratio")?.default ?? "";
  const resolution = fieldValue(form, "resolution") ?? fieldOf(model, "resolution")?.default ?? "";
  return model.pixels.find((p) => p.aspect_ratio === aspect && p.resolution === resolution)?.size ?? null;
}

/** Whether `value` is one the field allows (null: none given, allowed unless required). */
export function allows(field: FieldOption, value: FieldValue): boolean {
  if (value === null || value === "") return !field.required;
  switch (field.kind) {
    case "choice":
      return field.choices.some((c) => c.value === value);
    case "bool":
      return typeof value === "boolean";
    case "int":
      return (
        typeof value === "number" &&
        Number.isInteger(value) &&
        (field.minimum === null || value >= field.minimum) &&
        (field.maximum === null || value <= field.maximum)
      );
    case "image":
    case "text":
      return typeof value === "string";
  }
}

/**
 * The traits when the model becomes `name`: what the new model takes of the controls stays,
 * the rest gives way to its defaults — as the kernel's `SoraWidget._fit_to_model` does it
 * (it answers with its own, which win). A size says the shape a shape-taking model keeps.
 */
export function fitToModel(options: Options, name: string, form: FormState): TraitPatch {
  const model = modelOf(options, name);
  if (!model) return { model: name };
  const shape = shapeFrom(model, form);
  const fitted: FormState = { ...form, model: name, size: "", input_reference: "", values: {} };
  for (const field of model.fields) {
    let value = field.name in shape ? shape[field.name] : fieldValue(form, field.name);
    if (value === null || !allows(field, value)) value = field.kind === "image" ? null : field.default;
    Object.assign(fitted, patchFor(fitted, field.name, value));
  }
  const patch: TraitPatch = {
    model: name,
    duration: fitted.duration,
    size: sizeOf(model, fitted) ?? "",
    input_reference: fitted.input_reference,
    values: fitted.values,
  };
  // an uploaded first frame the new model keeps keeps its shown name
  if (!fitted.input_reference || fitted.input_reference !== form.input_reference) patch.reference_name = "";
  return patch;
}

/** The aspect ratio and resolution a size picks on a shape-taking model (empty when the
 * form says them itself, or the model makes no such size). */
function shapeFrom(model: ModelOption, form: FormState): Record<string, FieldValue> {
  if (!fieldOf(model, "aspect_ratio") || fieldValue(form, "aspect_ratio") !== null || !form.size) return {};
  const match = model.pixels.find((p) => p.size === form.size);
  return match ? { aspect_ratio: match.aspect_ratio, resolution: match.resolution } : {};
}

/** The fields a record's `params` names beside prompt, duration, size and the first frame. */
const COMMON_VALUES = ["aspect_ratio", "resolution", "last_frame", "sound", "seed"] as const;

/** A generate request's `params`: the form's values the model takes, as a record keeps
 * them (prompt, duration, size, input_reference; the common fields it says; the model's
 * own options under `options`). A value the model lacks is not sent. */
export function requestParams(form: FormState, model: ModelOption): JobParams {
  const params: JobParams = {
    prompt: form.prompt,
    duration: form.duration,
    size: fieldOf(model, "size") ? form.size || null : null,
    input_reference: fieldOf(model, "first_frame") ? form.input_reference || null : null,
  };
  const options: Record<string, string | number | boolean> = {};
  for (const field of model.fields) {
    const value = fieldValue(form, field.name);
    if (value === null || field.name in OWN_TRAIT) continue;
    if ((COMMON_VALUES as readonly string[]).includes(field.name)) Object.assign(params, { [field.name]: value });
    else options[field.name] = value;
  }
  if (Object.keys(options).length > 0) params.options = options;
  return params;
}

/** The traits that fill the controls with a job's parameters (Remix). */
export function jobForm(job: Job): TraitPatch {
  const p = job.params;
  const values: Record<string, FieldValue> = { ...(p.options ?? {}) };
  for (const name of COMMON_VALUES) {
    const value = p[name];
    if (value !== undefined && value !== null) values[name] = value;
  }
  return {
    prompt: p.prompt,
    duration: p.duration,
    size: p.size ?? "",
    model: job.model,
    input_reference: p.input_reference ?? "",
    reference_name: "",
    values,
  };
}
