/**
 * What is wrong with a drawing or CME job's envelope — the fields settling it needs (`kind`,
 * `meta`, the request, `history`) — as "field: rule"; `undefined` when it can be settled.
 * The request itself is the processors' to validate.
 */
export function jobEnvelopeProblem(data: unknown): string | undefined {
  if (!isObject(data)) return 'data: must be an object';
  if (data.kind !== 'drawing' && data.kind !== 'cme') return 'kind: must be drawing or cme';
  if (!isObject(data.meta)) return 'meta: is required (an object)';
  const request = data.kind === 'drawing' ? 'task' : 'operation';
  if (!isObject(data[request])) return `${request}: is required (an object)`;
  if (data.history !== undefined && !Array.isArray(data.history)) {
    return 'history: must be a list when present';
  }
  if (data.kind === 'drawing' && data.state !== undefined && !isObject(data.state)) {
    return 'state: must be an object when present';
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
