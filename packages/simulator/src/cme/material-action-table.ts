import type { ActionHandler } from './action-context.ts';
import { createClass, deleteClass, describeClass, modifyClass } from './class-actions.ts';
import {
  deleteMaterial,
  describeMaterials,
  listMedia,
  modifyMaterial,
} from './material-actions.ts';
import { searchMaterial } from './search-material.ts';

/** The simulated client API actions, keyed `<ActionClass>/<ActionName>` as in the URL path. */
export const materialActionTable: ReadonlyMap<string, ActionHandler> = new Map([
  ['Material/DeleteMaterial', deleteMaterial],
  ['Material/ModifyMaterial', modifyMaterial],
  ['Material/DescribeMaterials', describeMaterials],
  ['Material/ListMedia', listMedia],
  ['Material/SearchMaterial', searchMaterial],
  ['Material/CreateClass', createClass],
  ['Material/DeleteClass', deleteClass],
  ['Material/DescribeClass', describeClass],
  ['Material/ModifyClass', modifyClass],
]);
