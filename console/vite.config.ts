import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [svelte()],
  // Relative asset URLs let the admin server mount the built console under any path (/console/ today).
  base: './',
  // dist/app is the site; dist/logic holds src/lib compiled for the unit tests (tsconfig.logic.json).
  build: { outDir: 'dist/app', emptyOutDir: true },
  server: {
    // `vite dev` serves the console alone, so forward admin API calls to a running cluster.
    proxy: { '/admin': process.env.RTM_ADMIN_ORIGIN ?? 'http://127.0.0.1:8080' },
  },
});
