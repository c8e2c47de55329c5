import type { CmeAction } from '@atelier/shared';

/**
 * What sending an action again does when an earlier attempt's outcome is unknown (a timeout, a
 * reset connection, a 5xx, a worker that stalled or died mid-call):
 * - `read`: changes nothing; send it again freely.
 * - `set`: sets fields to the values given; sent again, it lands in the same state.
 * - `delete`: sent again, it finds its target gone; that answer counts as done, "already gone"
 *   (`cmeAlreadyGone`).
 * - `create`: sent again, it would make a second one (or be refused: the name is taken). Before
 *   sending it again, the job checks whether the earlier attempt made it and, if so, completes
 *   with that (`CmeProcessor`, `CmeOperationRunner.findCreated`).
 */
export type CmeIdempotency = 'read' | 'set' | 'delete' | 'create';

export const CME_ACTION_IDEMPOTENCY: Readonly<Record<CmeAction, CmeIdempotency>> = {
  'Material/DescribeMaterials': 'read',
  'Material/ListMedia': 'read',
  'Material/SearchMaterial': 'read',
  'Material/DescribeClass': 'read',
  'Material/ModifyMaterial': 'set',
  'Material/ModifyClass': 'set',
  'Material/DeleteMaterial': 'delete',
  'Material/DeleteClass': 'delete',
  'Material/CreateClass': 'create',
};
