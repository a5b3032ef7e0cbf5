// Keys pressed in the widget stay in the widget. JupyterLab 4 and Notebook 7 run their
// shortcuts (Lumino's command registry) on keys that bubble up to the document, matched
// against the focused element: in command mode ArrowDown on a radio moved the notebook to
// the next cell, Enter on a button entered edit mode, a digit typed in a number box
// changed the cell's type. Lumino skips a key whose target carries
// `data-lm-suppress-shortcuts`: every control gets it when it takes focus (controls are
// built and rebuilt as models and jobs change; focus is the one moment they all share),
// so the browser's own handling — arrows within a radio group or a select, Enter and
// Space on a button — is what the key does.

import type { Scope } from "../lifecycle";

const SUPPRESS = "data-lm-suppress-shortcuts";

export function keepKeysInside(root: HTMLElement, scope: Scope): void {
  scope.listen(root, "focusin", (event) => {
    const target = event.target;
    if (target instanceof Element && !target.hasAttribute(SUPPRESS)) target.setAttribute(SUPPRESS, "true");
  });
}

/** Escape inside `el` closes what it opened (`close` says whether something was open);
 * the key then stops here, so the notebook does not act on it too. */
export function closeOnEscape(scope: Scope, el: HTMLElement, close: () => boolean): void {
  scope.listen(el, "keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    if (!close()) return;
    event.preventDefault();
    event.stopPropagation();
  });
}
