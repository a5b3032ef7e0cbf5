import { afterEach, describe, expect, it, vi } from "vitest";
import { Scope, UrlPool } from "../src/lifecycle";
import { FakeModel } from "./fakes";

describe("Scope", () => {
  afterEach(() => vi.useRealTimers());

  it("releases in reverse order, once", () => {
    const order: number[] = [];
    const scope = new Scope();
    scope.add(() => order.push(1));
    scope.add(() => order.push(2));
    scope.dispose();
    scope.dispose();
    expect(order).toEqual([2, 1]);
    scope.add(() => order.push(3)); // late acquisitions are released at once
    expect(order).toEqual([2, 1, 3]);
  });

  it("pairs model.on with model.off and removes DOM listeners", () => {
    const model = new FakeModel();
    const scope = new Scope();
    const button = document.createElement("button");
    const clicks = vi.fn();
    scope.on(model, "change:prompt", () => undefined);
    scope.listen(button, "click", clicks);
    scope.dispose();
    button.click();
    expect(clicks).not.toHaveBeenCalled();
    expect(model.onCalls).toBe(model.offCalls);
    expect(model.listeners).toBe(0);
  });

  it("clears timers and intervals; fired timeouts leave nothing behind", () => {
    vi.useFakeTimers();
    const scope = new Scope();
    const fired = vi.fn();
    scope.timeout(fired, 10);
    scope.interval(fired, 10);
    vi.advanceTimersByTime(10);
    expect(fired).toHaveBeenCalledTimes(2);
    scope.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("disposes children with the parent, or alone", () => {
    const parent = new Scope();
    const a = parent.child();
    const b = parent.child();
    const released: string[] = [];
    a.add(() => released.push("a"));
    b.add(() => released.push("b"));
    a.dispose();
    expect(released).toEqual(["a"]);
    parent.dispose();
    expect(released).toEqual(["a", "b"]);
  });
});

describe("UrlPool", () => {
  it("makes one URL per blob and revokes them all with its scope", () => {
    const create = vi.spyOn(URL, "createObjectURL");
    const revoke = vi.spyOn(URL, "revokeObjectURL");
    const scope = new Scope();
    const pool = new UrlPool(scope);
    const a = new Blob(["a"]);
    const b = new Blob(["b"]);
    expect(pool.url(a)).toBe(pool.url(a));
    pool.url(b);
    expect(create).toHaveBeenCalledTimes(2);
    pool.keepOnly([a]);
    expect(revoke).toHaveBeenCalledTimes(1);
    scope.dispose();
    expect(revoke).toHaveBeenCalledTimes(2);
    expect(pool.size).toBe(0);
    create.mockRestore();
    revoke.mockRestore();
  });
});
