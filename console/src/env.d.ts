interface ImportMetaEnv {
  /** Admin API base URL baked in at build time; `/admin/api/` when unset. */
  readonly VITE_ADMIN_API?: string;
}
