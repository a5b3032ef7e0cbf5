import { describe, expect, it } from "vitest";
import { clipPrice, estimateFor, estimateText, overBudget, spendText } from "../src/cost";
import type { FormState } from "../src/form";
import { modelOf } from "../src/form";
import { OPTIONS } from "./fakes";

const form = (model: string, duration: number, fields: Partial<FormState> = {}): FormState => ({
  prompt: "x",
  model,
  duration,
  size: "",
  input_reference: "",
  values: {},
  ...fields,
});

/**
 * What the kernel's `params.clip_price` says (US dollars for the clip, per second), each
 * computed in Python as `params.clip_price(params.validate("x", model=M, **given))` with the
 * catalogue of 2026-12-05 (the prices in js/test/fixtures/options.json), e.g.
 *   clip_price(validate("x", model="veo-3.1-fast", duration=6, sound=False)) == (0.6, 0.1)
 * The view's `clipPrice` must give the same for the same values.
 */
const FROM_PYTHON: [string, FormState, number, number][] = [
  ["sora-2 by size", form("sora-2", 8, { size: "720x1280" }), 0.8, 0.1],
  ["sora-2-pro HD by size", form("sora-2-pro", 4, { size: "1792x1024" }), 2.0, 0.5],
  ["veo-3.1-fast silent", form("veo-3.1-fast", 6, { values: { sound: false } }), 0.6, 0.1],
  ["veo-3.1-fast with its default sound", form("veo-3.1-fast", 8), 1.2, 0.15],
  ["veo-3.1 with sound", form("veo-3.1", 4, { values: { sound: true } }), 1.6, 0.4],
  ["kling: one price for all", form("kling-o1-image-to-video", 10, { input_reference: "https://e.com/a.png" }), 1.824, 0.1824],
  ["hailuo: per clip, by duration", form("hailuo-02-fast", 10, { input_reference: "https://e.com/a.png" }), 0.188, 0.0188],
  ["seedance at 480p", form("seedance-2.0", 5, { values: { resolution: "480p" } }), 0.261, 0.0522],
  ["seedance 21:9 at its default 720p", form("seedance-2.0", 12, { values: { aspect_ratio: "21:9" } }), 2.28, 0.19],
];

describe("models and money in the view", () => {
  it.each(FROM_PYTHON)("prices a clip as the kernel does: %s", (_name, values, usd, perSecond) => {
    const price = clipPrice(modelOf(OPTIONS, values.model)!, values);
    expect(price).not.toBeNull();
    expect(price!.usd).toBeCloseTo(usd, 9);
    expect(price!.perSecond).toBeCloseTo(perSecond, 9);
  });

  it("has no estimate for values the model's rule does not price", () => {
    expect(estimateFor(OPTIONS, form("sora-2", 8, { size: "1792x1024" }))).toBeNull();
    expect(estimateFor(OPTIONS, form("no-such-model", 8))).toBeNull();
    expect(estimateFor(null, form("sora-2", 8, { size: "720x1280" }))).toBeNull();
  });

  it("prints the estimate as Python does", () => {
    const estimate = estimateFor(OPTIONS, form("sora-2", 8, { size: "720x1280" }));
    expect(estimate && estimateText(estimate)).toBe("≈ $0.80 · sora-2 · 8 s");
  });

  it("says the spend, and why a clip is over budget", () => {
    expect(spendText({ usd: 1.2, jobs: 2, budget_usd: null, remaining_usd: null, remaining_credits: null })).toBe("Spent $1.20 in this kernel");
    const spend = { usd: 4.6, jobs: 5, budget_usd: 5, remaining_usd: 0.4, remaining_credits: null };
    expect(spendText(spend)).toBe("Spent $4.60 of $5.00 ($0.40 left)");
    const fits = estimateFor(OPTIONS, form("sora-2", 4, { size: "720x1280" }));
    const tooMuch = estimateFor(OPTIONS, form("sora-2", 8, { size: "720x1280" }));
    expect(overBudget(fits, spend)).toBeNull();
    expect(overBudget(tooMuch, spend)).toMatch(/^Over budget: this clip ≈ \$0\.80 · sora-2 · 8 s but \$0\.40 is left of \$5\.00/);
    expect(overBudget(tooMuch, { ...spend, budget_usd: null, remaining_usd: null, remaining_credits: null })).toBeNull();
    // the account's balance, when Segmind said it, follows the kernel's spend
    expect(spendText({ ...spend, remaining_credits: 12.5 })).toBe("Spent $4.60 of $5.00 ($0.40 left) · account: $12.50 left");
  });
});
