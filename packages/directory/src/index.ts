export { DirectoryView } from './directory-view.js';
export { Directory } from './directory.js';
export { TokenSigner, type TokenClaims, type TicketClaims } from './tokens.js';
