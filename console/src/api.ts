/**
 * The console's only door to the admin API: one fetch wrapper, one error handler.
 *
 * The base URL is `VITE_ADMIN_API` at build time, default `/admin/api/`; a relative value
 * resolves against the page. Requests carry the operator token as a bearer token.
 */

const TOKEN_STORAGE_KEY = 'rtm.operatorToken';

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
}

/**
 * Moves an operator token from `?token=` into localStorage, where later visits find it.
 * The token is removed from the address bar so it is not bookmarked or shared by accident.
 */
export function adoptOperatorToken(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  localStorage.setItem(TOKEN_STORAGE_KEY, token);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url);
}

/** Options for {@link api}; `body` is sent as JSON. */
export interface ApiOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * Calls `<adminApiBase><path>` and returns the parsed `{ok:true,...}` body.
 * Throws {@link ApiError} for every failure; an aborted call rejects with the abort reason instead.
 */
export async function api<T extends { ok: true }>(path: string, options: ApiOptions = {}): Promise<T> {
  const url = new URL(path, new URL(adminApiBase, window.location.href));
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = localStorage.getItem(TOKEN_STORAGE_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';

  let response: Response;
  let body: unknown;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
    body = await response.json().catch(() => undefined);
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw toApiError(url, undefined, undefined, err);
  }
  if (response.ok && isOk(body)) return body as T;
  throw toApiError(url, response.status, body);
}

function isOk(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { ok?: unknown }).ok === true;
}

// Every failure is turned into a message an operator can act on, in this one place.
function toApiError(url: URL, status: number | undefined, body: unknown, cause?: unknown): ApiError {
  if (status === undefined) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ApiError('network_error', `Admin API unreachable at ${url.origin}: ${reason}`);
  }
  const code =
    typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
      ? (body as { error: string }).error
      : status === 401
        ? 'not_authed'
        : 'bad_response';
  if (status === 401 || status === 403 || code === 'not_authed' || code === 'invalid_auth') {
    return new ApiError(code, 'Operator token missing or rejected: open the console with ?token=<operatorToken>', status);
  }
  return new ApiError(code, `${url.pathname} failed: ${code} (HTTP ${status})`, status);
}
