import { Router, type Request } from 'express';
import { drainKey, type RegionsAnswer } from '@rtm/protocol';
import { pickGateway } from '@rtm/placement';
import { regionReports } from './region-report.js';
import { WebArgs } from './web-args.js';
import type { OperatorApiOptions } from './operator-options.js';

/** Operator routes that report regions and drain or undrain a region or one gateway. */
export function drainRoutes(o: Pick<OperatorApiOptions, 'placement' | 'directory' | 'defaultDrainRate'>): Router {
  const r = Router();
  const drainRate = (req: Request): number => new WebArgs(req.body ?? {}).int('rate', { min: 1, max: 1_000_000, fallback: o.defaultDrainRate });
  const regionsBody = (): RegionsAnswer => ({ ok: true, regions: regionReports(o.placement), distances: o.placement.regions.pairs() });
  const gatewaysOf = (region: string) => o.placement.instances.list().filter((i) => i.role === 'gateway' && i.region === region);

  r.get('/regions', (_req, res) => {
    res.json(regionsBody());
  });

  r.post('/regions/:region/drain', async (req, res) => {
    const region = req.params.region!;
    if (gatewaysOf(region).length === 0) return void res.status(404).json({ ok: false, error: 'region_not_found' });
    const rate = drainRate(req);
    // Its clients need somewhere to go: another region with a healthy gateway.
    if (!pickGateway(o.placement, region, (g) => g.region === region)) return void res.status(409).json({ ok: false, error: 'no_healthy_region', detail: 'no other region has a serving gateway to take the clients' });
    await o.directory.writeAndSync([{ kind: 'drain', scope: 'region', name: region, rate, at: Date.now() }]);
    res.json(regionsBody());
  });

  r.post('/regions/:region/undrain', async (req, res) => {
    const region = req.params.region!;
    if (gatewaysOf(region).length === 0) return void res.status(404).json({ ok: false, error: 'region_not_found' });
    await o.directory.writeAndSync([[drainKey('region', region), null]]);
    res.json(regionsBody());
  });

  r.post('/gateways/:id/drain', async (req, res) => {
    const gw = o.placement.instances.get(req.params.id!);
    if (!gw || gw.role !== 'gateway') return void res.status(404).json({ ok: false, error: 'gateway_not_found' });
    const rate = drainRate(req);
    if (!pickGateway(o.placement, gw.region, (g) => g.id === gw.id)) return void res.status(409).json({ ok: false, error: 'no_healthy_gateway', detail: 'no other serving gateway to take the clients' });
    await o.directory.writeAndSync([{ kind: 'drain', scope: 'gateway', name: gw.id, rate, at: Date.now() }]);
    res.json(regionsBody());
  });

  r.post('/gateways/:id/undrain', async (req, res) => {
    const gw = o.placement.instances.get(req.params.id!);
    if (!gw || gw.role !== 'gateway') return void res.status(404).json({ ok: false, error: 'gateway_not_found' });
    await o.directory.writeAndSync([[drainKey('gateway', gw.id), null]]);
    res.json(regionsBody());
  });
  return r;
}
