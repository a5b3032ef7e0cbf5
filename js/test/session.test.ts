import { afterEach, describe, expect, it } from "vitest";
import { acquireSession, openSession, openSessionCount, sameModel } from "../src/session";
import { FakeModel } from "./fakes";

afterEach(() => expect(openSessionCount()).toBe(0));

describe("sessions", () => {
  it("recognise proxies of one model, and tell models apart", () => {
    const a = new FakeModel();
    const b = new FakeModel({ options: { ...a.attrs.options as object } }); // equal, not the same
    expect(sameModel(a.proxy(), a.proxy())).toBe(true);
    expect(sameModel(a.proxy(), b.proxy())).toBe(false);
    const pa = a.proxy();
    const pa2 = a.proxy();
    a.kernelSet({ jobs: [], backend: { api_key_set: false, emulator: false, host: "x" } });
    expect(sameModel(pa, pa2)).toBe(true); // live: still the same after traits change
  });

  it("give every view of a model the session `initialize` opened", () => {
    const model = new FakeModel();
    const close = openSession(model.proxy());
    const v1 = acquireSession(model.proxy());
    const v2 = acquireSession(model.proxy());
    expect(v1.session).toBe(v2.session);
    const other = acquireSession(new FakeModel().proxy());
    expect(other.session).not.toBe(v1.session);
    v1.release();
    v2.release();
    other.release();
    expect(openSessionCount()).toBe(1); // initialize's stays until its cleanup
    close();
    expect(model.listeners).toBe(0);
  });

  it("without `initialize`, live from the first view to the last", () => {
    const model = new FakeModel();
    const v1 = acquireSession(model.proxy());
    const v2 = acquireSession(model.proxy());
    expect(v2.session).toBe(v1.session);
    v1.release();
    v1.release(); // twice is harmless
    expect(openSessionCount()).toBe(1);
    v2.release();
    expect(openSessionCount()).toBe(0);
    expect(model.listeners).toBe(0);
  });
});
