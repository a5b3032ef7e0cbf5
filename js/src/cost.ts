// Money in the view: what a clip will cost by its model's price rule (`options.models[i].price`,
// at the prices in use), and whether the budget allows it. `clipPrice` mirrors the
// kernel's `params.clip_price` (a vitest checks it against figures Python computed);
// the kernel still checks the budget before anything is paid for.

import { fieldOf, fieldValue, modelOf, sizeOf, type FieldValue, type FormState } from "./form";
import type { ModelOption, Options, SpendView } from "./protocol";

/** What one clip costs: the model's rule applied to the controls' values. */
export interface Estimate {
  usd: number;
  model: string;
  duration: number;
}

/** The key of the model's price table for these values, as Python's `price_key` makes it. */
export function priceKey(model: ModelOption, form: FormState): string | null {
  const by = model.price.by;
  if (by === null) return "*";
  if (by === "sound") return makesSound(model, form) ? "sound" : "silent";
  const value = by === "size" ? sizeOf(model, form) : (fieldValue(form, by) ?? fieldOf(model, by)?.default ?? null);
  return value === null ? null : pythonStr(value);
}

/** Whether the clip will have a sound track (a model without a choice says it itself). */
export function makesSound(model: ModelOption, form: FormState): boolean {
  const sound = fieldValue(form, "sound");
  if (model.sound === "optional") return typeof sound === "boolean" ? sound : fieldOf(model, "sound")?.default === true;
  return model.sound === "always";
}

/** (US dollars for the clip, per second of it), or null when the rule has no price for
 * these values (a size the model does not make, say). */
export function clipPrice(model: ModelOption, form: FormState): { usd: number; perSecond: number } | null {
  const key = priceKey(model, form);
  const rate = key === null ? undefined : model.price.usd[key];
  if (typeof rate !== "number" || !(form.duration > 0)) return null;
  if (model.price.per === "second") return { usd: round6(rate * form.duration), perSecond: rate };
  return { usd: round6(rate), perSecond: round6(rate / form.duration) };
}

export function estimateFor(options: Options | null, form: FormState): Estimate | null {
  const model = modelOf(options, form.model);
  const price = model ? clipPrice(model, form) : null;
  return price ? { usd: price.usd, model: form.model, duration: form.duration } : null;
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

/** "≈ $0.80 · sora-2 · 8 s", as the Python estimate prints itself. */
export function estimateText(estimate: Estimate): string {
  return `≈ ${formatUsd(estimate.usd)} · ${estimate.model} · ${estimate.duration} s`;
}

/** "Spent $1.20 of $5.00 ($3.80 left)", or "Spent $1.20 in this kernel" without a budget. */
export function spendText(spend: SpendView): string {
  const spent =
    spend.budget_usd === null || spend.remaining_usd === null
      ? `Spent ${formatUsd(spend.usd)} in this kernel`
      : `Spent ${formatUsd(spend.usd)} of ${formatUsd(spend.budget_usd)} (${formatUsd(spend.remaining_usd)} left)`;
  // what the account has left, as Segmind's last answer said (x-remaining-credits)
  return spend.remaining_credits === null ? spent : `${spent} · account: ${formatUsd(spend.remaining_credits)} left`;
}

/** Why the budget forbids this clip, or null when it allows it. */
export function overBudget(estimate: Estimate | null, spend: SpendView | null): string | null {
  if (!estimate || !spend || spend.remaining_usd === null || spend.budget_usd === null) return null;
  if (estimate.usd <= spend.remaining_usd + 1e-9) return null;
  return (
    `Over budget: this clip ${estimateText(estimate)} but ${formatUsd(spend.remaining_usd)} is left of ` +
    `${formatUsd(spend.budget_usd)}; raise it with sw.configure(budget_usd=…)`
  );
}

/** Python's str() of a value: the price tables are keyed by it ("True", "6", "720p"). */
function pythonStr(value: Exclude<FieldValue, null>): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  return String(value);
}

/** round(x, 6), as the kernel rounds a clip's price. */
function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
