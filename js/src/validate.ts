// The view's mirror of params.py, built only from the `options` trait: it lets the
// Generate button say at once what is missing. The kernel stays the authority — its
// InvalidParams replies are shown as they come.

import { durationsFor, sizesFor } from "./cost";
import type { Options } from "./protocol";
import { formatBytes } from "./format";

export interface FormValues {
  prompt: string;
  duration: number;
  size: string;
  input_reference: string;
  /** the model the clip is asked of (the kernel's default when absent) */
  model?: string;
}

export type Field = "options" | "prompt" | "size" | "duration" | "input_reference";

export interface Problem {
  field: Field;
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

/** Everything wrong with the form, in the order the controls appear. */
export function validateForm(values: FormValues, options: Options | null): Problem[] {
  if (!options || !options.sizes?.length || !options.durations?.length) {
    return [{ field: "options", message: "Waiting for the kernel to send the allowed values…" }];
  }
  const problems: Problem[] = [];
  if (typeof values.prompt !== "string" || values.prompt.trim() === "") {
    problems.push({ field: "prompt", message: "Type a prompt to generate" });
  }
  const model = values.model ?? options.model;
  const sizes = sizesFor(options, model);
  if (!sizes.some((s) => s.value === values.size)) {
    const labels = sizes.map((s) => s.label).join(" or ");
    problems.push({ field: "size", message: `Choose a size ${model} offers (${labels})` });
  }
  const durations = durationsFor(options, model);
  if (!durations.includes(values.duration)) {
    problems.push({ field: "duration", message: `Choose a duration (${listOr(durations.map(String))} s)` });
  }
  const reference = values.input_reference ?? "";
  const kind = referenceKind(reference);
  if (kind === "invalid") {
    problems.push({
      field: "input_reference",
      message: "The reference image must be an http(s) URL or a data:image/…;base64 URI",
    });
  } else if (kind === "data" && dataUriBytes(reference) > options.max_reference_bytes) {
    problems.push({
      field: "input_reference",
      message: `The reference image is larger than ${formatBytes(options.max_reference_bytes)}`,
    });
  }
  return problems;
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
