// What may go into a `src`/`href`/`poster` attribute. Media sources are the one place
// where a string from the server could make the browser fetch or run something, so they
// pass through these two small gates.

/**
 * A video source: a blob: URL (how clips normally arrive), or as a fallback an http(s)
 * URL or a relative path. Anything else (javascript:, data:, vbscript:, file:, a
 * protocol-relative //host) gives null.
 */
export function safeMediaSrc(src: unknown): string | null {
  if (typeof src !== "string") return null;
  const value = src.trim();
  if (!value || /[\u0000-\u001f\u007f]/.test(value)) return null;
  if (/^blob:/i.test(value)) return value;
  if (/^https?:\/\/[^/\s]/i.test(value)) return value;
  // Relative paths: no scheme, and not protocol-relative (//host or \\host would leave
  // the server). A colon before the first slash would make it a scheme.
  if (/^[/\\]{2}/.test(value)) return null;
  const firstSlash = value.search(/[/?#]/);
  const head = firstSlash < 0 ? value : value.slice(0, firstSlash);
  if (head.includes(":")) return null;
  return value;
}

const IMAGE_DATA = /^data:image\/(png|jpeg|jpg|gif|webp|avif);base64,[a-z0-9+/]+=*$/i;

/**
 * An image source for thumbnails and posters: only local data — a blob: URL or an
 * image data URI (never SVG, which can carry script). Remote URLs give null: a
 * thumbnail must not make the browser contact another host.
 */
export function safeImageSrc(src: unknown): string | null {
  if (typeof src !== "string") return null;
  if (/^blob:/i.test(src) && !/\s/.test(src)) return src;
  if (IMAGE_DATA.test(src)) return src;
  return null;
}
