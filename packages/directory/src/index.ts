export { DirectoryView } from './directory-view.js';
export { Directory, type DirectoryChange } from './directory.js';
export { TokenSigner, sameSecret, type TokenClaims, type TicketClaims } from './tokens.js';
