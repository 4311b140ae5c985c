/**
 * Why a call to another service failed, in a few words for an operator: the error's message,
 * with the socket's error code (`ECONNREFUSED`) that fetch and kafkajs keep in `cause`.
 */
export function failureReason(err: unknown): string {
  const e = err as { message?: unknown; cause?: { code?: unknown } } | null;
  const message = withoutCredentials(typeof e?.message === 'string' && e.message ? e.message : String(err));
  return typeof e?.cause?.code === 'string' ? `${message} (${e.cause.code})` : message;
}

/**
 * A URL's user and password removed: fetch quotes a URL with credentials in its error, and
 * these reasons go to every console's banner.
 */
export function withoutCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^\s/@]*@/g, '$1');
}
