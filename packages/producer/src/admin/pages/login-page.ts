import { ADMIN_PATHS } from '../admin-paths.ts';
import { html } from '../safe-html.ts';
import { layout } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** The login form; `token` is the login-CSRF token bound to the pre-session cookie. */
export function loginPage(
  ctx: PageContext,
  form: { token: string; next: string; user?: string; error?: string },
): string {
  const error = form.error
    ? html`<p class="error" role="alert" id="login-error">${form.error}</p>`
    : '';
  return layout(
    ctx,
    'Log in',
    html`<div class="login">
  <p class="muted">The Atelier dashboard needs the login set in <code>ATELIER_ADMIN_USER</code> and <code>ATELIER_ADMIN_PASSWORD</code>.</p>
  ${error}
  <form method="post" action="${ADMIN_PATHS.login}" id="login-form">
    <input type="hidden" name="_login" value="${form.token}">
    <input type="hidden" name="next" value="${form.next}">
    <label for="user">User</label>
    <input id="user" name="user" autocomplete="username" required value="${form.user ?? ''}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" class="primary">Log in</button>
  </form>
</div>`,
  );
}
