import { isBatchFinished } from '@atelier/store';
import { ADMIN_PATHS } from '../admin-paths.ts';
import { GALLERY_PAGE_SIZE, type GalleryItem, type GalleryPage } from '../batch-gallery-reader.ts';
import { html, type SafeHtml } from '../safe-html.ts';
import { formatTime } from './formatting.ts';
import { layout, postButton } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** Thumbnails are drawn at this size (CSS pixels); the image itself is sent whole. */
const THUMB_PX = 160;

/**
 * `/admin/batches/:id`: the batch's progress, Cancel / Pause / Resume, and a page of its items
 * as a gallery — lazy-loaded thumbnails (from the archive when there is one), each item's state
 * and error, a link to its job. Reloads itself while the batch runs.
 */
export function batchPage(ctx: PageContext, g: GalleryPage, refreshSec: number): string {
  const { batch } = g;
  const finished = isBatchFinished(batch.state);
  const notQueued = (batch.notQueued ?? []).reduce((n, r) => n + r.last - r.first + 1, 0);
  return layout(
    { ...ctx, refreshSec: finished ? 0 : refreshSec },
    `Batch ${batch.id}`,
    html`<section id="batch" data-batch-state="${batch.state}">
<dl class="facts">
  <dt>state</dt><dd><span class="badge ${stateBadge(batch.state)}" id="batch-state">${batch.state}</span></dd>
  <dt>tenant</dt><dd id="batch-tenant">${batch.tenant}</dd>
  <dt>items</dt><dd id="batch-counts">${batch.total} total · ${batch.completed} completed · ${batch.dead} dead · ${batch.cancelled} cancelled · ${batch.pending} pending${notQueued > 0 ? ` · ${notQueued} never queued` : ''}</dd>
  <dt>created</dt><dd>${formatTime(batch.createdAt)}</dd>
  ${batch.cancelledAt !== undefined ? html`<dt>cancel asked</dt><dd>${formatTime(batch.cancelledAt)}</dd>` : ''}
  ${batch.completedAt !== undefined ? html`<dt>finished</dt><dd>${formatTime(batch.completedAt)}</dd>` : ''}
</dl>
<div class="actions" id="batch-actions">${actions(ctx, batch.id, batch.state)}</div>
<p class="muted">Cancel: no item of the batch is submitted from then on; items already submitted (paid) finish and keep their results. Pause: nothing new is submitted until Resume; submitted tasks go on.</p>
<p><a href="${ADMIN_PATHS.batches}/${encodeURIComponent(batch.id)}/results">Results (NDJSON)</a>${batch.dead > 0 ? html` · <a href="${ADMIN_PATHS.deadLetters}?batchId=${encodeURIComponent(batch.id)}">Dead letters</a>` : ''}</p>
</section>
<section id="gallery"><h2>Items ${pager(g)}</h2>
<ul class="gallery">${g.items.map(tile)}</ul>
<p>${pager(g)}</p></section>`,
  );
}

function stateBadge(state: string): string {
  if (state === 'completed') return 'ok';
  if (state === 'incomplete') return 'warn';
  if (state === 'cancelled' || state === 'cancelling') return 'bad';
  if (state === 'paused') return 'warn';
  return '';
}

function actions(ctx: PageContext, id: string, state: string): SafeHtml | string {
  const path = (action: string) => `${ADMIN_PATHS.batches}/${encodeURIComponent(id)}/${action}`;
  if (state !== 'open' && state !== 'paused') return '';
  const toggle =
    state === 'open'
      ? postButton(ctx, path('pause'), 'Pause')
      : postButton(ctx, path('resume'), 'Resume', {});
  const cancel = postButton(ctx, path('cancel'), 'Cancel batch', {
    confirm: 'really cancel (cannot be undone)',
    danger: true,
  });
  return html`${toggle}${cancel}`;
}

function pager(g: GalleryPage): SafeHtml {
  const link = (page: number, label: string) =>
    html`<a href="${ADMIN_PATHS.batches}/${encodeURIComponent(g.batch.id)}?page=${page}" rel="${label === 'next' ? 'next' : 'prev'}">${label}</a>`;
  const first = (g.page - 1) * GALLERY_PAGE_SIZE;
  return html`<span class="pager">page ${g.page} of ${g.pages} (items ${first}–${first + g.items.length - 1}) ${g.page > 1 ? link(g.page - 1, 'previous') : ''} ${g.page < g.pages ? link(g.page + 1, 'next') : ''}</span>`;
}

function tile(item: GalleryItem): SafeHtml {
  const picture = item.thumbnail
    ? html`<img loading="lazy" src="${item.thumbnail.src}" width="${THUMB_PX}" height="${THUMB_PX}" alt="item ${item.index}" data-from="${item.thumbnail.from}">`
    : html`<div class="no-image">${item.state === 'completed' ? 'image not shown' : item.state}</div>`;
  const error = item.error
    ? html`<div class="tile-error"><code>${item.error.code}</code> ${item.error.message}</div>`
    : '';
  return html`<li class="tile" data-item="${item.index}" data-state="${item.state}">
<a href="${ADMIN_PATHS.jobs}/${encodeURIComponent(item.jobId)}">${picture}</a>
<div><span class="muted">#${item.index}</span> <span class="badge ${tileBadge(item.state)}">${item.state}</span>${item.images > 1 ? html` <span class="muted">${item.images} images</span>` : ''}</div>
${error}</li>`;
}

function tileBadge(state: string): string {
  if (state === 'completed') return 'ok';
  if (state === 'dead' || state === 'cancelled') return 'bad';
  if (state === 'retrying') return 'warn';
  return '';
}
