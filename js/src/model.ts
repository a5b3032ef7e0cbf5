// Typed, defensive reads of the traits. The kernel fills them, but a view may render
// before `options` arrives, or against an older kernel: missing or malformed values
// become "not known yet" instead of exceptions in the middle of a render.

import type { AnyModel } from "@anywidget/types";
import { JOBVIEW_KEYS, type Backend, type BatchProgress, type BoardProgress, type Job, type JobError, type Mode, type Model, type ModelOption, type Options, type SpendView } from "./protocol";
import { normalizeError } from "./dispatch";
import type { FieldValue, FormState, TraitPatch } from "./form";

/** The traits as a type alias (an interface would not satisfy AnyModel's index type). */
export type Traits = { [K in keyof Model]: Model[K] };
export type WidgetModel = AnyModel<Traits>;

/** `options`, or null until the kernel has sent usable ones. A model whose entry lacks
 * its fields or its price rule (a kernel of another version) is left out. */
export function readOptions(model: WidgetModel): Options | null {
  const o = model.get("options") as Partial<Options> | undefined;
  const models = Array.isArray(o?.models) ? o.models.filter(isModelOption) : [];
  if (!o || models.length === 0) return null;
  return {
    model: typeof o.model === "string" ? o.model : models[0].name,
    models,
    prices_as_of: typeof o.prices_as_of === "string" ? o.prices_as_of : "",
    durations: Array.isArray(o.durations) ? o.durations.filter((d): d is number => typeof d === "number") : [],
    sizes: Array.isArray(o.sizes) ? o.sizes.filter((s) => s && typeof s.value === "string") : [],
    default_duration: typeof o.default_duration === "number" ? o.default_duration : 8,
    default_size: typeof o.default_size === "string" ? o.default_size : "",
    image_types: Array.isArray(o.image_types) ? o.image_types.filter((t) => typeof t === "string") : [],
    max_reference_bytes: typeof o.max_reference_bytes === "number" ? o.max_reference_bytes : Infinity,
  };
}

function isModelOption(m: unknown): m is ModelOption {
  const entry = m as Partial<ModelOption> | null;
  return (
    !!entry &&
    typeof entry.name === "string" &&
    Array.isArray(entry.fields) &&
    Array.isArray(entry.pixels) &&
    !!entry.price &&
    typeof entry.price.usd === "object"
  );
}

/** `backend`, or null until known (then no key notice is shown prematurely). */
export function readBackend(model: WidgetModel): Backend | null {
  const b = model.get("backend") as Partial<Backend> | undefined;
  if (!b || typeof b.api_key_set !== "boolean") return null;
  return {
    api_key_set: b.api_key_set,
    emulator: b.emulator === true,
    host: typeof b.host === "string" ? b.host : "",
    unavailable: Array.isArray(b.unavailable) ? b.unavailable.filter((m) => typeof m === "string") : [],
  };
}

/** `values`: the model's fields beyond duration, size and the first frame, by name. */
export function readValues(model: WidgetModel): Record<string, FieldValue> {
  const raw = model.get("values") as unknown;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  const values: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") values[name] = value;
  }
  return values;
}

/** What the controls say, from the traits (the model the kernel's default until chosen). */
export function readForm(model: WidgetModel, options: Options | null): FormState {
  return {
    prompt: readString(model, "prompt"),
    model: readString(model, "model") || options?.model || "",
    duration: readDuration(model),
    size: readString(model, "size"),
    input_reference: readString(model, "input_reference"),
    values: readValues(model),
  };
}

/** `spend`, or null until the kernel sends it. */
export function readSpend(model: WidgetModel): SpendView | null {
  const s = model.get("spend") as Partial<SpendView> | undefined;
  if (!s || typeof s.usd !== "number") return null;
  const money = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return {
    usd: s.usd,
    jobs: typeof s.jobs === "number" ? s.jobs : 0,
    budget_usd: money(s.budget_usd),
    remaining_usd: money(s.remaining_usd),
    remaining_credits: money(s.remaining_credits),
  };
}

