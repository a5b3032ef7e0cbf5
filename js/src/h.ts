// The one way this view builds DOM. Everything that comes from the user or the server
// reaches the page as a Text node or an attribute value, never as markup: there is no
// innerHTML anywhere in the view, so a prompt like `<img onerror=…>` stays a string.

export type Child = Node | string | number | null | undefined | false | Child[];
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** Create an element with attributes and children; strings become Text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Set (or, for null/undefined/false, remove) attributes. */
export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    // Inline handlers would be a second, string-typed way to run code: refuse them.
    if (/^on/i.test(name)) throw new Error(`h(): refusing inline event handler attribute ${name}`);
    if (value === null || value === undefined || value === false) el.removeAttribute(name);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (typeof child === "string" || typeof child === "number") {
      parent.appendChild(document.createTextNode(String(child)));
    } else parent.appendChild(child);
  }
}

/** Replace an element's children (strings as text). */
export function replaceChildren(el: Element, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

/** Set text only when it changed, so screen readers and selections are not disturbed. */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Show or hide an element with the `hidden` attribute (CSS keeps it hidden, too). */
export function show(el: HTMLElement, visible: boolean): void {
  if (el.hidden === visible) el.hidden = !visible;
}

let counter = 0;
/** Ids unique in the page: several views of several widgets share one document. */
export function uid(prefix: string): string {
  counter += 1;
  return `sw-${prefix}-${counter.toString(36)}`;
}
