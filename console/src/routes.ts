import type { Component } from 'svelte';
import type { Route } from './lib/route';
import PageOverview from './features/overview/PageOverview.svelte';
import PageRing from './features/ring/PageRing.svelte';
import PageRegions from './features/regions/PageRegions.svelte';
import PageLatency from './features/latency/PageLatency.svelte';
import PageTraces from './features/traces/PageTraces.svelte';

/** A page of the console; it gets the route it is shown at. */
export type Page = Component<{ route: Route }>;

/** The console's pages by the first segment of the hash path, in navigation order. */
export const pages: ReadonlyArray<{ path: string; title: string; page: Page }> = [
  { path: '', title: 'Overview', page: PageOverview },
  { path: 'ring', title: 'Ring', page: PageRing },
  { path: 'regions', title: 'Regions', page: PageRegions },
  { path: 'latency', title: 'Latency', page: PageLatency },
  { path: 'traces', title: 'Traces', page: PageTraces },
];

/** The page for a route (its first segment; none is the overview). */
export function resolvePage(route: Route): (typeof pages)[number] | undefined {
  const first = route.segments[0] ?? '';
  return pages.find((p) => p.path === first);
}
