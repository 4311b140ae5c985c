export { WebApi, TICKET_TTL_MS, type WebApiOptions, type WebCall } from './web-api.js';
export type { ChannelCommands, HistoryPages, PresenceQueries, WebMethod, WebMethods, AuthedCall } from './web-method.js';
export type { DirectoryStore } from './directory-store.js';
export { WebArgs, ArgError } from './web-args.js';
export { regionReports } from './region-report.js';
export type { RegionReport, GatewayReport } from '@rtm/protocol';
