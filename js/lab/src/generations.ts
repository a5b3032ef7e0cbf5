// Pure rules of the Generations panel: which generations a notebook holds (its metadata,
// and its record outputs where the metadata lacks them), one row each, grouped under
// their lineage, filtered, sorted and totalled. Everything read here came with a
// notebook: untrusted, so each value is checked for its type before it is shown.

import { IRecord, newer, objectOf } from './records';

/** A record output's payload (application/vnd.sora-widget.generation+json). */
export interface IOutputRecords {
  cellId: string;
  data: unknown;
}

/** Where one notebook's generations were found. */
export interface ICollected {
  records: Map<string, IRecord>;
  /** poster frames (JPEG data URIs), from the record outputs */
  posters: Map<string, string>;
  /** the cell whose outputs hold each record */
  outputCell: Map<string, string>;
}

export const RUNNING = new Set(['SUBMITTING', 'QUEUED', 'PROCESSING']);
export const FAILED = new Set(['FAILED', 'EXPIRED']);
const REAL_COST_SOURCES = new Set(['api', 'segmind']);
const POSTER_PREFIX = 'data:image/jpeg;base64,';

export function isRecord(value: unknown): value is IRecord {
  const r = value as IRecord | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.id === 'string' &&
    r.id.length > 0 &&
    typeof r.status === 'string' &&
    typeof r.updated_at === 'string'
  );
}

/** The records of a notebook: its metadata section first, then its record outputs; a
 * record known twice is kept as it stands last (a terminal status wins). */
export function collect(metadata: unknown, outputs: IOutputRecords[]): ICollected {
  const records = new Map<string, IRecord>();
  const posters = new Map<string, string>();
  const outputCell = new Map<string, string>();
  const add = (value: unknown): IRecord | null => {
    if (!isRecord(value)) {
      return null;
    }
    records.set(value.id, newer(records.get(value.id), value));
    return value;
  };
  const generations = objectOf(objectOf(metadata).generations);
  for (const value of Object.values(generations)) {
    add(value);
  }
  for (const output of outputs) {
    const data = objectOf(output.data);
    const list = Array.isArray(data.generations) ? data.generations : [];
    const shown = objectOf(data.posters);
    for (const value of list) {
      const record = add(value);
      if (!record) {
        continue;
      }
      if (!outputCell.has(record.id)) {
        outputCell.set(record.id, output.cellId);
      }
      const poster = shown[record.id];
      if (typeof poster === 'string' && poster.startsWith(POSTER_PREFIX)) {
        posters.set(record.id, poster);
      }
    }
  }
  return { records, posters, outputCell };
}

/** What a row shows of one generation. */
export interface IRow {
  id: string;
  record: IRecord;
  prompt: string;
  model: string;
  /** aspect ratio and resolution where the model takes them, else the size */
  shape: string;
  durationS: number | null;
  status: string;
  cost: ICost | null;
  /** when it was asked for (ISO), or last changed */
  when: string;
  poster: string | null;
  kind: 'clip' | 'film';
  requestId: string | null;
  videoPath: string | null;
  bytes: number | null;
  /** the cell the record names, else the cell whose outputs hold it */
  cellId: string | null;
  /** the generation this one is grouped under, and how it came from it */
  parent: string | null;
  relation: string | null;
}

