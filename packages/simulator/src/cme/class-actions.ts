import {
  type ActionContext,
  type ActionResult,
  assertClassUsable,
  assertPlatform,
  requireOwnClass,
} from './action-context.ts';
import { CmeFailure } from './cme-failure.ts';
import { normalizeClassId } from './material-store.ts';
import { invalidValue } from './request-params.ts';

export function createClass({ store, caller, params }: ActionContext): ActionResult {
  const parentClassId = params.int('ParentClassId');
  const name = params.string('Name');
  const owner = params.owner();
  assertClassUsable({ store, caller }, owner, parentClassId, 'ParentClassId');
  return { ClassId: store.addClass(owner, name, parentClassId).id };
}

export function deleteClass({ store, caller, params }: ActionContext): ActionResult {
  const owner = params.owner();
  const classId = params.int('ClassId');
  const found = requireOwnClass({ store, caller }, owner, classId);
  if (store.childClasses(owner, found.id).length > 0 || store.hasMaterialsIn(found.id)) {
    throw new CmeFailure('FailedOperation.ClassNotEmpty');
  }
  store.deleteClass(found.id);
  return undefined;
}

export function describeClass({ store, caller, params }: ActionContext): ActionResult {
  assertPlatform(caller, params.string('Platform'));
  const owner = params.owner();
  const baseClassId = normalizeClassId(params.optionalInt('BaseClassId') ?? -1);
  const firstLevel = params.optionalBool('FirstLevel') ?? false;
  assertClassUsable({ store, caller }, owner, baseClassId, 'BaseClassId');
  const classes = firstLevel
    ? store.childClasses(owner, baseClassId)
    : [...store.subtreeClassIds(owner, baseClassId)]
        .filter((id) => id !== baseClassId)
        .sort((a, b) => a - b)
        .flatMap((id) => store.ownClass(owner, id) ?? []);
  return {
    PathInfoSet: store.ancestry(baseClassId).map((c) => store.classInfo(c)),
    ClassInfoSet: classes.map((c) => store.classInfo(c)),
  };
}

export function modifyClass({ store, caller, params }: ActionContext): ActionResult {
  const classId = params.int('ClassId');
  const owner = params.owner();
  const name = params.optionalString('Name');
  const parentClassId = params.optionalInt('ParentClassId');
  const found = requireOwnClass({ store, caller }, owner, classId);
  const parentId = parentClassId === undefined ? found.parentId : normalizeClassId(parentClassId);
  assertClassUsable({ store, caller }, owner, parentId, 'ParentClassId');
  if (store.subtreeClassIds(owner, found.id).has(parentId)) {
    throw invalidValue('ParentClassId', 'a class cannot move below itself');
  }
  const newName = name ?? found.name;
  store.assertNameFree(owner, parentId, newName, found.id);
  found.name = newName;
  found.parentId = parentId;
  return undefined;
}
