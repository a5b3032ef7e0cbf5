// The Generations panel: every generation of the notebook in focus, one row each, with
// totals, filters, the cell that made it, its clip, its request id and the code that
// makes it again. It reads only the notebook (its metadata and record outputs) and the
// server's files, so it works for a saved notebook with no kernel running; while a job
// runs, the metadata mirror's writes make its row change.

import { JupyterFrontEnd } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  IFilter,
  IListed,
  IOutputRecords,
  IRow,
  SortOrder,
  StatusFilter,
  clipPath,
  collect,
  costText,
  durationText,
  fileProblem,
  listed,
  rowsOf,
  totals,
  totalsText,
  whenText
} from './generations';
import { el } from './dom';
import { MIME_TYPE } from './mime';
import { METADATA_KEY } from './records';
import { reproduceCode } from './reproduce';

export const PANEL_ID = 'sora-widget-generations';

type Contents = JupyterFrontEnd['serviceManager']['contents'];

/** What the panel needs of a cell's outputs (a code cell's output area model). */
interface IOutputList {
  length: number;
  get(index: number): { data: Record<string, unknown> };
}

/** A file's size as the server reports it, or null when it is not there. */
type Found = { size: number | null } | null;

const REFRESH_MS = 150;

function option(value: string, label: string): HTMLOptionElement {
  const node = document.createElement('option');
  node.value = value;
  node.textContent = label;
  return node;
}

function labelled<T extends HTMLElement>(label: string, control: T): HTMLLabelElement {
  const wrap = el('label', 'sora-widget-gen-field');
  wrap.append(el('span', 'sora-widget-gen-field-label', label), control);
  return wrap;
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // without the async clipboard (an insecure origin, a denied permission): the old way
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    let done = false;
    try {
      done = document.execCommand('copy');
    } catch {
      done = false;
    }
    area.remove();
    return done;
  }
}

export class GenerationsPanel extends Widget {
  private notebook: NotebookPanel | null = null;
  private rows: IRow[] = [];
  private shown: IListed[] = [];
  private signature = '';
  private dirty = true;
  private timer: number | null = null;
  private focusId: string | null = null;
  private selectedId: string | null = null;
  private detailId: string | null = null;
  private detailState = '';
  private found = new Map<string, Found>();
  private foundKey = '';
  private filter: IFilter = { text: '', status: '', model: '' };
  private order: SortOrder = 'newest';
  /** settles once the player shown has its source */
  private playerReady: Promise<void> = Promise.resolve();

  private readonly heading = el('h2', 'sora-widget-gen-title', 'Generations');
  private readonly notebookName = el('p', 'sora-widget-gen-notebook');
  private readonly totalsLine = el('p', 'sora-widget-gen-totals');
  private readonly search = el('input', 'sora-widget-gen-search');
  private readonly statusSelect = el('select', 'sora-widget-gen-status-filter');
  private readonly modelSelect = el('select', 'sora-widget-gen-model-filter');
  private readonly sortSelect = el('select', 'sora-widget-gen-sort');
  private readonly list = el('ul', 'sora-widget-gen-list');
  private readonly empty = el('p', 'sora-widget-gen-empty');
  private readonly detail = el('section', 'sora-widget-gen-detail');
  private readonly said = el('p', 'sora-widget-gen-said');

