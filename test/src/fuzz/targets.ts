/**
 * What the fuzz cases aim at: real ids of the cluster under test, so junk arrives next to
 * valid values and gets past the first check into the code behind it. Generation is a pure
 * function of the seed and these targets.
 */
export interface FuzzTargets {
  /** Public channels the fuzzing users are members of. */
  ownChannels: string[];
  /** Their names, as `chat.postMessage` also accepts them. */
  ownChannelNames: string[];
  /** Public channels the fuzzing users may archive (so the others stay usable). */
  archivableChannels: string[];
  /** A private channel of the same team the fuzzing users are not in. */
  privateChannel: string;
  /** A channel of another team. */
  foreignChannel: string;
  /** Users of the fuzzing users' team (fuzzing users included). */
  teamUsers: string[];
  /** A user of another team. */
  foreignUser: string;
  /** `ts` of messages that exist in `ownChannels`. */
  messageTs: string[];
  /** Region names of the cluster. */
  regions: string[];
}

/** Targets with made-up ids, for unit tests of the generators. */
export const EXAMPLE_TARGETS: FuzzTargets = {
  ownChannels: ['C0FUZZAAA1', 'C0FUZZAAA2'],
  ownChannelNames: ['fuzz-a', 'fuzz-b'],
  archivableChannels: ['C0FUZZARC1'],
  privateChannel: 'G0SECRET01',
  foreignChannel: 'C0FOREIGN1',
  teamUsers: ['U0FUZZER01', 'U0FUZZER02'],
  foreignUser: 'U0FOREIGN1',
  messageTs: ['1700000000.000100', '1700000000.000200'],
  regions: ['us-east', 'eu-west'],
};
