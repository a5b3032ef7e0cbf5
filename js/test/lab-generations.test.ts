// The Generations panel's rules (js/lab/src/generations.ts, reproduce.ts): what a notebook's
// records become as rows, groups, totals and filters, which clip paths are served, and the
// Python that makes a generation again. Records here come with a notebook: untrusted.

import { describe, expect, it } from "vitest";
import {
  clipPath,
  collect,
  costText,
  fileProblem,
  listed,
  rowsOf,
  shapeOf,
  totals,
  totalsText,
  type IFilter,
  type IRow,
} from "../lab/src/generations";
import { pythonLiteral, reproduceCode } from "../lab/src/reproduce";
import { newer, type IRecord } from "../lab/src/records";

const ALL: IFilter = { text: "", status: "", model: "" };

function record(id: string, fields: Partial<IRecord> & Record<string, unknown> = {}): IRecord {
  return {
    id,
    status: "COMPLETED",
    updated_at: "2026-03-02T10:00:00.000Z",
    submitted_at: "2026-03-02T10:00:00.000Z",
    model: "sora-2",
    params: { prompt: `prompt of ${id}`, duration: 4, size: "720x1280" },
    ...fields,
  };
}

function rows(...records: IRecord[]): IRow[] {
  const generations = Object.fromEntries(records.map((r) => [r.id, r]));
  return rowsOf(collect({ schema_version: 1, generations }, []));
}

const ids = (items: { row: IRow }[]) => items.map((item) => item.row.id);

describe("collect", () => {
  it("reads metadata and record outputs, each record as it stands last, posters from the outputs", () => {
    const running = record("a", { status: "PROCESSING", updated_at: "2026-03-02T10:01:00.000Z" });
    const done = record("a", { status: "COMPLETED", updated_at: "2026-03-02T10:00:30.000Z" });
    const onlyInOutput = record("b");
    const found = collect({ generations: { a: running } }, [
      {
        cellId: "cell-1",
        data: {
          generations: [done, onlyInOutput, { id: 3 }, null],
          posters: { a: "data:image/jpeg;base64,AAAA", b: "javascript:alert(1)" },
        },
      },
    ]);
    expect([...found.records.keys()]).toEqual(["a", "b"]);
    expect(found.records.get("a")?.status).toBe("COMPLETED"); // a terminal status wins
    expect(found.posters.get("a")).toBe("data:image/jpeg;base64,AAAA");
    expect(found.posters.has("b")).toBe(false); // a poster is a JPEG data URI or nothing
    expect(found.outputCell.get("b")).toBe("cell-1");
  });

  it("survives metadata of any shape", () => {
    for (const metadata of [undefined, null, 3, "x", [], { generations: [] }, { generations: { x: "y" } }]) {
      expect(collect(metadata, [{ cellId: "c", data: { generations: "no" } }]).records.size).toBe(0);
    }
  });

  it("takes the cell a record names when the notebook has it, else the cell holding its output", () => {
    const named = record("n", { notebook: { path: "nb.ipynb", cell_id: "gone" } });
    const found = collect({ generations: { n: named } }, [{ cellId: "here", data: { generations: [named] } }]);
    expect(rowsOf(found, new Set(["here"]))[0].cellId).toBe("here");
    expect(rowsOf(found, new Set(["gone", "here"]))[0].cellId).toBe("gone");
  });
});

