import type { Directory } from '@rtm/directory';

/**
 * What the admin server needs of the directory: the live view, writes, and read-your-writes.
 * `Directory` is the real one; unit tests put a `DirectoryView` behind a fake.
 */
export type DirectoryStore = Pick<Directory, 'view' | 'sync' | 'write' | 'writeAndSync'>;
