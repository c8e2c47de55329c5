import {
  type ActionContext,
  type ActionResult,
  assertClassUsable,
  assertPlatform,
} from './action-context.ts';
import { page } from './material-actions.ts';
import { normalizeClassId, ROOT_CLASS_ID, type StoredMaterial } from './material-store.ts';
import { invalidValue, RequestParams } from './request-params.ts';

const MAX_SCOPES = 5;
const MAX_TEXT_CHARS = 15;
const MATERIAL_TYPES = new Set(['VIDEO', 'AUDIO', 'IMAGE']);
const SORT_FIELDS = new Set(['CreateTime', 'UpdateTime']);

type Filter = (m: StoredMaterial) => boolean;

/** SearchMaterial: collect the scopes' materials, then filter, sort and page them. */
export function searchMaterial(context: ActionContext): ActionResult {
  const { store, params } = context;
  const candidates = collectScopes(context);
  const filters = readFilters(params);
  const sort = readSort(params.optionalObject('Sort'));
  const { offset, limit } = page(params.optionalInt('Offset'), params.optionalInt('Limit'), {
    defaultLimit: 50,
    maxLimit: 50,
  });
  const matched = [...candidates.values()].filter((m) => filters.every((f) => f(m))).sort(sort);
  return {
    TotalCount: matched.length,
    MaterialInfoSet: matched.slice(offset, offset + limit).map((m) => store.materialInfo(m)),
  };
}

function collectScopes({ store, caller, params }: ActionContext): Map<string, StoredMaterial> {
  const scopes = params.array('SearchScopes');
  if (scopes.length === 0 || scopes.length > MAX_SCOPES) {
    throw invalidValue('SearchScopes', `1 to ${MAX_SCOPES} scopes`);
  }
  const candidates = new Map<string, StoredMaterial>();
  for (const raw of scopes) {
    const scope = RequestParams.of(raw, 'SearchScopes');
    assertPlatform(caller, scope.string('Platform'));
    const owner = scope.owner();
    const classId = normalizeClassId(scope.optionalInt('ClassId') ?? ROOT_CLASS_ID);
    const oneDepth = scope.optionalBool('SearchOneDepth') ?? false;
    assertClassUsable({ store, caller }, owner, classId);
    const classIds = oneDepth ? new Set([classId]) : store.subtreeClassIds(owner, classId);
    for (const m of store.materials(owner, classIds)) candidates.set(m.id, m);
  }
  return candidates;
}

function readFilters(params: RequestParams): Filter[] {
  const filters: Filter[] = [];
  const types = params.optionalStringArray('MaterialTypes');
  if (types) {
    if (!types.every((t) => MATERIAL_TYPES.has(t))) {
      throw invalidValue('MaterialTypes', 'each is VIDEO, AUDIO or IMAGE');
    }
    filters.push((m) => types.includes(m.type));
  }
  const text = params.optionalString('Text');
  if (text !== undefined) {
    if ([...text].length > MAX_TEXT_CHARS) throw invalidValue('Text', `at most ${MAX_TEXT_CHARS}`);
    const needle = text.toLowerCase();
    filters.push((m) => m.name.toLowerCase().includes(needle));
  }
  const tags = params.optionalStringArray('Tags');
  if (tags?.length) filters.push((m) => m.tags.some((t) => tags.includes(t)));
  const presetTagIds = params.optionalStringArray('PresetTagIds');
  if (presetTagIds?.length)
    filters.push((m) => m.presetTagIds.some((t) => presetTagIds.includes(t)));
  const duration = params.optionalObject('DurationRange');
  if (duration) {
    const lower = duration.optionalNumber('LowerBound') ?? 0;
    const upper = duration.optionalNumber('UpperBound') ?? Number.POSITIVE_INFINITY;
    filters.push((m) => m.durationSec >= lower && m.durationSec <= upper);
  }
  const created = params.optionalObject('CreateTimeRange');
  if (created) {
    const start = timeBound(created.optionalString('StartTime'), 'StartTime', -Infinity);
    const end = timeBound(created.optionalString('EndTime'), 'EndTime', Infinity);
    filters.push((m) => Date.parse(m.createTime) >= start && Date.parse(m.createTime) <= end);
  }
  // `Resolutions` is accepted and ignored: its value set is not documented.
  return filters;
}

function timeBound(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalidValue(`CreateTimeRange.${name}`, 'ISO 8601 time');
  return ms;
}

function readSort(
  sort: RequestParams | undefined,
): (a: StoredMaterial, b: StoredMaterial) => number {
  const field = sort?.optionalString('Field') ?? 'CreateTime';
  const order = sort?.optionalString('Order') ?? 'Desc';
  if (!SORT_FIELDS.has(field)) throw invalidValue('Sort', 'Field is CreateTime or UpdateTime');
  if (order !== 'Asc' && order !== 'Desc') throw invalidValue('Sort', 'Order is Asc or Desc');
  const key = (m: StoredMaterial) => (field === 'CreateTime' ? m.createTime : m.updateTime);
  const sign = order === 'Asc' ? 1 : -1;
  return (a, b) => sign * (key(a).localeCompare(key(b)) || a.seq - b.seq);
}