describe("rows", () => {
  it("show the prompt's first line, the aspect ratio and resolution where a model takes them", () => {
    const [row] = rows(record("a", { params: { prompt: "first\nsecond", duration: 8, aspect_ratio: "16:9", resolution: "1080p" } }));
    expect(row.prompt).toBe("first");
    expect(row.shape).toBe("16:9 · 1080p");
    expect(shapeOf({ size: "1280x720" })).toBe("1280x720");
    expect(row.durationS).toBe(8);
  });

  it("group a film's parts under the film, and a line of extended shots under its first", () => {
    const one = record("one", { submitted_at: "2026-03-02T10:00:00.000Z" });
    const two = record("two", { submitted_at: "2026-03-02T10:05:00.000Z", derived_from: { id: "one", how: "extend" } });
    const three = record("three", { submitted_at: "2026-03-02T10:09:00.000Z", derived_from: { id: "two", how: "extend" } });
    const remix = record("remix", { submitted_at: "2026-03-02T11:00:00.000Z", derived_from: { id: "solo", how: "remix" } });
    const solo = record("solo", { submitted_at: "2026-03-02T09:00:00.000Z" });
    const chain = rows(one, two, three, remix, solo);
    expect(Object.fromEntries(chain.map((r) => [r.id, r.parent]))).toEqual({
      one: null, two: "one", three: "one", remix: "solo", solo: null,
    });
    const film = record("film", {
      kind: "film",
      submitted_at: null,
      updated_at: "2026-03-02T10:20:00.000Z",
      parts: [{ id: "one", sha256: "0".repeat(64) }, { id: "two", sha256: "1".repeat(64) }],
    });
    const withFilm = rows(one, two, three, film);
    expect(Object.fromEntries(withFilm.map((r) => [r.id, r.parent]))).toEqual({
      one: "film", two: "film", three: "film", film: null,
    });
    expect(ids(listed(withFilm, ALL, "newest"))).toEqual(["film", "one", "two", "three"]);
    expect(listed(withFilm, ALL, "newest").map((item) => item.depth)).toEqual([0, 1, 1, 1]);
  });

  it("never loop on lineage that goes round in a circle", () => {
    const a = record("a", { derived_from: { id: "b", how: "remix" } });
    const b = record("b", { derived_from: { id: "a", how: "remix" } });
    expect(ids(listed(rows(a, b), ALL, "oldest")).sort()).toEqual(["a", "b"]);
  });
});

describe("totals", () => {
  it("count clips, failures and money: real charges, else estimates, marked", () => {
    const sum = totals(
      rows(
        record("a", { cost: { usd: 0.4, source: "api" } }),
        record("b", { cost: { usd: 1.2, source: "segmind" } }),
        record("c", { status: "FAILED", cost: { usd: 0, source: "api" } }),
        record("d", { status: "PROCESSING", cost: { usd: 0.8, source: "estimate" } }),
        record("f", { kind: "film", parts: [{ id: "a", sha256: "0".repeat(64) }] }),
      ),
    );
    expect(sum).toMatchObject({ clips: 2, failures: 1, running: 1 });
    expect(sum.usd).toBeCloseTo(2.4, 9);
    expect(sum.estimatedUsd).toBeCloseTo(0.8, 9);
    expect(totalsText(sum)).toBe("2 clips · 1 failed · 1 running · $2.40 spent ($0.80 of it estimated)");
    expect(totalsText({ clips: 1, failures: 0, running: 0, usd: 0.4, estimatedUsd: 0.4 })).toBe(
      "1 clip · 0 failed · $0.40 spent (estimated)",
    );
  });

  it("mark an estimate as such, never a charge", () => {
    expect(costText({ usd: 0.4, real: true })).toBe("$0.40");
    expect(costText({ usd: 0.4, real: false })).toBe("≈ $0.40 (estimate)");
    expect(costText({ usd: 0, real: false })).toBe("$0.00");
    expect(rows(record("x", { cost: { usd: -1, source: "api" } }))[0].cost).toBeNull();
  });
});

describe("filter and sort", () => {
  const all = rows(
    record("old", { submitted_at: "2026-03-01T10:00:00.000Z", cost: { usd: 2, source: "api" }, params: { prompt: "A red kite", duration: 4, size: "720x1280" } }),
    record("new", { submitted_at: "2026-03-03T10:00:00.000Z", cost: { usd: 0.4, source: "api" }, model: "sora-2-pro" }),
    record("bad", { submitted_at: "2026-03-02T10:00:00.000Z", status: "FAILED", error: { type: "x", message: "m", detail: "content policy" } }),
  );

  it("sorts newest first, oldest first, or dearest first", () => {
    expect(ids(listed(all, ALL, "newest"))).toEqual(["new", "bad", "old"]);
    expect(ids(listed(all, ALL, "oldest"))).toEqual(["old", "bad", "new"]);
    expect(ids(listed(all, ALL, "cost"))).toEqual(["old", "new", "bad"]);
  });

  it("filters by text (prompt, error, ids), status and model", () => {
    expect(ids(listed(all, { ...ALL, text: "red KITE" }, "newest"))).toEqual(["old"]);
    expect(ids(listed(all, { ...ALL, text: "policy" }, "newest"))).toEqual(["bad"]);
    expect(ids(listed(all, { ...ALL, status: "failed" }, "newest"))).toEqual(["bad"]);
    expect(ids(listed(all, { ...ALL, status: "completed", model: "sora-2-pro" }, "newest"))).toEqual(["new"]);
  });
});

