import { describe, expect, it } from "vitest";
import { safeImageSrc, safeMediaSrc } from "../src/media";

describe("safeMediaSrc", () => {
  it("allows blob:, http(s) and relative paths", () => {
    expect(safeMediaSrc("blob:http://localhost:8888/1234-5678")).toBe("blob:http://localhost:8888/1234-5678");
    expect(safeMediaSrc("https://cdn.example.com/v.mp4")).toBe("https://cdn.example.com/v.mp4");
    expect(safeMediaSrc("http://127.0.0.1:9/v.mp4")).toBe("http://127.0.0.1:9/v.mp4");
    expect(safeMediaSrc("sora-outputs/a.mp4")).toBe("sora-outputs/a.mp4");
    expect(safeMediaSrc("./a.mp4?x=1:2")).toBe("./a.mp4?x=1:2");
    expect(safeMediaSrc("/files/a.mp4")).toBe("/files/a.mp4");
  });
  it("refuses script, data, file and protocol-relative sources", () => {
    for (const bad of [
      "javascript:alert(1)",
      " JavaScript:alert(1)",
      "java\tscript:alert(1)",
      "vbscript:msgbox",
      "data:video/mp4;base64,AAAA",
      "data:text/html,<script>alert(1)</script>",
      "file:///etc/passwd",
      "//evil.example/v.mp4",
      "\\\\evil\\share",
      "https:",
      "",
      "   ",
    ]) {
      expect(safeMediaSrc(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(safeMediaSrc(null)).toBeNull();
    expect(safeMediaSrc(42)).toBeNull();
  });
});

describe("safeImageSrc", () => {
  it("allows only local image data", () => {
    expect(safeImageSrc("blob:null/abc")).toBe("blob:null/abc");
    expect(safeImageSrc("data:image/jpeg;base64,/9j/4AAQ")).toBe("data:image/jpeg;base64,/9j/4AAQ");
  });
  it("never lets a remote URL or SVG through", () => {
    expect(safeImageSrc("https://example.com/a.png")).toBeNull();
    expect(safeImageSrc("data:image/svg+xml;base64,PHN2Zz4=")).toBeNull();
    expect(safeImageSrc("data:text/html;base64,PGI+")).toBeNull();
    expect(safeImageSrc("data:image/png;base64,AA AA")).toBeNull();
    expect(safeImageSrc(undefined)).toBeNull();
  });
});