  constructor(
    private readonly tracker: INotebookTracker,
    private readonly contents: Contents
  ) {
    super();
    this.id = PANEL_ID;
    this.title.label = 'Generations';
    // Notebook 7's View menu says "Show <caption>"
    this.title.caption = 'Generations';
    this.addClass('sora-widget-gen');
    this.build();
    this.tracker.currentChanged.connect(this.onCurrentChanged, this);
    this.follow(this.tracker.currentWidget);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.tracker.currentChanged.disconnect(this.onCurrentChanged, this);
    this.follow(null);
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
    }
    super.dispose();
  }

  // -- building -----------------------------------------------------------------------

  private build(): void {
    const head = el('div', 'sora-widget-gen-head');
    this.heading.id = `${PANEL_ID}-title`;
    this.search.type = 'search';
    this.search.placeholder = 'prompt, id, model…';
    this.statusSelect.append(
      option('', 'any'),
      option('running', 'running'),
      option('completed', 'completed'),
      option('failed', 'failed'),
      option('other', 'unknown')
    );
    this.modelSelect.append(option('', 'any'));
    this.sortSelect.append(option('newest', 'newest first'), option('oldest', 'oldest first'), option('cost', 'cost, dearest first'));
    const tools = el('div', 'sora-widget-gen-tools');
    tools.append(
      labelled('Filter', this.search),
      labelled('Status', this.statusSelect),
      labelled('Model', this.modelSelect),
      labelled('Sort by', this.sortSelect)
    );
    head.append(this.heading, this.notebookName, this.totalsLine, tools);

    this.list.setAttribute('role', 'listbox');
    this.list.setAttribute('aria-labelledby', this.heading.id);
    this.list.hidden = true;
    this.detail.setAttribute('aria-label', 'Selected generation');
    this.detail.hidden = true;
    this.said.setAttribute('role', 'status');
    this.node.append(head, this.list, this.empty, this.detail, this.said);

    this.search.addEventListener('input', () => this.setFilter({ text: this.search.value }));
    this.statusSelect.addEventListener('change', () =>
      this.setFilter({ status: this.statusSelect.value as StatusFilter })
    );
    this.modelSelect.addEventListener('change', () => this.setFilter({ model: this.modelSelect.value }));
    this.sortSelect.addEventListener('change', () => {
      this.order = this.sortSelect.value as SortOrder;
      this.renderList();
    });
    this.list.addEventListener('keydown', event => this.onListKey(event));
    // wherever the focus lands in the list (a click, a script, Tab), the arrows go on from there
    this.list.addEventListener('focusin', event => {
      const id = (event.target as HTMLElement).dataset?.id;
      if (id && id !== this.focusId) {
        this.focusRow(id);
      }
    });
    this.list.addEventListener('click', event => {
      const item = (event.target as HTMLElement).closest<HTMLElement>('[role="option"]');
      if (item?.dataset.id) {
        this.focusRow(item.dataset.id);
        void this.choose(item.dataset.id, { play: true });
      }
    });
  }

  // -- following the notebook in focus -------------------------------------------------

  private onCurrentChanged(): void {
    this.follow(this.tracker.currentWidget);
  }

  private follow(panel: NotebookPanel | null): void {
    if (panel === this.notebook) {
      return;
    }
    const old = this.notebook;
    if (old) {
      old.content.model?.metadataChanged.disconnect(this.schedule, this);
      old.content.model?.contentChanged.disconnect(this.schedule, this);
      old.disposed.disconnect(this.onNotebookDisposed, this);
    }
    this.notebook = panel;
    this.selectedId = this.focusId = this.detailId = null;
    this.found.clear();
    this.foundKey = '';
    this.signature = '';
    if (panel) {
      panel.disposed.connect(this.onNotebookDisposed, this);
      void panel.context.ready.then(() => {
        if (this.notebook === panel && !panel.isDisposed) {
          panel.content.model?.metadataChanged.connect(this.schedule, this);
          panel.content.model?.contentChanged.connect(this.schedule, this);
          this.schedule();
        }
      });
    }
    this.schedule();
  }

  private onNotebookDisposed(): void {
    this.follow(this.tracker.currentWidget === this.notebook ? null : this.tracker.currentWidget);
  }

  private schedule(): void {
    this.dirty = true;
    if (this.timer !== null || !this.isVisible) {
      return; // a hidden panel catches up when it is shown
    }
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, REFRESH_MS);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.dirty) {
      this.refresh();
    }
    // files change behind the notebook's back: shown again, the badges are asked again
    this.foundKey = '';
    void this.checkFiles();
  }

  // -- reading the notebook --------------------------------------------------------------

  private read(): { rows: IRow[]; signature: string } {
    const model = this.notebook?.content.model;
    if (!model) {
      return { rows: [], signature: '' };
    }
    const outputs: IOutputRecords[] = [];
    const cellIds = new Set<string>();
    for (const cell of model.cells) {
      cellIds.add(cell.id);
      const list = (cell as unknown as { outputs?: IOutputList }).outputs;
      if (cell.type !== 'code' || !list) {
        continue;
      }
      for (let i = 0; i < list.length; i++) {
        const data = list.get(i).data[MIME_TYPE];
        if (data !== undefined) {
          outputs.push({ cellId: cell.id, data });
        }
      }
    }
    const rows = rowsOf(collect(model.getMetadata(METADATA_KEY), outputs), cellIds);
    const signature = JSON.stringify(
      rows.map(r => [r.id, r.record.updated_at, r.status, r.cellId, r.poster?.length ?? 0, r.parent])
    );
    return { rows, signature };
  }

  refresh(): void {
    this.dirty = false;
    const panel = this.notebook;
    this.notebookName.textContent = panel ? panel.context.localPath : '';
    const { rows, signature } = this.read();
    if (signature === this.signature && panel) {
      return;
    }
    this.signature = signature;
    this.rows = rows;
    this.totalsLine.textContent = panel ? totalsText(totals(rows)) : '';
    this.updateModels();
    this.renderList();
    void this.checkFiles();
  }

  private updateModels(): void {
    const models = [...new Set(this.rows.map(r => r.model).filter(Boolean))].sort();
    const known = [...this.modelSelect.options].slice(1).map(o => o.value);
    if (known.join('\n') === models.join('\n')) {
      return;
    }
    this.modelSelect.replaceChildren(option('', 'any'), ...models.map(m => option(m, m)));
    if (this.filter.model && !models.includes(this.filter.model)) {
      this.filter = { ...this.filter, model: '' };
    }
    this.modelSelect.value = this.filter.model;
  }

  private setFilter(change: Partial<IFilter>): void {
    this.filter = { ...this.filter, ...change };
    this.renderList();
  }

  // -- the list ----------------------------------------------------------------------------

  private renderList(): void {
    const hadFocus = this.list.contains(document.activeElement);
    this.shown = listed(this.rows, this.filter, this.order);
    const ids = this.shown.map(item => item.row.id);
    if (!this.focusId || !ids.includes(this.focusId)) {
      this.focusId = ids.includes(this.selectedId ?? '') ? this.selectedId : (ids[0] ?? null);
    }
    this.list.replaceChildren(...this.shown.map(item => this.renderRow(item)));
    this.list.hidden = this.shown.length === 0;
    this.empty.hidden = this.shown.length > 0;
    this.empty.textContent = !this.notebook
      ? 'Open a notebook to see its generations.'
      : this.rows.length === 0
        ? 'No generations in this notebook yet.'
        : 'No generation matches the filter.';
    if (hadFocus) {
      this.rowNode(this.focusId)?.focus();
    }
    this.renderDetail();
  }

  private renderRow({ row, depth }: IListed): HTMLLIElement {
    const item = el('li', `sora-widget-gen-row sora-widget-gen-depth-${depth}`);
    item.setAttribute('role', 'option');
    item.dataset.id = row.id;
    item.dataset.status = row.status;
    item.tabIndex = row.id === this.focusId ? 0 : -1;
    item.setAttribute('aria-selected', String(row.id === this.selectedId));
    if (row.poster) {
      const img = el('img', 'sora-widget-gen-thumb');
      img.alt = '';
      img.src = row.poster;
      item.append(img);
    } else {
      item.append(el('span', 'sora-widget-gen-thumb sora-widget-gen-thumb-none'));
    }
    const main = el('div', 'sora-widget-gen-main');
    const prompt = row.prompt || (row.kind === 'film' ? 'film' : '(no prompt)');
    main.append(el('div', 'sora-widget-gen-prompt', prompt));
    const facts = el('div', 'sora-widget-gen-facts');
    facts.append(el('span', `sora-widget-gen-status sora-widget-gen-status-${row.status.toLowerCase()}`, row.status));
    const rest = [
      row.kind === 'film' ? 'film' : row.model,
      row.shape,
      durationText(row.durationS),
      costText(row.cost),
      whenText(row.when)
    ].filter(Boolean);
    for (const part of rest) {
      facts.append(el('span', 'sora-widget-gen-fact', part));
    }
    main.append(facts);
    if (row.relation && depth === 1) {
      main.append(el('div', 'sora-widget-gen-relation', row.relation));
    }
    const problem = this.problemOf(row);
    if (problem) {
      main.append(el('span', 'sora-widget-gen-badge', problem));
    }
    item.append(main);
    return item;
  }

  private rowNode(id: string | null): HTMLElement | null {
    if (id === null) {
      return null;
    }
    for (const node of this.list.children) {
      if ((node as HTMLElement).dataset.id === id) {
        return node as HTMLElement;
      }
    }
    return null;
  }

  private focusRow(id: string): void {
    this.focusId = id;
    for (const node of this.list.children) {
      (node as HTMLElement).tabIndex = (node as HTMLElement).dataset.id === id ? 0 : -1;
    }
    this.rowNode(id)?.focus();
  }

  private onListKey(event: KeyboardEvent): void {
    const ids = this.shown.map(item => item.row.id);
    if (ids.length === 0) {
      return;
    }
    const at = Math.max(0, ids.indexOf(this.focusId ?? ''));
    const moves: Record<string, number> = {
      ArrowDown: Math.min(ids.length - 1, at + 1),
      ArrowUp: Math.max(0, at - 1),
      Home: 0,
      End: ids.length - 1
    };
    if (event.key in moves) {
      event.preventDefault();
      event.stopPropagation();
      this.focusRow(ids[moves[event.key]]);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      event.stopPropagation();
      void this.choose(ids[at], { play: true });
    }
  }

  // -- a chosen generation -----------------------------------------------------------------

  private async choose(id: string, options: { play: boolean }): Promise<void> {
    this.selectedId = id;
    for (const node of this.list.children) {
      node.setAttribute('aria-selected', String((node as HTMLElement).dataset.id === id));
    }
    const row = this.rows.find(r => r.id === id);
    if (!row) {
      return;
    }
    this.showCell(row);
    this.detailId = null; // a new choice shows afresh, and checks its file again
    this.renderDetail();
    if (options.play) {
      await Promise.all([this.checkFile(row), this.playerReady]);
      const video = this.detail.querySelector('video');
      // a choice is a person's gesture: the clip may play with its sound
      video?.play().catch(() => undefined);
    }
  }

  /** Select the cell that made it and scroll it into view, leaving the focus here. */
  private showCell(row: IRow): void {
    const notebook = this.notebook?.content;
    if (!notebook || !row.cellId) {
      return;
    }
    const index = notebook.widgets.findIndex(cell => cell.model.id === row.cellId);
    if (index < 0) {
      return;
    }
    if (notebook.mode === 'edit') {
      // command mode focuses the active cell; the focus stays where the person is
      const here = document.activeElement as HTMLElement | null;
      notebook.mode = 'command';
      here?.focus({ preventScroll: true });
    }
    notebook.activeCellIndex = index;
    notebook.deselectAll();
    void notebook.scrollToItem(index, 'center').catch(() => undefined);
  }

  private renderDetail(): void {
    const row = this.rows.find(r => r.id === this.selectedId) ?? null;
    this.detail.hidden = row === null;
    if (!row) {
      this.detail.replaceChildren();
      this.detailId = null;
      return;
    }
    const state = JSON.stringify([row.record.updated_at, row.status, row.videoPath, this.problemOf(row)]);
    if (this.detailId === row.id && this.detailState === state) {
      return;
    }
    // a clip already playing keeps playing through a live update of its record
    const keep = this.detailId === row.id ? this.detail.querySelector('video') : null;
    const keptPath = this.detail.dataset.clip ?? '';
    this.detailId = row.id;
    this.detailState = state;
    const nodes: HTMLElement[] = [];
    nodes.push(el('h3', 'sora-widget-gen-detail-title', row.kind === 'film' ? 'Film' : 'Clip'));
    const path = this.notebook ? clipPath(this.notebook.context.path, row.videoPath) : null;
    const problem = this.problemOf(row);
    if (keep && path === keptPath) {
      nodes.push(keep);
    } else if (path && row.status === 'COMPLETED' && problem !== 'file missing') {
      nodes.push(this.player(path, row));
    } else if (row.poster) {
      const img = el('img', 'sora-widget-gen-poster');
      img.src = row.poster;
      img.alt = 'poster frame of the clip';
      nodes.push(img);
    }
    this.detail.dataset.clip = path ?? '';
    if (problem) {
      nodes.push(el('p', 'sora-widget-gen-badge', problem));
    }
    const params = row.record.params as Record<string, unknown> | undefined;
    const prompt = typeof params?.prompt === 'string' ? params.prompt : '';
    nodes.push(el('p', 'sora-widget-gen-detail-prompt', prompt));
    const facts = el('dl', 'sora-widget-gen-detail-facts');
    const error = row.record.error as { message?: unknown; detail?: unknown } | null | undefined;
    const entries: [string, string][] = [
      ['status', row.status],
      ['model', row.model],
      ['size', row.shape],
      ['duration', durationText(row.durationS)],
      ['cost', costText(row.cost)],
      ['when', whenText(row.when)],
      ['request id', row.requestId ?? ''],
      ['file', row.videoPath ?? ''],
      ['error', error ? String(error.detail ?? error.message ?? '') : '']
    ];
    for (const [name, value] of entries) {
      if (value) {
        facts.append(el('dt', '', name), el('dd', '', value));
      }
    }
    nodes.push(facts);
    const actions = el('div', 'sora-widget-gen-actions');
    const cell = el('button', 'sora-widget-gen-action', 'Show cell');
    cell.type = 'button';
    cell.disabled = !row.cellId;
    cell.addEventListener('click', () => this.showCell(row));
    const request = el('button', 'sora-widget-gen-action', 'Copy request id');
    request.type = 'button';
    request.disabled = !row.requestId;
    request.addEventListener('click', () => void this.copy(row.requestId ?? '', 'Request id copied.'));
    const code = el('button', 'sora-widget-gen-action', 'Copy code');
    code.type = 'button';
    code.addEventListener('click', () => void this.copy(reproduceCode(row.record), 'Code copied.'));
    actions.append(cell, request, code);
    nodes.push(actions);
    this.detail.replaceChildren(...nodes);
  }

  private player(path: string, row: IRow): HTMLVideoElement {
    const video = el('video', 'sora-widget-gen-video');
    video.controls = true;
    video.playsInline = true;
    video.preload = 'metadata';
    video.setAttribute('aria-label', `clip: ${row.prompt}`);
    if (row.poster) {
      video.poster = row.poster;
    }
    this.playerReady = this.contents
      .getDownloadUrl(path)
      .then(url => {
        video.src = url;
      })
      .catch(() => undefined);
    video.addEventListener(
      'error',
      () => {
        if (video.isConnected) {
          video.after(el('p', 'sora-widget-gen-badge', 'the clip could not be played'));
        }
      },
      { once: true }
    );
    return video;
  }

  private async copy(text: string, done: string): Promise<void> {
    this.said.textContent = (await copyText(text)) ? done : 'Could not copy.';
  }

  // -- the clips' files ----------------------------------------------------------------------

  private problemOf(row: IRow): string | null {
    if (row.status !== 'COMPLETED' || !row.videoPath || !this.notebook) {
      return null;
    }
    const path = clipPath(this.notebook.context.path, row.videoPath);
    if (!path) {
      return 'file outside the notebook’s folder';
    }
    return this.found.has(path) ? fileProblem(row, this.found.get(path) ?? null) : null;
  }

  /** One listing per folder that holds clips, again only when the clips changed. */
  private async checkFiles(): Promise<void> {
    const panel = this.notebook;
    if (!panel) {
      return;
    }
    const paths = this.rows
      .filter(r => r.status === 'COMPLETED')
      .map(r => clipPath(panel.context.path, r.videoPath))
      .filter((p): p is string => p !== null);
    const key = JSON.stringify([...new Set(paths)].sort());
    if (key === this.foundKey) {
      return;
    }
    this.foundKey = key;
    const folders = new Map<string, Map<string, string>>();
    for (const path of paths) {
      const slash = path.lastIndexOf('/');
      const folder = slash >= 0 ? path.slice(0, slash) : '';
      const names = folders.get(folder) ?? new Map<string, string>();
      names.set(path.slice(slash + 1), path);
      folders.set(folder, names);
    }
    const found = new Map<string, Found>();
    await Promise.all(
      [...folders].map(async ([folder, names]) => {
        const sizes = new Map<string, number | null>();
        try {
          const listing = await this.contents.get(folder, { content: true, type: 'directory' });
          const items: { name?: unknown; type?: unknown; size?: unknown }[] = Array.isArray(listing.content)
            ? listing.content
            : [];
          for (const item of items) {
            if (typeof item.name === 'string' && item.type !== 'directory') {
              sizes.set(item.name, typeof item.size === 'number' ? item.size : null);
            }
          }
        } catch {
          // no such folder: none of its clips is here
        }
        for (const [name, path] of names) {
          found.set(path, sizes.has(name) ? { size: sizes.get(name) ?? null } : null);
        }
      })
    );
    if (this.notebook !== panel || this.foundKey !== key) {
      return;
    }
    this.found = found;
    this.renderList();
  }

  /** The chosen clip's file, asked about afresh (it may have changed since the listing). */
  private async checkFile(row: IRow): Promise<void> {
    const panel = this.notebook;
    const path = panel ? clipPath(panel.context.path, row.videoPath) : null;
    if (!panel || !path || row.status !== 'COMPLETED') {
      return;
    }
    let found: Found = null;
    try {
      const model = await this.contents.get(path, { content: false });
      found = { size: typeof model.size === 'number' ? model.size : null };
    } catch {
      found = null;
    }
    const before = this.found.get(path);
    if (this.notebook !== panel || (before !== undefined && JSON.stringify(before) === JSON.stringify(found))) {
      return;
    }
    this.found.set(path, found);
    this.renderList();
  }
}
