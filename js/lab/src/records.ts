// Pure rules for the records this extension writes into notebook metadata.

import { TERMINAL_STATUSES } from './statuses.generated';

export const METADATA_KEY = 'sora_widget';
export const SCHEMA_VERSION = 1;
const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

export interface IRecord {
  id: string;
  status: string;
  updated_at: string;
  [key: string]: unknown;
}

export interface ISection {
  schema_version: number;
  generations: Record<string, IRecord>;
}

export interface IUpdate {
  record: IRecord;
  cell_id?: string | null;
  notebook_path?: string | null;
}

/** A JSON object's fields, or none (a record from a notebook may hold anything). */
export function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A terminal status wins over a running one; among equals the newest wins. */
export function newer(known: IRecord | undefined, incoming: IRecord): IRecord {
  if (!known) {
    return incoming;
  }
  const knownDone = TERMINAL.has(known.status);
  const incomingDone = TERMINAL.has(incoming.status);
  if (knownDone !== incomingDone) {
    return knownDone ? known : incoming;
  }
  return incoming.updated_at >= known.updated_at ? incoming : known;
}

export function withRecord(section: Partial<ISection> | undefined, record: IRecord): ISection {
  const generations = { ...(section?.generations ?? {}) };
  generations[record.id] = newer(generations[record.id], record);
  return { ...section, schema_version: SCHEMA_VERSION, generations };
}

export function withId(ids: unknown, id: string): string[] {
  const known = Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
  return known.includes(id) ? known : [...known, id];
}

export function isUpdate(data: unknown): data is IUpdate {
  const record = (data as IUpdate | null)?.record;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.id === 'string' &&
    typeof record.status === 'string' &&
    typeof record.updated_at === 'string'
  );
}

/** The updates one message carries: a batch (`updates`: the kernel gathers the records
 * that changed in a moment into one message) or a single update. */
export function updatesOf(data: unknown): IUpdate[] {
  const batch = (data as { updates?: unknown } | null)?.updates;
  const items: unknown[] = Array.isArray(batch) ? batch : [data];
  return items.filter(isUpdate);
}
