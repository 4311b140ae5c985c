import { adoptTokenFromFragment, api, ApiError, forgetToken, onAuthLost, operatorToken, storeToken } from './api';

/**
 * Whether this tab is signed in. Signed in means a token is stored; the first call the
 * admin server refuses signs the tab out again (a restarted cluster has a new token).
 */
class Session {
  signedIn = $state(false);
  /** Why the sign-in page is shown, when it is not the first visit. */
  reason = $state<string | undefined>(undefined);

  constructor() {
    // Before anything renders or calls the API: the sign-in link's `#token=` leaves the address bar.
    this.adoptFromAddress();
    onAuthLost(() => this.signOut('The admin server refused the stored operator token: sign in again.'));
  }

  /** Takes a `#token=` sign-in link, also one pasted into a tab already open (call on hashchange). */
  adoptFromAddress(): void {
    adoptTokenFromFragment();
    const token = operatorToken();
    if (token !== null && !this.signedIn) this.reason = undefined;
    this.signedIn = token !== null;
  }

  /** Checks `token` against the admin server and keeps it if accepted; returns the error otherwise. */
  async signIn(token: string): Promise<string | undefined> {
    try {
      await api('cluster', { token });
    } catch (err) {
      return err instanceof ApiError ? err.message : String(err);
    }
    storeToken(token);
    this.reason = undefined;
    this.signedIn = true;
    return undefined;
  }

  signOut(reason?: string): void {
    forgetToken();
    this.reason = reason;
    this.signedIn = false;
  }
}

export const session = new Session();
