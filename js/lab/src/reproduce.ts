// The Python that makes a generation again, as the panel's "Copy code" gives it: the
// same calls as records/view.py's `reproduce_code`, one value per line. Every value
// comes from a record that came with a notebook, so each is written as a literal that
// cannot end its line or its string early: JSON's escapes are Python's.

import { IRecord, objectOf } from './records';

/** A Python literal of a JSON value (strings, numbers, booleans, null, lists, dicts). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : 'None';
  }
  if (typeof value === 'string') {
    // JSON leaves U+2028/U+2029 raw; escaped, no editor shows them as a line break
    return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  }
  if (Array.isArray(value)) {
    return `[${value.map(pythonLiteral).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const items = Object.entries(value as Record<string, unknown>).map(
      ([key, item]) => `${pythonLiteral(key)}: ${pythonLiteral(item)}`
    );
    return `{${items.join(', ')}}`;
  }
  return 'None';
}

/** A keyword argument's name as it is, when it is a Python identifier; else nothing. */
function keyword(name: string): string | null {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : null;
}

/** Text for a comment: one line, no control characters. */
function commentText(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

function call(target: string, fn: string, args: string[]): string {
  return [`${target} = ${fn}(`, ...args.map(arg => `    ${arg},`), ')'].join('\n');
}

export function reproduceCode(record: IRecord): string {
  const params = objectOf(record.params);
  const head = ['import sora_widget as sw', ''];
  if (record.kind === 'film') {
    const parts = Array.isArray(record.parts) ? record.parts : [];
    const ids = parts.map(part => objectOf(part).id).filter((id): id is string => typeof id === 'string');
    const path = typeof record.video_path === 'string' ? record.video_path : 'film.mp4';
    return [...head, call('film', 'sw.stitch', [pythonLiteral(ids), pythonLiteral(path)])].join('\n');
  }
  const args: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const key = keyword(name);
    if (name !== 'prompt' && key && value !== null && value !== undefined && value !== '') {
      args.push(`${key}=${pythonLiteral(value)}`);
    }
  }
  if (typeof record.model === 'string') {
    args.push(`model=${pythonLiteral(record.model)}`);
  }
  const prompt = pythonLiteral(typeof params.prompt === 'string' ? params.prompt : '');
  const derived = objectOf(record.derived_from);
  if (derived.how === 'extend' && typeof derived.id === 'string') {
    const withoutReference = args.filter(arg => !arg.startsWith('input_reference='));
    return [
      ...head,
      '# continues the clip of that id (sw.read_records lists them) from its last frame',
      call('clip', 'sw.extend', [pythonLiteral(derived.id), prompt, ...withoutReference])
    ].join('\n');
  }
  const lines = [...head];
  if (typeof record.reference_source === 'string' && record.reference_source) {
    lines.push(`# reference image uploaded from ${commentText(record.reference_source)}`);
  }
  lines.push(call('clip', 'sw.generate', [prompt, ...args]));
  return lines.join('\n');
}
