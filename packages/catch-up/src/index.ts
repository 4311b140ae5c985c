export { ChannelLogReader } from './channel-log-reader.js';
export { ChannelHistoryReader, type HistoryRequest } from './channel-history-reader.js';
