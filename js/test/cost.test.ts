import { describe, expect, it } from "vitest";
import { estimateFor, estimateText, fitToModel, overBudget, sizesFor, spendText } from "../src/cost";
import { OPTIONS } from "./fakes";

describe("models and money in the view", () => {
  it("offers each model its own sizes", () => {
    expect(sizesFor(OPTIONS, "sora-2").map((s) => s.value)).toEqual(["720x1280", "1280x720"]);
    expect(sizesFor(OPTIONS, "sora-2-pro").map((s) => s.value)).toContain("1792x1024");
  });

  it("looks the estimate up, never computes one", () => {
    const estimate = estimateFor(OPTIONS, "sora-2", "720x1280", 8);
    expect(estimate && estimateText(estimate)).toBe("≈ $0.80 · sora-2 · 8 s");
    expect(estimateFor(OPTIONS, "sora-2", "1792x1024", 8)).toBeNull();
  });

  it("keeps what the new model offers, else takes its first", () => {
    expect(fitToModel(OPTIONS, "sora-2-pro", "1280x720", 12)).toEqual({ size: "1280x720", duration: 12 });
    expect(fitToModel(OPTIONS, "sora-2", "1792x1024", 8)).toEqual({ size: "720x1280", duration: 8 });
  });

  it("says the spend, and why a clip is over budget", () => {
    expect(spendText({ usd: 1.2, jobs: 2, budget_usd: null, remaining_usd: null })).toBe("Spent $1.20 in this kernel");
    const spend = { usd: 4.6, jobs: 5, budget_usd: 5, remaining_usd: 0.4 };
    expect(spendText(spend)).toBe("Spent $4.60 of $5.00 ($0.40 left)");
    const fits = estimateFor(OPTIONS, "sora-2", "720x1280", 4);
    const tooMuch = estimateFor(OPTIONS, "sora-2", "720x1280", 8);
    expect(overBudget(fits, spend)).toBeNull();
    expect(overBudget(tooMuch, spend)).toMatch(/^Over budget: this clip ≈ \$0\.80 · sora-2 · 8 s but \$0\.40 is left of \$5\.00/);
    expect(overBudget(tooMuch, { ...spend, budget_usd: null, remaining_usd: null })).toBeNull();
  });
});
