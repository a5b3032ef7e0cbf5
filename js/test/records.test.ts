import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/widget";
import { drawRecords, readRecordOutput } from "../src/records";
import { FakeModel } from "./fakes";

type Cleanup = () => void;
const cleanups: Cleanup[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function render(model: FakeModel): Promise<HTMLElement> {
  const init = (await widget.initialize({ model: model.proxy() } as never)) as Cleanup;
  const el = document.createElement("div");
  document.body.appendChild(el);
  const done = (await widget.render({ model: model.proxy(), el } as never)) as Cleanup;
  cleanups.push(() => {
    done();
    init();
    el.remove();
  });
  return el;
}

const POSTER = "data:image/jpeg;base64,/9j/AAAA";

function completed(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    status: "COMPLETED",
    request_id: `req-${id}`,
    sha256: "3f2a9c1e5b7d0123456789",
    synthetic: true,
    params: { prompt: "a paper boat", duration: 4, size: "1280x720", input_reference: null },
    ...extra,
  };
}

describe("the record output the view draws itself (Voilà, marimo)", () => {
  it("draws nothing where the kernel keeps the record output elsewhere ({})", async () => {
    const el = await render(new FakeModel({ record_output: {} }));
    const node = el.querySelector<HTMLElement>(".sora-widget-record-output")!;
    expect(node.hidden).toBe(true);
    expect(node.textContent).toBe("");
  });

  it("follows the trait: no generations yet, then the completed clip with its request id", async () => {
    const model = new FakeModel({ record_output: { schema_version: 1, generations: [], posters: {} } });
    const el = await render(model);
    const node = el.querySelector<HTMLElement>(".sora-widget-record-output")!;
    expect(node.hidden).toBe(false);
    expect(node.textContent).toContain("no generations yet");
    model.kernelSet({ record_output: { schema_version: 1, generations: [completed("g1")], posters: { g1: POSTER } } });
    expect(node.textContent).toContain("COMPLETED");
    expect(node.textContent).toContain("request req-g1");
    expect(node.textContent).toContain("4s 1280x720");
    expect(node.querySelector("img")!.getAttribute("src")).toBe(POSTER);
  });

  it("shows values as text and takes only JPEG data URIs as posters", () => {
    const node = document.createElement("div");
    const model = new FakeModel({
      record_output: {
        generations: [completed("g1", { params: { prompt: "<img src=x onerror=alert(1)>", duration: 4, size: "1280x720" } })],
        posters: { g1: "javascript:alert(1)" },
      },
    });
    drawRecords(node, readRecordOutput(model.asModel()));
    expect(node.querySelector("img")).toBeNull();
    expect(node.querySelector(".sw-record-prompt")!.textContent).toBe("<img src=x onerror=alert(1)>");
  });

  it("lets go of the model when the view is removed", async () => {
    const model = new FakeModel({ record_output: { generations: [] } });
    const el = await render(model);
    cleanups.pop()!();
    expect(el.querySelector(".sora-widget-record-output")).toBeNull();
    expect(model.handlers.get("change:record_output")?.size ?? 0).toBe(0);
  });
});
