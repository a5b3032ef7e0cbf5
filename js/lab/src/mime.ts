// Renders the record output (application/vnd.sora-widget.generation+json) as a compact
// provenance strip with the saved clip, instead of the plain HTML fallback. Every value
// is set as text; the video source is the saved file resolved through the notebook's
// own file URLs.

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { el } from './dom';
import { IRecord } from './records';

export const MIME_TYPE = 'application/vnd.sora-widget.generation+json';

interface IParams {
  prompt?: string;
  duration?: number;
  size?: string;
}

function isRelativePath(path: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(path) && !path.startsWith('/') && !path.startsWith('\\');
}

/** A poster is a JPEG data URI and nothing else (it came with a notebook: untrusted). */
function posterUri(value: unknown): string | null {
  return typeof value === 'string' && value.startsWith('data:image/jpeg;base64,') ? value : null;
}

export class RecordRenderer extends Widget implements IRenderMime.IRenderer {
  private posters: Record<string, unknown> = {};

  constructor(private options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('sora-widget-records');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[MIME_TYPE] as { generations?: IRecord[]; posters?: Record<string, unknown> } | undefined;
    const records = data?.generations ?? [];
    this.posters = data?.posters && typeof data.posters === 'object' ? data.posters : {};
    this.node.replaceChildren();
    if (records.length === 0) {
      this.node.append(el('div', 'sora-widget-records-empty', 'sora-widget: no generations yet'));
      return;
    }
    for (const record of records) {
      this.node.append(await this.renderRecord(record));
    }
  }

  private async renderRecord(record: IRecord): Promise<HTMLElement> {
    const row = el('div', 'sora-widget-record');
    const params = (record.params ?? {}) as IParams;
    const status = String(record.status);
    row.append(el('span', `sora-widget-record-status sora-widget-status-${status.toLowerCase()}`, status));
    if (record.synthetic) {
      row.append(el('span', 'sora-widget-record-synthetic', 'synthetic'));
    }
    row.append(el('span', 'sora-widget-record-params', `${params.duration ?? '?'}s ${params.size ?? ''}`));
    row.append(el('span', 'sora-widget-record-prompt', String(params.prompt ?? '')));
    const facts = el('div', 'sora-widget-record-facts');
    const parts = Array.isArray(record.parts) ? record.parts : [];
    const origin = record.request_id
      ? `request ${String(record.request_id)}`
      : record.kind === 'film'
        ? `film of ${parts.length} clips`
        : 'no request id';
    const derived = record.derived_from as { id?: unknown; how?: unknown } | null | undefined;
    const lineage =
      derived && typeof derived.id === 'string'
        ? ` · ${derived.how === 'extend' ? 'continues' : 'remix of'} ${derived.id}`
        : '';
    const sha = record.sha256 ? ` · sha256 ${String(record.sha256).slice(0, 12)}…` : '';
    facts.textContent = `${origin}${lineage}${sha}`;
    row.append(facts);
    const error = record.error as { message?: string; detail?: string } | null | undefined;
    if (error) {
      row.append(el('div', 'sora-widget-record-error', String(error.detail ?? error.message ?? '')));
    }
    const path = typeof record.video_path === 'string' ? record.video_path : '';
    const poster = posterUri(this.posters[String(record.id)]);
    const resolver = this.options.resolver;
    if (path && isRelativePath(path) && resolver) {
      try {
        const url = await resolver.getDownloadUrl(await resolver.resolveUrl(path));
        const video = el('video', 'sora-widget-record-video');
        video.controls = true;
        video.loop = true;
        video.playsInline = true;
        video.preload = 'metadata';
        if (poster) {
          video.poster = poster;
        }
        // The file may not be on this machine (a notebook someone sent): say so, and
        // show the picture the notebook carries instead.
        video.addEventListener('error', () => video.replaceWith(this.missing(path, poster)), { once: true });
        video.src = url;
        row.append(video);
      } catch {
        row.append(this.missing(path, poster));
      }
    } else if (path) {
      row.append(this.missing(path, poster));
    }
    return row;
  }

  private missing(path: string, poster: string | null): HTMLElement {
    const box = el('div', 'sora-widget-record-missing');
    if (poster) {
      const img = el('img', 'sora-widget-record-poster');
      img.src = poster;
      img.alt = 'poster frame of the clip';
      box.append(img);
    }
    // Not only a notebook someone sent: a Voilà dashboard serves no files at all
    const why = 'it is not on this machine, or this page serves no files';
    const says = poster
      ? `The clip (${path}) cannot be played here (${why}); this is its poster frame.`
      : `The clip (${path}) cannot be played here (${why}).`;
    box.append(el('div', 'sora-widget-record-file', says));
    return box;
  }
}

const extension: IRenderMime.IExtension = {
  id: 'sora-widget:record-renderer',
  description: 'Renders sora-widget generation records.',
  rendererFactory: {
    safe: true,
    mimeTypes: [MIME_TYPE],
    createRenderer: options => new RecordRenderer(options)
  },
  // Ahead of text/html (rank 50), which only carries the fallback table.
  rank: 40,
  dataType: 'json'
};

export default extension;
