import type { FetchedAnswer } from './api-responses';

/** POSTs a JSON body with a bearer key and reads the answer as text, and as JSON when it is JSON (null otherwise). */
export async function postJson(url: string, key: string, body: unknown, headers: Record<string, string> = {}): Promise<FetchedAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: Object.fromEntries(response.headers.entries()), text, json };
}
