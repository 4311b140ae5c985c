export { Requester, RequestTimeout, RequestNotSent, RequestFailed, TooManyPending, type RequesterOptions } from './requester.js';
export { Inbox, type InboxHandlers } from './inbox.js';
export { ChannelLink, type PostResult, type HistoryResult, type MemoryHistoryResult, type TraceResult } from './channel-link.js';
export { PresenceLink, type PresenceState, type RollCallPart } from './presence-link.js';
export { replyRecord, type ReplyOutcome } from './reply.js';
