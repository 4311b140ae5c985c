import { Router } from 'express';
import { ClientMessageFrame, type EventsAnswer, type RingAnswer } from '@rtm/protocol';
import type { OperatorApiOptions } from './operator-options.js';
import { ChannelSpread, membersWithChannels, placeChannel } from './channel-placement.js';

/** The shape of a channel id, from the RTM frames' validator so both refuse the same input. */
const channelId = ClientMessageFrame.shape.channel;

const NO_RING = { ok: false, error: 'not_found', detail: 'no placement published yet' } as const;

/** Operator routes that show the cluster: instances, the ring, where a channel lives, events and failovers. */
export function clusterRoutes(o: Pick<OperatorApiOptions, 'placement' | 'directory' | 'ops'>, spread = new ChannelSpread(o.directory.view)): Router {
  const r = Router();
  r.get('/cluster', (_req, res) => {
    res.json({ ok: true, instances: o.placement.instances.list(), directory: o.directory.view.stats() });
  });

  r.get('/ring', (_req, res) => {
    const ring = o.ops.ring();
    if (!ring) return void res.status(404).json(NO_RING);
    const counts = spread.counts(ring.partitions.length);
    res.json({ ok: true, ring: { ...ring, members: membersWithChannels(ring, counts.perPartition) }, channelCount: counts.channels } satisfies RingAnswer);
  });

  r.get('/channels/:id/placement', (req, res) => {
    const id = String(req.params.id);
    // Look up first: the directory's ids are not validated, and any string is a safe map key.
    if (!o.directory.view.channel(id)) {
      if (!channelId.safeParse(id).success) return void res.status(400).json({ ok: false, error: 'invalid_arguments', detail: 'id: a channel id, e.g. C0K3J9QX2M' });
      return void res.status(404).json({ ok: false, error: 'channel_not_found' });
    }
    const ring = o.ops.ring();
    const placed = ring && placeChannel(ring, id);
    if (!placed) return void res.status(404).json(ring ? { ...NO_RING, detail: 'the placement has no rtm.channel.in partitions' } : NO_RING);
    res.json({ ok: true, ...placed });
  });

  r.get('/events', (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 200) || 200));
    res.json({ ok: true, events: o.ops.recent(limit), failovers: o.ops.failovers() } satisfies EventsAnswer);
  });
  return r;
}