describe("clip paths", () => {
  it("are relative paths inside the notebook's folder, joined to it", () => {
    expect(clipPath("work/nb.ipynb", "sora-outputs/a.mp4")).toBe("work/sora-outputs/a.mp4");
    expect(clipPath("nb.ipynb", "./sora-outputs/a.mp4")).toBe("sora-outputs/a.mp4");
    expect(clipPath("work/nb.ipynb", "sora-outputs\\a.mp4")).toBe("work/sora-outputs/a.mp4");
  });

  it("are never absolute, climbing, with a scheme, a drive, a host or control characters", () => {
    for (const bad of [
      "/etc/passwd", "../secret.mp4", "a/../../b.mp4", "C:/x.mp4", "C:\\x.mp4", "javascript:alert(1)",
      "//host/x.mp4", "\\\\host\\x.mp4", "https://x/y.mp4", "a\nb.mp4", " a.mp4", "~/a.mp4", "", ".",
    ]) {
      expect(clipPath("work/nb.ipynb", bad), bad).toBeNull();
    }
    expect(clipPath("nb.ipynb", null)).toBeNull();
  });

  it("badge a missing file, or one whose size is not the record's", () => {
    const [row] = rows(record("a", { video_path: "a.mp4", bytes: 100 }));
    expect(fileProblem(row, null)).toBe("file missing");
    expect(fileProblem(row, { size: 100 })).toBeNull();
    expect(fileProblem(row, { size: 90 })).toBe("file differs: 90 bytes, the record says 100");
  });
});

describe("reproduce code", () => {
  it("is sw.generate with one value per line, each a literal that cannot break out", () => {
    const code = reproduceCode(
      record("a", {
        params: { prompt: 'say "hi"\n""" + __import__("os")', duration: 8, size: "1280x720", input_reference: null },
        reference_source: "photo.png\nimport os",
      }),
    );
    expect(code).toBe(
      [
        "import sora_widget as sw",
        "",
        "# reference image uploaded from photo.png import os",
        "clip = sw.generate(",
        '    "say \\"hi\\"\\n\\"\\"\\" + __import__(\\"os\\")",',
        "    duration=8,",
        '    size="1280x720",',
        '    model="sora-2",',
        ")",
      ].join("\n"),
    );
  });

  it("keeps the model's own parameters, and skips names that are not Python's", () => {
    const code = reproduceCode(record("a", { params: { prompt: "p", duration: 5, aspect_ratio: "16:9", "bad-name": 1, seed: 7, sound: true } }));
    expect(code).toContain('    aspect_ratio="16:9",\n    seed=7,\n    sound=True,\n');
    expect(code).not.toContain("bad");
  });

  it("stitches a film again from its parts, and extends a shot from its parent", () => {
    const film = reproduceCode(record("f", { kind: "film", video_path: "film.mp4", parts: [{ id: "a" }, { id: "b" }] }));
    expect(film).toContain('film = sw.stitch(\n    ["a", "b"],\n    "film.mp4",\n)');
    const shot = reproduceCode(record("s", { derived_from: { id: "a", how: "extend" } }));
    expect(shot).toContain('clip = sw.extend(\n    "a",\n    "prompt of s",\n    duration=4,');
  });

  it("writes JSON values as Python literals", () => {
    expect(pythonLiteral({ a: [1, null, false, "\u2028"] })).toBe('{"a": [1, None, False, "\\u2028"]}');
  });
});

describe("which view of a record the notebook keeps", () => {
  it("keeps every ending the kernel has, NOT_SUBMITTED too, over a later running view", () => {
    for (const status of ["COMPLETED", "FAILED", "EXPIRED", "NOT_SUBMITTED"]) {
      const ended = record("g1", { status, updated_at: "2026-03-02T10:00:00.000Z" });
      const later = record("g1", { status: "QUEUED", updated_at: "2026-03-02T10:05:00.000Z" });
      expect(newer(ended, later).status).toBe(status);
      expect(newer(later, ended).status).toBe(status);
    }
  });
  it("takes the newest among running views", () => {
    const first = record("g1", { status: "UNKNOWN", updated_at: "2026-03-02T10:00:00.000Z" });
    const second = record("g1", { status: "QUEUED", updated_at: "2026-03-02T10:05:00.000Z" });
    expect(newer(first, second).status).toBe("QUEUED");
  });
});
