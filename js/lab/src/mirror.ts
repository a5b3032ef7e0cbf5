// Mirrors every sora-widget generation record into the notebook's own metadata.
//
// The kernel opens one short comm per moment in which records changed (target
// `sora_widget.records`, the changes as `updates`); this plugin writes each record under
// metadata.sora_widget.generations[id] and its id under the originating cell's
// metadata.sora_widget.generation_ids. Metadata is saved
// with the .ipynb and survives "clear outputs" — widget state does not.

import { NotebookPanel } from '@jupyterlab/notebook';

import { ISection, IUpdate, METADATA_KEY, updatesOf, withId, withRecord } from './records';

export const COMM_TARGET = 'sora_widget.records';

// Derived from the notebook's own types, so this plugin never carries a second copy
// of @jupyterlab/services' declarations.
type KernelConnection = NonNullable<NonNullable<NotebookPanel['sessionContext']['session']>['kernel']>;
type CommTargetHandler = Parameters<KernelConnection['registerCommTarget']>[1];

function apply(panel: NotebookPanel, data: IUpdate): void {
  const model = panel.content.model;
  if (!model) {
    return;
  }
  let cell = null;
  for (const candidate of model.cells) {
    if (data.cell_id && candidate.id === data.cell_id) {
      cell = candidate;
      break;
    }
  }
  // Two notebooks can share a kernel: write only where the record belongs.
  const path = data.notebook_path;
  if (data.cell_id && !cell && path && !panel.context.path.endsWith(path)) {
    return;
  }
  const section = model.getMetadata(METADATA_KEY) as Partial<ISection> | undefined;
  model.setMetadata(METADATA_KEY, withRecord(section, data.record));
  if (cell) {
    const cellMeta = (cell.getMetadata(METADATA_KEY) ?? {}) as Record<string, unknown>;
    cell.setMetadata(METADATA_KEY, {
      ...cellMeta,
      generation_ids: withId(cellMeta.generation_ids, data.record.id)
    });
  }
}

/** Mirror the records of the kernel `panel` runs on into its notebook, from kernel to kernel. */
export function follow(panel: NotebookPanel): void {
  let current: KernelConnection | null = null;
  const handler: CommTargetHandler = (_comm, msg) => {
    for (const update of updatesOf(msg.content.data)) {
      apply(panel, update);
    }
  };
  const attach = (): void => {
    const kernel = panel.sessionContext.session?.kernel ?? null;
    if (kernel === current) {
      return;
    }
    current?.removeCommTarget(COMM_TARGET, handler);
    current = kernel;
    current?.registerCommTarget(COMM_TARGET, handler);
  };
  panel.sessionContext.kernelChanged.connect(attach);
  void panel.sessionContext.ready.then(attach);
  attach();
  panel.disposed.connect(() => {
    panel.sessionContext.kernelChanged.disconnect(attach);
    current?.removeCommTarget(COMM_TARGET, handler);
    current = null;
  });
}
