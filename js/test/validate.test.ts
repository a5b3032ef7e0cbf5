import { describe, expect, it } from "vitest";
import type { FormState } from "../src/form";
import { checkImageFile, dataUriBytes, isHttpUrl, isImageDataUri, referenceKind, validateForm } from "../src/validate";
import { OPTIONS } from "./fakes";

const ok: FormState = { prompt: "a cat", model: "sora-2", duration: 8, size: "720x1280", input_reference: "", values: {} };
const messages = (values: Partial<FormState>, options = OPTIONS, unavailable: string[] = []) =>
  validateForm({ ...ok, ...values }, options, unavailable).map((p) => `${p.field}: ${p.message}`);

describe("validateForm", () => {
  it("accepts valid values", () => {
    expect(validateForm(ok, OPTIONS)).toEqual([]);
    expect(messages({ size: "1280x720", duration: 12, input_reference: "https://example.com/a.png" })).toEqual([]);
    expect(messages({ input_reference: "data:image/png;base64,iVBORw0KGgo=" })).toEqual([]);
  });
  it("wants a prompt that is not just whitespace", () => {
    expect(messages({ prompt: "" })).toEqual(["prompt: Type a prompt to generate"]);
    expect(messages({ prompt: "  \n\t " })).toEqual(["prompt: Type a prompt to generate"]);
  });
  it("checks size and duration against the chosen model's fields", () => {
    expect(messages({ size: "1024x1024" })).toEqual(["size: Choose a size sora-2 offers (Portrait or Landscape)"]);
    expect(messages({ duration: 10 })).toEqual(["duration: Choose a duration (4, 8 or 12 s)"]);
    expect(messages({ size: "1792x1024" })).toEqual(["size: Choose a size sora-2 offers (Portrait or Landscape)"]);
    expect(messages({ size: "1792x1024", model: "sora-2-pro" })).toEqual([]);
    expect(messages({ model: "veo-3.1-fast", duration: 6, size: "", values: { aspect_ratio: "1:1" } })).toEqual([
      "aspect_ratio: Choose an aspect ratio (16:9 landscape or 9:16 portrait)",
    ]);
  });
  it("checks a seed's range and refuses what the model does not offer", () => {
    const veo = { model: "veo-3.1-fast", duration: 6, size: "" };
    expect(messages({ ...veo, values: { seed: 7 } })).toEqual([]);
    expect(messages({ ...veo, values: { seed: -1 } })).toEqual(["seed: Seed must be a whole number from 0 to 2147483647"]);
    expect(messages({ ...veo, values: { seed: 1.5 } })).toHaveLength(1);
  });
  it("says a model that makes video from an image needs its first frame", () => {
    expect(messages({ model: "kling-o1-image-to-video", duration: 5, size: "" })).toEqual([
      "first_frame: Kling O1 Image to Video makes video from an image: add the first frame",
    ]);
    expect(messages({ model: "kling-o1-image-to-video", duration: 5, size: "", input_reference: "https://e.com/a.png" })).toEqual([]);
  });
  it("checks every image field's form", () => {
    expect(messages({ model: "veo-3.1-fast", duration: 6, size: "", values: { last_frame: "nope" } })).toEqual([
      "last_frame: The last frame must be an http(s) URL or a data:image/…;base64 URI",
    ]);
  });
  it("says why a model the API refused this session cannot be used", () => {
    expect(messages({}, OPTIONS, ["sora-2"])).toEqual([
      "model: Sora 2 is no longer served here: the API refused sora-2 this session (choose another model)",
    ]);
    expect(messages({ model: "nope" })).toEqual(["model: Choose a model"]);
  });
  it("checks the reference form", () => {
    for (const bad of ["ftp://x/y.png", "javascript:alert(1)", "https://", "https://a b", "data:text/html;base64,PGI+", "/tmp/x.png", "data:image/png;base64,@@@"]) {
      expect(messages({ input_reference: bad }), bad).toEqual(["first_frame: The reference image must be an http(s) URL or a data:image/…;base64 URI"]);
    }
  });
  it("refuses a data URI beyond the size limit", () => {
    const big = `data:image/png;base64,${"A".repeat(16)}`;
    expect(messages({ input_reference: big }, { ...OPTIONS, max_reference_bytes: 10 })).toEqual([
      "first_frame: The reference image is larger than 10 B",
    ]);
  });
  it("waits for options", () => {
    expect(validateForm(ok, null)[0].field).toBe("options");
  });
  it("lists every problem in control order", () => {
    expect(validateForm({ ...ok, prompt: "", duration: 5, size: "x", input_reference: "nope" }, OPTIONS).map((p) => p.field)).toEqual([
      "prompt",
      "duration",
      "size",
      "first_frame",
    ]);
  });
});

describe("reference helpers", () => {
  it("mirror params.py", () => {
    expect(isHttpUrl("http://host")).toBe(true);
    expect(isHttpUrl("HTTPS://host/a.png")).toBe(true);
    expect(isHttpUrl("https:///a")).toBe(false);
    expect(isImageDataUri("data:image/webp;base64,AAAA")).toBe(true);
    expect(isImageDataUri("data:image/webp;base64,AAA")).toBe(false); // bad padding
    expect(isImageDataUri("data:image/webp;base64,")).toBe(false);
    expect(referenceKind("")).toBe("none");
    expect(referenceKind("https://x")).toBe("url");
    expect(referenceKind("data:image/png;base64,AAAA")).toBe("data");
    expect(referenceKind("cat.png")).toBe("invalid");
    expect(dataUriBytes("data:image/png;base64,AAAA")).toBe(3);
    expect(dataUriBytes("data:image/png;base64,AA==")).toBe(1);
  });
  it("checks picked files", () => {
    expect(checkImageFile({ name: "a.png", type: "image/png", size: 100 }, OPTIONS)).toBeNull();
    expect(checkImageFile({ name: "a.bmp", type: "image/bmp", size: 100 }, OPTIONS)).toBe(
      "a.bmp is not a supported image (GIF, JPEG, PNG or WEBP)",
    );
    expect(checkImageFile({ name: "a.png", type: "image/png", size: 11 * 1024 * 1024 }, OPTIONS)).toBe(
      "a.png is 11 MB; the limit is 10 MB",
    );
    expect(checkImageFile({ name: "a.png", type: "image/png", size: 0 }, OPTIONS)).toBe("a.png is empty");
  });
});
