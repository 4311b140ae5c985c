export { ChannelServer, type ChannelServerOptions, type Handled } from './channel-server.js';
export { ChannelHistory, type HistoryPage, type HistoryQuery } from './channel-history.js';
export { TsSequencer } from './ts-sequencer.js';
export { systemClock, type Clock } from './clock.js';
