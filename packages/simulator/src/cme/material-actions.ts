import {
  type ActionContext,
  type ActionResult,
  assertClassUsable,
  assertMayUse,
  assertPlatform,
  classNotFound,
  materialNotFound,
  mayUse,
} from './action-context.ts';
import { cmeErrorText } from './cme-error-text.ts';
import { normalizeClassId } from './material-store.ts';
import { invalidValue } from './request-params.ts';

const MAX_NAME_CHARS = 90;
const MAX_TAGS = 30;
const MAX_TAG_CHARS = 15;
const LIST_LIMIT_DEFAULT = 20;
const LIST_LIMIT_MAX = 30;

export function deleteMaterial({ store, caller, params }: ActionContext): ActionResult {
  const material = store.material(params.string('MaterialId'));
  if (!material) throw materialNotFound();
  assertMayUse(caller, material.owner);
  store.deleteMaterial(material.id);
  return undefined;
}

export function modifyMaterial({ store, caller, params }: ActionContext): ActionResult {
  const materialId = params.string('MaterialId');
  const classId = params.optionalInt('ClassId');
  const name = params.optionalString('Name');
  const presetTagIds = params.optionalStringArray('PresetTagIds');
  const tags = params.optionalStringArray('Tags');
  if (name !== undefined && (name.length === 0 || [...name].length > MAX_NAME_CHARS)) {
    throw invalidValue('Name', `1 to ${MAX_NAME_CHARS} characters`);
  }
  if (tags && (tags.length > MAX_TAGS || tags.some((t) => [...t].length > MAX_TAG_CHARS))) {
    throw invalidValue('Tags', `at most ${MAX_TAGS} tags of at most ${MAX_TAG_CHARS} characters`);
  }
  const material = store.material(materialId);
  if (!material) throw materialNotFound();
  assertMayUse(caller, material.owner);
  if (classId !== undefined) {
    if (!store.hasClass(material.owner, classId)) throw classNotFound();
    material.classId = normalizeClassId(classId);
  }
  if (name !== undefined) material.name = name;
  if (presetTagIds) material.presetTagIds = [...presetTagIds];
  if (tags) material.tags = [...tags];
  store.touch(material);
  return undefined;
}

export function describeMaterials({ store, caller, params }: ActionContext): ActionResult {
  const materialIds = params.stringArray('MaterialIds');
  if (materialIds.length === 0) throw invalidValue('MaterialIds', 'at least one MaterialId');
  const found: unknown[] = [];
  const failed: unknown[] = [];
  for (const materialId of materialIds) {
    const material = store.material(materialId);
    if (material && mayUse(caller, material.owner)) {
      found.push(store.materialInfo(material));
      continue;
    }
    const code = material ? 'OperationDenied.PermissionDeny' : 'InvalidParameterValue.MaterialId';
    const text = cmeErrorText(code);
    failed.push({
      MaterialId: materialId,
      ErrorInfo: { Code: code, Message: text.message, EnglishMessage: text.englishMessage },
    });
  }
  return { MaterialInfoSet: found, FailedMaterialInfoSet: failed };
}

export function listMedia({ store, caller, params }: ActionContext): ActionResult {
  assertPlatform(caller, params.string('Platform'));
  const classId = params.int('ClassId');
  const owner = params.owner();
  const { offset, limit } = page(params.optionalInt('Offset'), params.optionalInt('Limit'));
  assertClassUsable({ store, caller }, owner, classId);
  const all = store.materials(owner, new Set([normalizeClassId(classId)]));
  return {
    MaterialTotalCount: all.length,
    MaterialInfoSet: all.slice(offset, offset + limit).map((m) => store.materialInfo(m)),
    ClassInfoSet: store.childClasses(owner, classId).map((c) => store.classInfo(c)),
  };
}

/** Validated `Offset`/`Limit` (shared with SearchMaterial, which has other limits). */
export function page(
  offset: number | undefined,
  limit: number | undefined,
  limits = { defaultLimit: LIST_LIMIT_DEFAULT, maxLimit: LIST_LIMIT_MAX },
): { offset: number; limit: number } {
  const resolved = { offset: offset ?? 0, limit: limit ?? limits.defaultLimit };
  if (resolved.offset < 0) throw invalidValue('Offset', 'must be >= 0');
  if (resolved.limit < 1 || resolved.limit > limits.maxLimit) {
    throw invalidValue('Limit', `1 to ${limits.maxLimit}`);
  }
  return resolved;
}
