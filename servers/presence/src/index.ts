export { PresenceTable, type Presence } from './presence-table.js';
