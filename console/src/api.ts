/**
 * The console's only door to the admin API: one fetch wrapper, one error handler, and the
 * operator token.
 *
 * The token lives in `sessionStorage` (gone when the tab closes) and travels only as a bearer
 * header: never in a URL the console builds, never logged. The launcher's sign-in link carries
 * it in the fragment (`#token=...`), which browsers never send to a server; `adoptTokenFromFragment`
 * moves it into storage and wipes it from the address bar.
 *
 * The base URL is `VITE_ADMIN_API` at build time, default `/admin/api/`; a relative value
 * resolves against the page.
 */

const TOKEN_KEY = 'rtm.operatorToken';

/** Base URL of the admin API, ending in `/`. */
export const adminApiBase: string = import.meta.env.VITE_ADMIN_API ?? '/admin/api/';

/** A failed admin API call, whatever the cause; `code` is Slack-style (`not_authed`, `network_error`...). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number | undefined;

  constructor(code: string, message: string, status?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }

  /** The token is missing or was refused: the console goes back to its sign-in page. */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** The operator token of this tab, if one was given. */
export function operatorToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Moves a token from a `#token=...` fragment into sessionStorage and removes it from the address bar. */
export function adoptTokenFromFragment(): void {
  const m = /^#token=([^&]*)/.exec(window.location.hash);
  if (!m) return;
  let token = '';
  try {
    token = decodeURIComponent(m[1] ?? '');
  } catch {
    // A cut-off link: no token from it, but it still leaves the address bar.
  }
  if (token) storeToken(token);
  history.replaceState(history.state, '', `${window.location.pathname}${window.location.search}#/`);
}

/** Options for {@link api}; `body` is sent as JSON. */
export interface ApiOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  signal?: AbortSignal;
  /** Use this token instead of the stored one (the sign-in form's check). */
  token?: string;
}

/** `<adminApiBase><path>` as an absolute URL. */
export function apiUrl(path: string): URL {
  return new URL(path, new URL(adminApiBase, window.location.href));
}

/** Headers every admin API call carries: the bearer token when there is one. */
export function authHeaders(token = operatorToken()): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * Calls `<adminApiBase><path>` and returns the parsed `{ok:true,...}` body.
 * Throws {@link ApiError} for every failure; an aborted call rejects with the abort reason instead.
 * Without a token nothing is sent: the call fails as `not_authed` at once.
 */
export async function api<T extends { ok: true }>(path: string, options: ApiOptions = {}): Promise<T> {
  const url = apiUrl(path);
  const token = options.token ?? operatorToken();
  if (!token) throw new ApiError('not_authed', 'Sign in with the operator token first', 401);
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(token) };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';

  let response: Response;
  let body: unknown;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
    body = await response.json().catch(() => undefined);
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw toApiError(url, undefined, undefined, err);
  }
  if (response.ok && isOk(body)) return body as T;
  const error = toApiError(url, response.status, body);
  if (error.isAuth && !options.token) notifyAuthLost();
  throw error;
}

function isOk(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { ok?: unknown }).ok === true;
}

const authLost = new Set<() => void>();

/** Calls `listener` whenever the admin API refuses the stored token. */
export function onAuthLost(listener: () => void): () => void {
  authLost.add(listener);
  return () => authLost.delete(listener);
}

export function notifyAuthLost(): void {
  for (const l of authLost) l();
}

/** What each failure means to an operator, in this one place. */
export function toApiError(url: URL, status: number | undefined, body: unknown, cause?: unknown): ApiError {
  if (status === undefined) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ApiError('network_error', `The admin server at ${url.origin} does not answer (${reason}): it may be restarting`);
  }
  const detail = typeof body === 'object' && body !== null ? (body as { detail?: unknown }).detail : undefined;
  const code =
    typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : status === 401
        ? 'not_authed'
        : status >= 502
          ? 'admin_unavailable'
          : 'bad_response';
  if (status === 401) return new ApiError(code, 'Sign in with the operator token', status);
  if (status === 403) return new ApiError(code, 'The admin server refused that operator token', status);
  if (code === 'admin_unavailable') return new ApiError(code, `The admin server is not answering (HTTP ${status}): it may be restarting`, status);
  return new ApiError(code, `${url.pathname.replace(/^.*\/admin\/api\//, '')}: ${typeof detail === 'string' ? detail : code} (HTTP ${status})`, status);
}
