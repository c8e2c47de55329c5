import { ADMIN_PATHS } from '../admin-paths.ts';
import { html } from '../safe-html.ts';
import { layout } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** A page that only says something went wrong (or is not there), with a way back. */
export function messagePage(ctx: PageContext, title: string, message: string): string {
  return layout(
    ctx,
    title,
    html`<section><p id="message">${message}</p><p><a href="${ADMIN_PATHS.base}">Back to the overview</a></p></section>`,
  );
}