export interface ICost {
  usd: number;
  /** charged by the API (its answer or Segmind's history), not estimated */
  real: boolean;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function costOf(record: IRecord): ICost | null {
  const cost = objectOf(record.cost);
  const usd = finite(cost.usd);
  if (usd === null || usd < 0) {
    return null;
  }
  return { usd, real: REAL_COST_SOURCES.has(String(cost.source)) };
}

export function shapeOf(params: Record<string, unknown>): string {
  const ratio = text(params.aspect_ratio);
  const resolution = text(params.resolution);
  if (ratio || resolution) {
    return [ratio, resolution].filter(Boolean).join(' · ');
  }
  return text(params.size) ?? '';
}

export function firstLine(value: string): string {
  const line = value.split(/\r\n|\r|\n/, 1)[0] ?? '';
  return line.trim();
}

/** Rows of the records, each with the generation it is grouped under: a film's parts
 * under the film; a shot made from another (`derived_from`) under the first of its line. */
export function rowsOf(collected: ICollected, cellIds?: ReadonlySet<string>): IRow[] {
  const { records, posters, outputCell } = collected;
  const filmOf = new Map<string, string>();
  for (const record of records.values()) {
    if (record.kind === 'film' && Array.isArray(record.parts)) {
      for (const part of record.parts) {
        const id = text(objectOf(part).id);
        if (id && records.has(id) && id !== record.id) {
          filmOf.set(id, record.id);
        }
      }
    }
  }
  const directParent = (id: string): string | null => {
    const film = filmOf.get(id);
    if (film) {
      return film;
    }
    const derived = text(objectOf(records.get(id)?.derived_from).id);
    return derived && derived !== id && records.has(derived) ? derived : null;
  };
  const rootOf = (id: string): string | null => {
    const seen = new Set([id]);
    let parent = directParent(id);
    let root: string | null = null;
    while (parent && !seen.has(parent)) {
      root = parent;
      seen.add(parent);
      parent = directParent(parent);
    }
    return root;
  };
  const rows: IRow[] = [];
  for (const record of records.values()) {
    const params = objectOf(record.params);
    const notebook = objectOf(record.notebook);
    const named = text(notebook.cell_id);
    const cellId = named && (!cellIds || cellIds.has(named)) ? named : (outputCell.get(record.id) ?? named);
    const film = filmOf.get(record.id);
    const how = text(objectOf(record.derived_from).how);
    const relation = film ? 'part of the film' : how === 'extend' ? 'continues' : how === 'remix' ? 'remix' : null;
    const parent = rootOf(record.id);
    rows.push({
      id: record.id,
      record,
      prompt: firstLine(text(params.prompt) ?? ''),
      model: text(record.model) ?? '',
      shape: shapeOf(params),
      durationS: finite(params.duration),
      status: record.status,
      cost: costOf(record),
      when: text(record.submitted_at) ?? record.updated_at,
      poster: posters.get(record.id) ?? null,
      kind: record.kind === 'film' ? 'film' : 'clip',
      requestId: text(record.request_id),
      videoPath: text(record.video_path),
      bytes: finite(record.bytes),
      cellId: cellId ?? null,
      parent,
      relation: parent ? relation : null
    });
  }
  return rows;
}

export interface ITotals {
  clips: number;
  failures: number;
  running: number;
  /** real charges where known, else estimates */
  usd: number;
  /** the part of `usd` that is estimated */
  estimatedUsd: number;
}

/** Clips made, failures and money spent: every clip of the notebook (a film is clips
 * already counted, and costs nothing of its own). */
export function totals(rows: IRow[]): ITotals {
  const sum: ITotals = { clips: 0, failures: 0, running: 0, usd: 0, estimatedUsd: 0 };
  for (const row of rows) {
    if (row.kind === 'film') {
      continue;
    }
    if (row.status === 'COMPLETED') {
      sum.clips += 1;
    } else if (FAILED.has(row.status)) {
      sum.failures += 1;
    } else if (RUNNING.has(row.status)) {
      sum.running += 1;
    }
    if (row.cost) {
      sum.usd += row.cost.usd;
      if (!row.cost.real) {
        sum.estimatedUsd += row.cost.usd;
      }
    }
  }
  return sum;
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

export function totalsText(sum: ITotals): string {
  const parts = [`${sum.clips} ${sum.clips === 1 ? 'clip' : 'clips'}`, `${sum.failures} failed`];
  if (sum.running) {
    parts.push(`${sum.running} running`);
  }
  let spent = `${formatUsd(sum.usd)} spent`;
  if (sum.estimatedUsd > 0) {
    spent += sum.estimatedUsd === sum.usd ? ' (estimated)' : ` (${formatUsd(sum.estimatedUsd)} of it estimated)`;
  }
  parts.push(spent);
  return parts.join(' · ');
}

export function costText(cost: ICost | null): string {
  if (!cost) {
    return '';
  }
  // nothing charged is nothing, however it was known (a failed job costs nothing)
  return cost.real || cost.usd === 0 ? formatUsd(cost.usd) : `≈ ${formatUsd(cost.usd)} (estimate)`;
}

export type StatusFilter = '' | 'running' | 'completed' | 'failed' | 'other';
export type SortOrder = 'newest' | 'oldest' | 'cost';

export interface IFilter {
  text: string;
  status: StatusFilter;
  model: string;
}

export function statusGroup(status: string): StatusFilter {
  if (RUNNING.has(status)) {
    return 'running';
  }
  if (status === 'COMPLETED') {
    return 'completed';
  }
  return FAILED.has(status) ? 'failed' : 'other';
}

export function matches(row: IRow, filter: IFilter): boolean {
  if (filter.status && statusGroup(row.status) !== filter.status) {
    return false;
  }
  if (filter.model && row.model !== filter.model) {
    return false;
  }
  const needle = filter.text.trim().toLowerCase();
  if (!needle) {
    return true;
  }
  const error = objectOf(row.record.error);
  const prompt = text(objectOf(row.record.params).prompt) ?? '';
  const haystack = [prompt, row.id, row.requestId, row.model, row.shape, row.status, text(error.message), text(error.detail)];
  return haystack.some(value => typeof value === 'string' && value.toLowerCase().includes(needle));
}

/** A row as listed: at the top level, or under the generation it is grouped with. */
export interface IListed {
  row: IRow;
  depth: 0 | 1;
}

/** The rows that pass the filter, in order: groups sorted (newest first, oldest first,
 * or dearest first by what the group cost), each followed by its members in the order
 * they were made. A member whose group's first row did not pass stands on its own. */
export function listed(rows: IRow[], filter: IFilter, order: SortOrder): IListed[] {
  const passing = rows.filter(row => matches(row, filter));
  // a group's first row stands at the top (lineage that goes round in a circle has none)
  const heads = new Set(passing.filter(row => row.parent === null).map(row => row.id));
  const members = new Map<string, IRow[]>();
  const tops: IRow[] = [];
  for (const row of passing) {
    if (row.parent && heads.has(row.parent)) {
      const list = members.get(row.parent) ?? [];
      list.push(row);
      members.set(row.parent, list);
    } else {
      tops.push(row);
    }
  }
  const groupCost = (row: IRow): number =>
    (row.cost?.usd ?? 0) + (members.get(row.id) ?? []).reduce((sum, m) => sum + (m.cost?.usd ?? 0), 0);
  const byTime = (a: IRow, b: IRow): number => (a.when < b.when ? -1 : a.when > b.when ? 1 : a.id < b.id ? -1 : 1);
  tops.sort((a, b) => {
    if (order === 'cost') {
      return groupCost(b) - groupCost(a) || -byTime(a, b);
    }
    return order === 'oldest' ? byTime(a, b) : -byTime(a, b);
  });
  const out: IListed[] = [];
  for (const top of tops) {
    out.push({ row: top, depth: 0 });
    for (const member of (members.get(top.id) ?? []).sort(byTime)) {
      out.push({ row: member, depth: 1 });
    }
  }
  return out;
}

export function durationText(seconds: number | null): string {
  return seconds === null ? '' : `${seconds} s`;
}

/** A short local time: today's as hours and minutes, older ones with their date. */
export function whenText(iso: string, now: Date = new Date()): string {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) {
    return '';
  }
  const time = moment.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (moment.toDateString() === now.toDateString()) {
    return time;
  }
  return `${moment.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })} ${time}`;
}

/** The clip's path on the server: the record's relative path below the notebook's
 * folder, or null when it is anything else — absolute, with a scheme or a drive, a
 * host, `..`, control characters — since a record came with a notebook. */
export function clipPath(notebookPath: string, videoPath: string | null): string | null {
  if (!videoPath || videoPath !== videoPath.trim()) {
    return null;
  }
  if ([...videoPath].some(c => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return null;
  }
  const unified = videoPath.replace(/\\/g, '/');
  if (unified.startsWith('/') || unified.startsWith('~')) {
    return null;
  }
  const parts = unified.split('/').filter(part => part !== '' && part !== '.');
  if (parts.length === 0 || parts.includes('..') || parts[0].includes(':')) {
    return null;
  }
  const slash = notebookPath.lastIndexOf('/');
  const folder = slash >= 0 ? notebookPath.slice(0, slash) : '';
  return folder ? `${folder}/${parts.join('/')}` : parts.join('/');
}

/** What a plain badge says of the clip's file, or null when it is as recorded. */
export function fileProblem(row: IRow, found: { size: number | null } | null): string | null {
  if (!found) {
    return 'file missing';
  }
  if (row.bytes !== null && found.size !== null && found.size !== row.bytes) {
    return `file differs: ${found.size} bytes, the record says ${row.bytes}`;
  }
  return null;
}
