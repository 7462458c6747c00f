/**
 * What is wrong with a hook URL, if anything: it must parse as an absolute http or https URL with
 * a host and no credentials (those go in headers the app checks). Shared by the pub/sub plugins'
 * config checks and the `internal_publisher_upstream` node setting.
 *
 * @example
 *   hookUrlProblem('ftp://app/hook'); // 'must be an http or https URL'
 *   hookUrlProblem('http://app/hook'); // undefined
 */
export function hookUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.hostname === '') return 'has no host';
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not supported (send them as headers upstream)';
  return undefined;
}
