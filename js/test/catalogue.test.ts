// Every model's allowed values reach the widget's controls, driven by the real catalogue:
// js/test/fixtures/options.json is params.view_options() (tools/view_options_json.py; a
// pytest fails when it is stale). A model added to the catalogue is tested here with no
// line of this file changed; a value that does not reach its control fails its row.

import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/widget";
import { controlKind } from "../src/form";
import type { FieldOption, ModelOption } from "../src/protocol";
import { FakeModel, OPTIONS } from "./fakes";
import { accessibleName, allByRole, byRole } from "./dom";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

let current: FakeModel | null = null;

async function mountModel(model: ModelOption): Promise<HTMLElement> {
  const fake = new FakeModel({ model: model.name, duration: model.durations[0], size: model.sizes[0] ?? "", values: {} });
  current = fake;
  const init = (await widget.initialize({ model: fake.proxy() } as never)) as () => void;
  const el = document.createElement("div");
  document.body.appendChild(el);
  const done = (await widget.render({ model: fake.proxy(), el } as never)) as () => void;
  cleanups.push(() => {
    done();
    init();
    el.remove();
  });
  return el;
}

/** The values a field's control offers, as the view would send them. */
function offered(el: HTMLElement, field: FieldOption): unknown[] {
  switch (controlKind(field)) {
    case "radio": {
      const group = byRole(el, "radiogroup", field.label);
      return allByRole(group, "radio").map((r) => {
        (r as HTMLInputElement).checked = true;
        r.dispatchEvent(new Event("change", { bubbles: true }));
        return lastWritten(field);
      });
    }
    case "select": {
      const select = byRole(el, "combobox", field.label) as HTMLSelectElement;
      return Array.from(select.options).map((option) => {
        select.value = option.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
        return lastWritten(field);
      });
    }
    default:
      return [];
  }
}

function lastWritten(field: FieldOption): unknown {
  const attrs = current!.attrs;
  if (field.name === "duration" || field.name === "size") return attrs[field.name];
  return (attrs.values as Record<string, unknown>)[field.name];
}

const ROWS = OPTIONS.models.flatMap((model) => model.fields.map((field) => [model.name, field.name, model, field] as const));
const OTHER_LABELS = [...new Set(OPTIONS.models.flatMap((m) => m.fields.map((f) => f.label)))];

describe("every catalogued model's controls", () => {
  it.each(ROWS)("%s: %s reaches its control with every allowed value", async (_m, _f, model, field) => {
    const el = await mountModel(model);
    const kind = controlKind(field);
    if (kind === "radio" || kind === "select") {
      expect(offered(el, field)).toEqual(field.choices.map((c) => c.value));
    } else if (kind === "switch") {
      const toggle = byRole(el, "switch", field.label) as HTMLInputElement;
      toggle.click();
      expect(lastWritten(field)).toBe(toggle.checked);
      toggle.click();
      expect(lastWritten(field)).toBe(toggle.checked);
    } else if (kind === "number") {
      const box = byRole(el, "spinbutton", field.label) as HTMLInputElement;
      expect([box.min, box.max]).toEqual([String(field.minimum), String(field.maximum)]);
      box.value = String(field.maximum);
      box.dispatchEvent(new Event("input", { bubbles: true }));
      expect(lastWritten(field)).toBe(field.maximum);
    } else if (kind === "image") {
      const group = el.querySelector<HTMLElement>(`[data-field="${field.name}"]`)!;
      byRole(group, "textbox", field.label);
      byRole(group, "button", "Choose image…");
    } else {
      const box = byRole(el, "textbox", field.label) as HTMLInputElement;
      box.value = "no rain";
      box.dispatchEvent(new Event("input", { bubbles: true }));
      expect(lastWritten(field)).toBe("no rain");
    }
  });

  it.each(OPTIONS.models.map((m) => [m.name, m] as const))("%s: shows no control for a field it lacks", async (_name, model) => {
    const el = await mountModel(model);
    const own = new Set(model.fields.map((f) => f.label));
    const shown = [...el.querySelectorAll(".sw-form [data-field]")].map((f) => f.getAttribute("data-field"));
    expect(shown.sort()).toEqual(model.fields.map((f) => f.name).sort());
    for (const label of OTHER_LABELS.filter((l) => !own.has(l))) {
      const named = [...el.querySelectorAll("*")].filter((n) => accessibleName(n) === label && !n.closest("[hidden]"));
      expect(named, label).toHaveLength(0);
    }
    const menu = byRole(el, "combobox", "Model") as HTMLSelectElement;
    expect(Array.from(menu.options).map((o) => o.textContent)).toEqual(OPTIONS.models.map((m) => `${m.label} · ${m.name}`));
    expect(menu.value).toBe(model.name);
  });
});
