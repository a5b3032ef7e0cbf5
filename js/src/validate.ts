// The view's mirror of params.validate, built only from the `options` trait and the chosen
// model's fields: it lets the Generate button say at once what is missing. The kernel stays
// the authority — its InvalidParams replies are shown as they come.

import { allows, fieldValue, modelOf, type FormState } from "./form";
import type { FieldOption, ModelOption, Options } from "./protocol";
import { formatBytes } from "./format";

/** What a problem is about: "options", "model", "prompt", or a field's name. */
export type ProblemField = string;

export interface Problem {
  field: ProblemField;
  message: string;
}

/** http(s)://host… with no whitespace, as params.validate_reference accepts. */
export function isHttpUrl(value: string): boolean {
  return /^https?:\/\/[^/\s]+/i.test(value) && !/\s/.test(value);
}

const DATA_URI = /^data:image\/[a-z0-9.+-]+;base64,(.*)$/is;

/** data:image/…;base64,… whose payload is well-formed, non-empty base64. */
export function isImageDataUri(value: string): boolean {
  const match = DATA_URI.exec(value);
  if (!match) return false;
  const payload = match[1];
  return payload.length > 0 && payload.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(payload);
}

/** Decoded size of a base64 data URI's payload, without decoding it. */
export function dataUriBytes(value: string): number {
  const comma = value.indexOf(",");
  const payload = comma < 0 ? "" : value.slice(comma + 1);
  const padding = payload.endsWith("==") ? 2 : payload.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((payload.length * 3) / 4) - padding);
}

export type ReferenceKind = "none" | "url" | "data" | "invalid";

export function referenceKind(value: string): ReferenceKind {
  if (value === "") return "none";
  if (isHttpUrl(value)) return "url";
  if (isImageDataUri(value)) return "data";
  return "invalid";
}

/** Everything wrong with the form, in the order the controls appear. `unavailable`: the
 * models the API refused this session (backend.unavailable). */
export function validateForm(form: FormState, options: Options | null, unavailable: readonly string[] = []): Problem[] {
  if (!options || options.models.length === 0) {
    return [{ field: "options", message: "Waiting for the kernel to send the allowed values…" }];
  }
  const problems: Problem[] = [];
  if (typeof form.prompt !== "string" || form.prompt.trim() === "") {
    problems.push({ field: "prompt", message: "Type a prompt to generate" });
  }
  const model = modelOf(options, form.model);
  if (!model) return [...problems, { field: "model", message: "Choose a model" }];
  if (unavailable.includes(model.name)) {
    problems.push({ field: "model", message: unavailableText(model) });
  }
  for (const field of model.fields) {
    const message = fieldProblem(field, fieldValue(form, field.name), model, options);
    if (message) problems.push({ field: field.name, message });
  }
  return problems;
}

/** Why a model the API refused this session cannot be picked. */
export function unavailableText(model: Pick<ModelOption, "name" | "label">): string {
  return `${model.label} is no longer served here: the API refused ${model.name} this session (choose another model)`;
}

function fieldProblem(field: FieldOption, value: ReturnType<typeof fieldValue>, model: ModelOption, options: Options): string | null {
  if (field.kind === "image") return imageProblem(field, typeof value === "string" ? value : "", model, options);
  if (allows(field, value)) return null;
  const what = field.label.toLowerCase();
  if (field.kind === "choice") {
    const labels = field.choices.map((c) => (field.name === "duration" ? String(c.value) : c.label));
    if (field.name === "size") return `Choose a size ${model.name} offers (${listOr(labels)})`;
    if (field.name === "duration") return `Choose a duration (${listOr(labels)} s)`;
    return `Choose ${article(what)} ${what} (${listOr(labels)})`;
  }
  if (field.kind === "int") return `${field.label} must be a whole number from ${field.minimum ?? "any"} to ${field.maximum ?? "any"}`;
  return `${field.label} is not a value ${model.name} takes`;
}

function imageProblem(field: FieldOption, value: string, model: ModelOption, options: Options): string | null {
  const what = field.label.toLowerCase();
  const kind = referenceKind(value);
  if (kind === "none") return field.required ? `${model.label} makes video from an image: add the ${what}` : null;
  if (kind === "invalid") return `The ${what} must be an http(s) URL or a data:image/…;base64 URI`;
  if (kind === "data" && dataUriBytes(value) > options.max_reference_bytes) {
    return `The ${what} is larger than ${formatBytes(options.max_reference_bytes)}`;
  }
  return null;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** Why a picked or dropped file cannot be the reference, or null if it can. */
export function checkImageFile(file: { name: string; type: string; size: number }, options: Options | null): string | null {
  if (!options) return "Waiting for the kernel to send the allowed image types…";
  if (!options.image_types.includes(file.type)) {
    const kinds = options.image_types.map((t) => t.replace(/^image\//, "").toUpperCase());
    return `${file.name || "This file"} is not a supported image (${listOr(kinds)})`;
  }
  if (file.size === 0) return `${file.name || "This file"} is empty`;
  if (file.size > options.max_reference_bytes) {
    return `${file.name} is ${formatBytes(file.size)}; the limit is ${formatBytes(options.max_reference_bytes)}`;
  }
  return null;
}

function listOr(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
