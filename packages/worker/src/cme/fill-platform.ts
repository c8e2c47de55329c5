/** Actions whose body takes a top-level `Platform`. */
const TAKES_PLATFORM = new Set([
  'Material/ListMedia',
  'Material/DescribeClass',
  'Material/CreateClass',
  'Material/DeleteClass',
  'Material/ModifyClass',
]);

/**
 * The request body with `Platform` filled in from configuration where the action takes one and
 * the caller left it out (each of `SearchMaterial`'s `SearchScopes` too). Never overrides.
 */
export function fillPlatform(
  action: string,
  params: Record<string, unknown>,
  platform: string,
): Record<string, unknown> {
  if (TAKES_PLATFORM.has(action)) {
    return params.Platform === undefined ? { ...params, Platform: platform } : params;
  }
  if (action === 'Material/SearchMaterial' && Array.isArray(params.SearchScopes)) {
    const scopes = params.SearchScopes.map((scope: unknown) =>
      typeof scope === 'object' &&
      scope !== null &&
      !('Platform' in scope && scope.Platform !== undefined)
        ? { ...scope, Platform: platform }
        : scope,
    );
    return { ...params, SearchScopes: scopes };
  }
  return params;
}