export function readString(model: WidgetModel, name: "prompt" | "size" | "model" | "input_reference" | "reference_name"): string {
  const value = model.get(name);
  return typeof value === "string" ? value : "";
}

export function readDuration(model: WidgetModel): number {
  const value = Number(model.get("duration"));
  return Number.isFinite(value) ? value : NaN;
}

export function readMode(model: WidgetModel): Mode {
  const mode = model.get("mode");
  return mode === "job" || mode === "batch" || mode === "storyboard" ? mode : "full";
}

/** `shots` of a Storyboard: its prompts, in order (strings only). */
export function readShots(model: WidgetModel): string[] {
  const shots = model.get("shots");
  return Array.isArray(shots) ? shots.map((s) => (typeof s === "string" ? s : String(s ?? ""))) : [];
}

/** `board` of a Storyboard, with safe defaults for anything missing. */
export function readBoard(model: WidgetModel): BoardProgress {
  const b = (model.get("board") ?? {}) as Partial<Record<keyof BoardProgress, unknown>>;
  const id = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
  return {
    running: b.running === true,
    current: typeof b.current === "number" && Number.isInteger(b.current) && b.current >= 0 ? b.current : null,
    shots: Array.isArray(b.shots) ? b.shots.map(id) : [],
    film: id(b.film),
    error: b.error && typeof b.error === "object" ? (normalizeError(b.error) as JobError) : null,
  };
}

/** Replace a Storyboard's prompts (the view's edits, reorders, additions). */
export function writeShots(model: WidgetModel, shots: string[]): void {
  model.set("shots", [...shots]);
  model.save_changes();
}

/** `batch`, with every count a whole number ≥ 0 (zero when missing). */
export function readBatch(model: WidgetModel): BatchProgress {
  const b = (model.get("batch") ?? {}) as Partial<Record<keyof BatchProgress, unknown>>;
  const count = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
  return {
    id: typeof b.id === "string" ? b.id : "",
    total: count(b.total),
    done: count(b.done),
    completed: count(b.completed),
    failed: count(b.failed),
    unknown: count(b.unknown),
    running: count(b.running),
  };
}

export function readClock(model: WidgetModel): number {
  const value = Number(model.get("jobs_clock_ms"));
  return Number.isFinite(value) ? value : 0;
}

/** `jobs`, oldest first. A job missing a key of the protocol (a kernel of another
 * version, a key renamed on one side) is left out and reported once, never shown with
 * made-up zeros. */
export function readJobs(model: WidgetModel): Job[] {
  const raw = model.get("jobs");
  if (!Array.isArray(raw)) return [];
  const jobs: Job[] = [];
  for (const j of raw) {
    const missing = missingKeys(j, JOBVIEW_KEYS);
    if (missing.length === 0) {
      jobs.push({ ...(j as Job), error: j.error ? (normalizeError(j.error) as JobError) : null });
    } else reportOnce(`a job from the kernel lacks ${missing.join(", ")}: the kernel and the view disagree`);
  }
  return jobs;
}

/** The keys of `keys` that `value` (a JSON object) lacks; all of them if it is not one. */
export function missingKeys(value: unknown, keys: readonly string[]): string[] {
  if (!value || typeof value !== "object") return [...keys];
  return keys.filter((key) => !(key in value));
}

const reported = new Set<string>();
function reportOnce(message: string): void {
  if (reported.has(message)) return;
  reported.add(message);
  console.error(`sora-widget: ${message}`);
}

/** Write controls' values back to their traits (the two-way half that goes to Python),
 * in one message. */
export function writeTraits(model: WidgetModel, values: TraitPatch): void {
  // the model last: the views rebuild the controls for it once, with its values already set
  const { model: chosen, ...rest } = values;
  for (const [name, value] of Object.entries(rest) as [keyof Traits, never][]) {
    if (value !== undefined) model.set(name, value);
  }
  if (chosen !== undefined) model.set("model", chosen);
  model.save_changes();
}
