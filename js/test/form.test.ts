import { describe, expect, it } from "vitest";
import { controlKind, fitToModel, jobForm, requestParams, type FormState, type TraitPatch } from "../src/form";
import { modelOf } from "../src/form";
import { OPTIONS, completedJob } from "./fakes";

const form = (fields: Partial<FormState>): FormState => ({
  prompt: "x",
  model: "sora-2",
  duration: 8,
  size: "720x1280",
  input_reference: "",
  values: {},
  ...fields,
});

/**
 * A model switch in the view keeps what the kernel's `SoraWidget._fit_to_model` keeps (the
 * kernel's answer wins, but the controls should not jump twice). Each expectation is what
 * Python gave for `w = SoraWidget(**start); w.model = new` (duration, size, input_reference,
 * values), the traits before it as the kernel held them.
 */
const FROM_PYTHON: [string, FormState, string, TraitPatch][] = [
  [
    "landscape Sora → Veo: the size picks the aspect ratio",
    form({ size: "1280x720", duration: 4 }),
    "veo-3.1-fast",
    { duration: 4, size: "1280x720", input_reference: "", values: { aspect_ratio: "16:9", resolution: "720p", sound: true } },
  ],
  [
    "portrait 12 s Sora → Veo: a duration Veo lacks gives way to its default",
    form({ size: "720x1280", duration: 12 }),
    "veo-3.1-fast",
    { duration: 8, size: "720x1280", input_reference: "", values: { aspect_ratio: "9:16", resolution: "720p", sound: true } },
  ],
  [
    "Veo → Sora: what Sora lacks is dropped",
    form({
      model: "veo-3.1-fast",
      duration: 6,
      size: "1080x1920",
      values: { aspect_ratio: "9:16", resolution: "1080p", sound: false, seed: 7, last_frame: "https://e.com/b.png" },
    }),
    "sora-2",
    { duration: 8, size: "720x1280", input_reference: "", values: {} },
  ],
  [
    "Veo → Seedance: a resolution Seedance lacks gives way; the rest stays",
    form({
      model: "veo-3.1-fast",
      duration: 6,
      size: "1920x1080",
      values: { aspect_ratio: "16:9", resolution: "1080p", sound: false, seed: 7, last_frame: "https://e.com/b.png" },
    }),
    "seedance-2.0",
    {
      duration: 6,
      size: "1280x720",
      input_reference: "",
      values: { aspect_ratio: "16:9", resolution: "720p", last_frame: "https://e.com/b.png", sound: false, seed: 7 },
    },
  ],
  [
    "Sora with a reference → Kling: the first frame stays, the clip takes its shape",
    form({ size: "1280x720", input_reference: "https://e.com/a.png" }),
    "kling-o1-image-to-video",
    { duration: 5, size: "", input_reference: "https://e.com/a.png", values: {} },
  ],
  [
    "Veo → Hailuo: its own switches at their defaults",
    form({ model: "veo-3.1-fast", duration: 6, size: "1280x720", values: { aspect_ratio: "16:9", resolution: "720p", sound: true } }),
    "hailuo-02-fast",
    { duration: 6, size: "", input_reference: "", values: { go_fast: true, prompt_optimizer: true } },
  ],
];

describe("the form", () => {
  it.each(FROM_PYTHON)("keeps on a model switch what the kernel keeps: %s", (_name, before, name, expected) => {
    const { model, reference_name: _name2, ...rest } = fitToModel(OPTIONS, name, before);
    expect(model).toBe(name);
    expect(rest).toEqual(expected);
  });

  it("keeps an uploaded first frame's name only when the first frame stays", () => {
    const before = form({ input_reference: "https://e.com/a.png" });
    expect(fitToModel(OPTIONS, "veo-3.1-fast", before).reference_name).toBeUndefined();
    expect(fitToModel(OPTIONS, "veo-3.1-fast", form({})).reference_name).toBe("");
  });

  it("sends what the model takes, its own options under `options`", () => {
    const veo = modelOf(OPTIONS, "veo-3.1-fast")!;
    const values = { aspect_ratio: "9:16", resolution: "720p", sound: false, seed: 3, last_frame: "https://e.com/b.png", stale: "x" };
    expect(requestParams(form({ model: "veo-3.1-fast", duration: 6, size: "720x1280", input_reference: "https://e.com/a.png", values }), veo)).toEqual({
      prompt: "x",
      duration: 6,
      size: null, // a shape-taking model's size is its aspect ratio's and resolution's
      input_reference: "https://e.com/a.png",
      aspect_ratio: "9:16",
      resolution: "720p",
      sound: false,
      seed: 3,
      last_frame: "https://e.com/b.png",
    });
    const hailuo = modelOf(OPTIONS, "hailuo-02-fast")!;
    expect(requestParams(form({ model: "hailuo-02-fast", duration: 6, size: "", values: { go_fast: false, prompt_optimizer: true } }), hailuo)).toEqual({
      prompt: "x",
      duration: 6,
      size: null,
      input_reference: null,
      options: { go_fast: false, prompt_optimizer: true },
    });
  });

  it("fills the controls with a job's parameters (Remix)", () => {
    const job = completedJob("a", {
      model: "hailuo-02-fast",
      params: { prompt: "p", duration: 10, size: null, input_reference: "https://e.com/a.png", last_frame: "https://e.com/b.png", options: { go_fast: false } },
    });
    expect(jobForm(job)).toEqual({
      prompt: "p",
      duration: 10,
      size: "",
      model: "hailuo-02-fast",
      input_reference: "https://e.com/a.png",
      reference_name: "",
      values: { go_fast: false, last_frame: "https://e.com/b.png" },
    });
  });

  it("shows a short choice as segments, a long one as a menu", () => {
    const seedance = modelOf(OPTIONS, "seedance-2.0")!;
    const kinds = Object.fromEntries(seedance.fields.map((f) => [f.name, controlKind(f)]));
    expect(kinds).toEqual({
      aspect_ratio: "select",
      resolution: "radio",
      duration: "select",
      first_frame: "image",
      last_frame: "image",
      sound: "switch",
      seed: "number",
    });
  });
});
