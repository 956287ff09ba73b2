/** Every origin: LiteLLM's default, so browser apps that called LiteLLM call Gatehouse unchanged. */
export const ANY_ORIGIN = '*';

/** `scheme://host[:port]`, what a browser sends as `Origin`: no path, query, user or trailing slash. */
const ORIGIN_SHAPE = /^[a-z][a-z0-9+.-]*:\/\/[^\s/?#@]+$/;

/**
 * Why configured origins (already lower case, as browsers write their `Origin` header) cannot work: a mistyped
 * origin would never match, and the browser app would fail with nothing in the gateway's logs.
 */
export function corsOriginProblems(origins: readonly string[]): string[] {
  const problems: string[] = [];
  if (origins.includes(ANY_ORIGIN) && origins.length > 1) {
    problems.push(`"*" allows every origin and cannot be combined with a list (got ${JSON.stringify(origins.join(','))})`);
  }
  for (const origin of origins) {
    if (origin === ANY_ORIGIN) continue;
    const asSent = originAsBrowsersSendIt(origin);
    if (asSent === origin) continue;
    problems.push(
      asSent === null
        ? `${JSON.stringify(origin)} is not an origin: write scheme://host[:port], as the browser's Origin header shows it`
        : `${JSON.stringify(origin)} is not an origin as a browser sends it: write ${JSON.stringify(asSent)}`,
    );
  }
  return problems;
}

/** An http(s) origin as browsers serialise it (default port dropped), another scheme's as written; null if not one. */
function originAsBrowsersSendIt(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return ORIGIN_SHAPE.test(value) ? value : null;
  const onlyAnOrigin = url.username === '' && url.password === '' && url.search === '' && url.hash === '' && url.pathname === '/';
  return onlyAnOrigin ? url.origin : null;
}
