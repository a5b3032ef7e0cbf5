import { defineConfig } from "vitest/config";

// Vitest 5's reporter uses Map.groupBy (Node 21+) when it prints failures; on Node 20
// it would crash instead of showing them. This file runs in the reporter's process.
const mapWithGroupBy = Map as unknown as { groupBy?: unknown };
if (typeof mapWithGroupBy.groupBy !== "function") {
  mapWithGroupBy.groupBy = <K, V>(items: Iterable<V>, key: (item: V, index: number) => K): Map<K, V[]> => {
    const groups = new Map<K, V[]>();
    let index = 0;
    for (const item of items) {
      const k = key(item, index++);
      const group = groups.get(k);
      if (group) group.push(item);
      else groups.set(k, [item]);
    }
    return groups;
  };
}

export default defineConfig({
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    css: false,
    // One DOM per worker instead of one per test file: fifteen happy-dom set-ups were 80 % of
    // the run (25 CPU-s against 5, on a CI machine where pytest runs beside it). Every view's
    // render returns a cleanup and the tests call it, so no file sees another's nodes.
    isolate: false,
  },
});
