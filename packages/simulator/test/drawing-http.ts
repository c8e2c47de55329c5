/** Test-side HTTP helpers for the drawing simulator (written from the spec, not imported). */

export const FORM_TYPE = 'application/x-www-form-urlencoded; charset=UTF-8';

/** RFC 3986 encoding: space as %20, `*` and friends encoded. */
export function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function formBody(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${encode(name)}=${encode(String(value))}`)
    .join('&');
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export async function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': FORM_TYPE, ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export function postForm(
  url: string,
  fields: Record<string, string | number>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return post(url, formBody(fields), headers);
}

/** The answer's JSON (throws on malformed bodies). */
export function json(answer: Answer): Record<string, unknown> & {
  code?: number;
  msg?: string;
  taskNo?: string;
  // biome-ignore lint/suspicious/noExplicitAny: test answers are inspected field by field
  data?: any;
} {
  return JSON.parse(answer.text);
}

export const TASK = { text: '一只猫 in the rain', resolution: '1024*1024', style: '油画', num: 1 };
