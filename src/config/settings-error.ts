/**
 * A bad node setting. The message starts with where the value came from (`SLUICE_PROXY_LISTEN`,
 * `sluice.conf:3: proxy_listen`, `--workers`), so the operator knows what to fix.
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}
