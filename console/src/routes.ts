import type { Component } from 'svelte';
import PageOverview from './features/overview/PageOverview.svelte';

/** Hash paths (the part after `#`) mapped to the page shown there. */
export const routes: Readonly<Record<string, Component>> = {
  '/': PageOverview,
};

/** The page for a location hash such as `#/`; an empty hash means the overview. */
export function resolveRoute(hash: string): Component | undefined {
  const path = hash.replace(/^#/, '') || '/';
  return routes[path];
}
