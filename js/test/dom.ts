// Just enough of the accessibility tree to find controls the way Playwright's
// get_by_role / get_by_label do: by role and accessible name.

function textOf(el: Element): string {
  return (el.textContent ?? "").replace(/\s+/g, " ").trim();
}

export function accessibleName(el: Element): string {
  const label = el.getAttribute("aria-label");
  if (label) return label.trim();
  const labelledBy = el.getAttribute("aria-labelledby");
  if (labelledBy) {
    return labelledBy
      .split(/\s+/)
      .map((id) => el.ownerDocument.getElementById(id))
      .filter((x): x is HTMLElement => x !== null)
      .map(textOf)
      .join(" ");
  }
  if (el.id) {
    const forLabel = el.ownerDocument.querySelector(`label[for="${el.id}"]`);
    if (forLabel) return textOf(forLabel);
  }
  const wrapping = el.closest("label");
  if (wrapping) return textOf(wrapping);
  if (el.tagName === "BUTTON" || el.tagName === "A") return textOf(el);
  return "";
}

export function roleOf(el: Element): string | null {
  const explicit = el.getAttribute("role");
  if (explicit) return explicit;
  switch (el.tagName) {
    case "BUTTON":
      return "button";
    case "TEXTAREA":
      return "textbox";
    case "A":
      return el.hasAttribute("href") ? "link" : null;
    case "VIDEO":
      return "video";
    case "SELECT":
      return "combobox";
    case "INPUT": {
      const type = (el.getAttribute("type") ?? "text").toLowerCase();
      if (type === "radio") return "radio";
      if (type === "checkbox") return "checkbox";
      if (type === "number") return "spinbutton";
      if (type === "file" || type === "hidden") return null;
      return "textbox";
    }
    default:
      return null;
  }
}

/** Visible elements (no `hidden` ancestor) with this role and name. */
export function allByRole(root: Element, role: string, name?: string | RegExp): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>("*")].filter((el) => {
    if (roleOf(el) !== role || el.closest("[hidden]")) return false;
    if (name === undefined) return true;
    const n = accessibleName(el);
    return typeof name === "string" ? n === name : name.test(n);
  });
}

export function byRole(root: Element, role: string, name?: string | RegExp): HTMLElement {
  const found = allByRole(root, role, name);
  if (found.length !== 1) {
    const names = [...root.querySelectorAll("*")].filter((el) => roleOf(el) === role).map(accessibleName);
    throw new Error(`expected one ${role} named ${String(name)}, found ${found.length} (have: ${JSON.stringify(names)})`);
  }
  return found[0];
}

export function visibleText(root: Element): string {
  const parts: string[] = [];
  const walk = (node: Node) => {
    if (node.nodeType === 3) parts.push(node.textContent ?? "");
    else if (node instanceof Element && !node.hasAttribute("hidden")) node.childNodes.forEach(walk);
  };
  walk(root);
  return parts.join(" ").replace(/\s+/g, " ");
}
