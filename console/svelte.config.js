import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  preprocess: vitePreprocess(),
  // The console is runes-only; this turns accidental legacy syntax into a compile error.
  compilerOptions: { runes: true },
};
