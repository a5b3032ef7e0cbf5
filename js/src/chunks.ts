// Reassembles a clip sent as `video_chunk` messages (index 0…total-1, bytes in
// buffers[0]) into one Blob. Chunks may in principle arrive out of order; duplicates,
// gaps and size mismatches are errors rather than a silently broken video.

import type { ChunkMessage } from "./dispatch";

export class ChunkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChunkError";
  }
}

export class ChunkAssembler {
  private parts: (ArrayBufferView | undefined)[] = [];
  private total = -1;
  private mime = "";
  private size = -1;
  private count = 0;
  private bytes = 0;

  /** Bytes received so far, and the size the kernel announced (−1 before any chunk). */
  get progress(): { received: number; size: number; chunks: number; total: number } {
    return { received: this.bytes, size: this.size, chunks: this.count, total: this.total };
  }

  /** Add one chunk; returns the Blob once the last one is in, else undefined. */
  add(msg: ChunkMessage, buffer: ArrayBufferView | ArrayBuffer | undefined): Blob | undefined {
    if (!Number.isInteger(msg.total) || msg.total < 1) throw new ChunkError(`bad chunk count ${msg.total}`);
    if (this.total < 0) {
      this.total = msg.total;
      this.mime = typeof msg.mime === "string" && msg.mime ? msg.mime : "video/mp4";
      this.size = Number.isFinite(msg.size) ? msg.size : -1;
      this.parts = new Array(msg.total);
    } else if (msg.total !== this.total) {
      throw new ChunkError(`chunk count changed from ${this.total} to ${msg.total}`);
    }
    const index = msg.index;
    if (!Number.isInteger(index) || index < 0 || index >= this.total) throw new ChunkError(`chunk index ${index} out of range`);
    if (this.parts[index] !== undefined) throw new ChunkError(`chunk ${index} arrived twice`);
    if (buffer === undefined) throw new ChunkError(`chunk ${index} has no data`);
    const view = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : buffer;
    this.parts[index] = view;
    this.count += 1;
    this.bytes += view.byteLength;
    if (this.count < this.total) return undefined;
    if (this.size >= 0 && this.bytes !== this.size) {
      throw new ChunkError(`received ${this.bytes} bytes of ${this.size}`);
    }
    const blob = new Blob(this.parts as BlobPart[], { type: this.mime });
    this.parts = []; // let the chunk buffers go: the Blob holds the bytes now
    return blob;
  }
}
