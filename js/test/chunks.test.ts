import { describe, expect, it } from "vitest";
import { ChunkAssembler } from "../src/chunks";
import { bytesView } from "./fakes";

const chunk = (index: number, total: number, size: number) => ({ kind: "video_chunk" as const, id: "r", index, total, mime: "video/mp4", size });

describe("ChunkAssembler", () => {
  it("reassembles chunks in index order, whatever the arrival order", async () => {
    const a = new ChunkAssembler();
    expect(a.add(chunk(2, 3, 6), bytesView([5, 6]))).toBeUndefined();
    expect(a.add(chunk(0, 3, 6), bytesView([1, 2]))).toBeUndefined();
    expect(a.progress).toMatchObject({ received: 4, size: 6, chunks: 2, total: 3 });
    const blob = a.add(chunk(1, 3, 6), bytesView([3, 4]));
    expect(blob?.type).toBe("video/mp4");
    expect([...new Uint8Array(await blob!.arrayBuffer())]).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it("respects a DataView's offset into a larger buffer", async () => {
    const buffer = new Uint8Array([9, 9, 7, 8, 9]).buffer;
    const blob = new ChunkAssembler().add(chunk(0, 1, 2), new DataView(buffer, 2, 2));
    expect([...new Uint8Array(await blob!.arrayBuffer())]).toEqual([7, 8]);
  });
  it("refuses duplicates, gaps, changed totals and short transfers", () => {
    const a = new ChunkAssembler();
    a.add(chunk(0, 2, 4), bytesView([1, 2]));
    expect(() => a.add(chunk(0, 2, 4), bytesView([1, 2]))).toThrow(/twice/);
    expect(() => a.add(chunk(5, 2, 4), bytesView([1]))).toThrow(/out of range/);
    expect(() => a.add(chunk(1, 3, 4), bytesView([1]))).toThrow(/count changed/);
    expect(() => a.add(chunk(1, 2, 4), bytesView([3]))).toThrow(/3 bytes of 4/);
    expect(() => new ChunkAssembler().add(chunk(0, 1, 1), undefined)).toThrow(/no data/);
    expect(() => new ChunkAssembler().add(chunk(0, 0, 1), bytesView([1]))).toThrow(/count/);
  });
});
