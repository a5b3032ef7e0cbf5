// Models and money in the view, read from the kernel's `options` and `spend`: which sizes
// and durations a model offers, what a clip will cost, whether the budget allows it.
// The kernel computes every figure (params.py, cost.py); the view only looks them up.

import type { EstimateOption, ModelOption, Options, SizeOption, SpendView } from "./protocol";

/** The model's entry, or null when the kernel sent no such model. */
export function modelOf(options: Options, name: string): ModelOption | null {
  return options.models.find((m) => m.name === name) ?? null;
}

/** The sizes the model offers, in the kernel's order (all sizes when it is unknown). */
export function sizesFor(options: Options, name: string): SizeOption[] {
  const model = modelOf(options, name);
  return model ? options.sizes.filter((s) => model.sizes.includes(s.value)) : options.sizes;
}

export function durationsFor(options: Options, name: string): number[] {
  return modelOf(options, name)?.durations ?? options.durations;
}

/** What a clip of this model, size and duration costs, or null if it is not offered. */
export function estimateFor(options: Options, model: string, size: string, duration: number): EstimateOption | null {
  return options.estimates.find((e) => e.model === model && e.size === size && e.duration === duration) ?? null;
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

/** "≈ $0.80 · sora-2 · 8 s", as the Python estimate prints itself. */
export function estimateText(estimate: EstimateOption): string {
  return `≈ ${formatUsd(estimate.usd)} · ${estimate.model} · ${estimate.duration} s`;
}

/** "Spent $1.20 of $5.00 ($3.80 left)", or "Spent $1.20 in this kernel" without a budget. */
export function spendText(spend: SpendView): string {
  if (spend.budget_usd === null || spend.remaining_usd === null) return `Spent ${formatUsd(spend.usd)} in this kernel`;
  return `Spent ${formatUsd(spend.usd)} of ${formatUsd(spend.budget_usd)} (${formatUsd(spend.remaining_usd)} left)`;
}

/** Why the budget forbids this clip, or null when it allows it. */
export function overBudget(estimate: EstimateOption | null, spend: SpendView | null): string | null {
  if (!estimate || !spend || spend.remaining_usd === null || spend.budget_usd === null) return null;
  if (estimate.usd <= spend.remaining_usd + 1e-9) return null;
  return (
    `Over budget: this clip ${estimateText(estimate)} but ${formatUsd(spend.remaining_usd)} is left of ` +
    `${formatUsd(spend.budget_usd)}; raise it with sw.configure(budget_usd=…)`
  );
}

/** The size and duration to switch to when the model changes: the current ones when the
 * new model offers them, else its first. */
export function fitToModel(options: Options, model: string, size: string, duration: number): { size: string; duration: number } {
  const sizes = sizesFor(options, model).map((s) => s.value);
  const durations = durationsFor(options, model);
  return {
    size: sizes.includes(size) ? size : (sizes[0] ?? size),
    duration: durations.includes(duration) ? duration : (durations[0] ?? duration),
  };
}
