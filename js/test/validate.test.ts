import { describe, expect, it } from "vitest";
import { checkImageFile, dataUriBytes, isHttpUrl, isImageDataUri, referenceKind, validateForm, type FormValues } from "../src/validate";
import { OPTIONS } from "./fakes";

const ok: FormValues = { prompt: "a cat", duration: 8, size: "720x1280", input_reference: "" };
const messages = (values: Partial<FormValues>, options = OPTIONS) =>
  validateForm({ ...ok, ...values }, options).map((p) => `${p.field}: ${p.message}`);

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
  it("checks size and duration against options only", () => {
    expect(messages({ size: "1024x1024" })).toEqual(["size: Choose a size sora-2 offers (Portrait or Landscape)"]);
    expect(messages({ duration: 10 })).toEqual(["duration: Choose a duration (4, 8 or 12 s)"]);
    const models = OPTIONS.models.map((m) => ({ ...m, durations: [4, 8, 10] }));
    expect(messages({ duration: 10 }, { ...OPTIONS, models })).toEqual([]);
  });
  it("checks the size against the chosen model", () => {
    expect(messages({ size: "1792x1024" })).toEqual(["size: Choose a size sora-2 offers (Portrait or Landscape)"]);
    expect(messages({ size: "1792x1024", model: "sora-2-pro" })).toEqual([]);
  });
  it("checks the reference form", () => {
    for (const bad of ["ftp://x/y.png", "javascript:alert(1)", "https://", "https://a b", "data:text/html;base64,PGI+", "/tmp/x.png", "data:image/png;base64,@@@"]) {
      expect(messages({ input_reference: bad }), bad).toHaveLength(1);
    }
  });
  it("refuses a data URI beyond the size limit", () => {
    const big = `data:image/png;base64,${"A".repeat(16)}`;
    expect(messages({ input_reference: big }, { ...OPTIONS, max_reference_bytes: 10 })).toEqual([
      "input_reference: The reference image is larger than 10 B",
    ]);
  });
  it("waits for options", () => {
    expect(validateForm(ok, null)[0].field).toBe("options");
  });
  it("lists every problem in control order", () => {
    expect(validateForm({ prompt: "", duration: 5, size: "x", input_reference: "nope" }, OPTIONS).map((p) => p.field)).toEqual([
      "prompt",
      "size",
      "duration",
      "input_reference",
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
