import { CmeFailure } from './cme-failure.ts';
import type { CmeOwner } from './cme-types.ts';
import type { MaterialStore, StoredClass } from './material-store.ts';
import type { RequestParams } from './request-params.ts';

/** Whom a ticket belongs to: every API call runs as this user. */
export interface ActionCaller {
  userId: string;
  tfUid: string;
  platform: string;
}

export interface ActionContext {
  store: MaterialStore;
  caller: ActionCaller;
  params: RequestParams;
}

/** `Data` of a success answer, or undefined when the action returns nothing. */
export type ActionResult = Record<string, unknown> | undefined;

export type ActionHandler = (context: ActionContext) => ActionResult;

/**
 * A user may act on their own PERSON space (named by userId or TfUid, which of the two the
 * real service uses is unconfirmed) and on any TEAM (team membership is not simulated).
 */
export function assertMayUse(caller: ActionCaller, owner: CmeOwner): void {
  if (!mayUse(caller, owner)) throw new CmeFailure('OperationDenied.PermissionDeny');
}

export function mayUse(caller: ActionCaller, owner: CmeOwner): boolean {
  return owner.Type === 'TEAM' || owner.Id === caller.userId || owner.Id === caller.tfUid;
}

/**
 * The caller may act in `owner`'s space and `classId` is a class there (-1: the root);
 * otherwise the failure names `parameter` (default `ClassId`).
 */
export function assertClassUsable(
  { store, caller }: Pick<ActionContext, 'store' | 'caller'>,
  owner: CmeOwner,
  classId: number,
  parameter?: string,
): void {
  assertMayUse(caller, owner);
  if (!store.hasClass(owner, classId)) throw classNotFound(parameter);
}

/** The caller may act in `owner`'s space and `classId` is one of its classes (not the root). */
export function requireOwnClass(
  { store, caller }: Pick<ActionContext, 'store' | 'caller'>,
  owner: CmeOwner,
  classId: number,
): StoredClass {
  assertMayUse(caller, owner);
  const found = store.ownClass(owner, classId);
  if (!found) throw classNotFound();
  return found;
}

export function assertPlatform(caller: ActionCaller, platform: string): void {
  if (platform !== caller.platform) throw new CmeFailure('InvalidParameterValue.Platform');
}

export function materialNotFound(): CmeFailure {
  return new CmeFailure('InvalidParameterValue.MaterialId');
}

export function classNotFound(parameter = 'ClassId'): CmeFailure {
  const text = { message: '分类不存在', english: 'class not exist' };
  return new CmeFailure(`InvalidParameterValue.${parameter}`, text.message, text.english);
}
