import { describe, expect, it } from "vitest";
import {
  errorTitle,
  formatBytes,
  formatClock,
  formatElapsed,
  hostOf,
  paramsSummary,
  referenceText,
  sizeLabel,
  statusLabel,
  truncate,
} from "../src/format";
import { OPTIONS } from "./fakes";

describe("formatClock", () => {
  it("writes m:ss, and h:mm:ss from an hour", () => {
    expect(formatClock(0)).toBe("0:00");
    expect(formatClock(5.9)).toBe("0:05");
    expect(formatClock(83)).toBe("1:23");
    expect(formatClock(180)).toBe("3:00");
    expect(formatClock(3725)).toBe("1:02:05");
  });
  it("treats nonsense as zero", () => {
    expect(formatClock(-3)).toBe("0:00");
    expect(formatClock(Number.NaN)).toBe("0:00");
  });
  it("shows elapsed against expected", () => {
    expect(formatElapsed(83, 180)).toBe("1:23 / ~3:00");
    expect(formatElapsed(83, 0)).toBe("1:23");
  });
});

describe("formatBytes", () => {
  it("uses B, KB, MB", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(10 * 1024 * 1024)).toBe("10 MB");
    expect(formatBytes(3.25 * 1024 * 1024)).toBe("3.3 MB");
    expect(formatBytes(-1)).toBe("?");
  });
});

describe("labels", () => {
  it("names sizes as the radios do", () => {
    expect(sizeLabel(OPTIONS.sizes[0])).toBe("Portrait 720×1280");
    expect(sizeLabel(OPTIONS.sizes[1])).toBe("Landscape 1280×720");
    expect(paramsSummary({ prompt: "x", duration: 4, size: "1280x720", input_reference: null }, OPTIONS)).toBe(
      "Landscape 1280×720 · 4 s",
    );
    expect(paramsSummary({ prompt: "x", duration: 4, size: "640x480", input_reference: null }, null)).toBe("640×480 · 4 s");
  });
  it("maps statuses, unknown ones to UNKNOWN", () => {
    expect(statusLabel("PROCESSING")).toBe("PROCESSING");
    expect(statusLabel("weird")).toBe("UNKNOWN");
  });
  it("shows hosts, never credentials", () => {
    expect(hostOf("https://user:secret@Images.Example.com/a.png")).toBe("images.example.com");
    expect(hostOf("data:image/png;base64,AAAA")).toBeNull();
    expect(referenceText("https://cdn.example.com/x.png")).toBe("image on cdn.example.com");
    expect(referenceText("data:image/png;base64,AAAA")).toBe("embedded image/png image");
    expect(referenceText("https://x/y.png", "cat.png")).toBe("cat.png");
    expect(referenceText(null)).toBe("none");
  });
  it("truncates by code point", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("🎬🎬🎬", 2)).toBe("🎬…");
    expect(truncate("short", 10)).toBe("short");
  });
});

describe("errorTitle", () => {
  const t = (type: string, http_status: number | null = null) => errorTitle({ type, http_status });
  it("says what each error type means", () => {
    expect(t("AuthenticationError", 401)).toBe("API key missing or rejected (401)");
    expect(t("PermissionDenied", 403)).toContain("403");
    expect(t("InsufficientCredits", 406)).toBe("Not enough credits (406)");
    expect(t("RateLimited", 429)).toContain("429");
    expect(t("GenerationFailed")).toBe("Generation failed");
    expect(t("RequestExpired", 404)).toBe("Result expired");
    expect(t("GenerationTimeout")).toContain("Stopped waiting");
    expect(t("SubmitOutcomeUnknown")).toBe("Submit outcome unknown — may be billed");
    expect(t("NetworkError")).toContain("Network error");
    expect(t("ServerError", 503)).toBe("Server error (503)");
    expect(t("ServerError")).toBe("Server error (5xx)");
    expect(t("DownloadError")).toBe("Download failed");
    expect(t("InvalidParams")).toBe("Invalid parameters");
    expect(t("ShotError")).toBe("This clip cannot be used for the shot");
  });
  it("falls back to the type name", () => {
    expect(t("SomethingNew")).toBe("SomethingNew");
    expect(t("")).toBe("Error");
  });
});
