import { describe, expect, it } from 'vitest';
import { CME_ACTIONS, parseCmeOperationRequest, ValidationError } from '../src/index.ts';

const owner = { Type: 'PERSON', Id: 'user_001' };

function issuesOf(input: unknown) {
  try {
    parseCmeOperationRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected the operation to be rejected');
}

const validParams: Record<string, Record<string, unknown>> = {
  'Material/DeleteMaterial': { MaterialId: 'm1' },
  'Material/ModifyMaterial': { MaterialId: 'm1', Name: 'renamed', Tags: ['a', 'b'] },
  'Material/DescribeMaterials': {
    MaterialIds: ['m1', 'm2'],
    FilterInfo: { NeedImageSpriteInfo: true },
  },
  'Material/ListMedia': { ClassId: 0, Owner: owner, Limit: 30 },
  'Material/SearchMaterial': {
    SearchScopes: [{ Owner: owner }],
    MaterialTypes: ['IMAGE'],
    Text: 'cat',
  },
  'Material/CreateClass': { ParentClassId: 0, Name: 'Cats', Owner: owner },
  'Material/DeleteClass': { Owner: owner, ClassId: 3 },
  'Material/DescribeClass': { Owner: owner, BaseClassId: -1, FirstLevel: true },
  'Material/ModifyClass': { ClassId: 3, Owner: owner, Name: 'Dogs' },
};

describe('CME operation schema', () => {
  it('allows exactly the Material actions of the spec', () => {
    expect([...CME_ACTIONS].sort()).toEqual(Object.keys(validParams).sort());
  });

  it.each(Object.entries(validParams))('accepts valid params for %s', (action, params) => {
    const parsed = parseCmeOperationRequest({ userId: 'user_001', action, params });
    expect(parsed.action).toBe(action);
    expect(parsed.params).toEqual(params);
  });

  it('rejects an unknown action, listing the allowed ones', () => {
    const issues = issuesOf({ userId: 'u1', action: 'Material/ImportMaterial', params: {} });
    expect(issues[0]).toMatchObject({ field: 'action', rule: 'oneOf' });
    expect(issues[0]?.message).toContain('Material/DeleteMaterial');
  });

  it('rejects a userId outside [A-Za-z0-9_.@-] rather than guessing its encoding', () => {
    expect(
      issuesOf({
        userId: 'u x',
        action: 'Material/DeleteMaterial',
        params: { MaterialId: 'm' },
      })[0],
    ).toMatchObject({
      field: 'userId',
      rule: 'pattern',
    });
    expect(
      issuesOf({ action: 'Material/DeleteMaterial', params: { MaterialId: 'm' } })[0],
    ).toMatchObject({
      field: 'userId',
      rule: 'required',
    });
  });

  it.each([
    ['Material/DeleteMaterial', {}, 'params.MaterialId', 'required'],
    ['Material/DeleteMaterial', { MaterialId: 7 }, 'params.MaterialId', 'type'],
    ['Material/DeleteMaterial', { MaterialId: 'm', Force: true }, 'params.Force', 'unknownField'],
    ['Material/ModifyMaterial', { MaterialId: 'm' }, 'params', 'atLeastOne'],
    [
      'Material/ModifyMaterial',
      { MaterialId: 'm', Name: 'n'.repeat(91) },
      'params.Name',
      'maxLength',
    ],
    [
      'Material/ModifyMaterial',
      { MaterialId: 'm', Tags: Array(31).fill('t') },
      'params.Tags',
      'maxItems',
    ],
    [
      'Material/ModifyMaterial',
      { MaterialId: 'm', Tags: ['x'.repeat(16)] },
      'params.Tags.0',
      'maxLength',
    ],
    ['Material/ModifyMaterial', { MaterialId: 'm', ClassId: 'two' }, 'params.ClassId', 'type'],
    ['Material/DescribeMaterials', { MaterialIds: [] }, 'params.MaterialIds', 'minItems'],
    [
      'Material/DescribeMaterials',
      { MaterialIds: Array(21).fill('m') },
      'params.MaterialIds',
      'maxItems',
    ],
    ['Material/ListMedia', { ClassId: 0, Owner: owner, Limit: 31 }, 'params.Limit', 'max'],
    ['Material/ListMedia', { ClassId: 0 }, 'params.Owner', 'required'],
    [
      'Material/ListMedia',
      { ClassId: 0, Owner: { Type: 'GROUP', Id: 'x' } },
      'params.Owner.Type',
      'oneOf',
    ],
    ['Material/SearchMaterial', { SearchScopes: [] }, 'params.SearchScopes', 'minItems'],
    [
      'Material/SearchMaterial',
      { SearchScopes: Array(6).fill({ Owner: owner }) },
      'params.SearchScopes',
      'maxItems',
    ],
    [
      'Material/SearchMaterial',
      { SearchScopes: [{ Owner: owner }], Text: 't'.repeat(16) },
      'params.Text',
      'maxLength',
    ],
    [
      'Material/SearchMaterial',
      { SearchScopes: [{ Owner: owner }], MaterialTypes: ['GIF'] },
      'params.MaterialTypes.0',
      'oneOf',
    ],
    ['Material/CreateClass', { Name: 'x', Owner: owner }, 'params.ParentClassId', 'required'],
    ['Material/DeleteClass', { Owner: owner }, 'params.ClassId', 'required'],
    ['Material/DescribeClass', { Owner: owner, FirstLevel: 'yes' }, 'params.FirstLevel', 'type'],
    ['Material/ModifyClass', { ClassId: 1, Owner: owner }, 'params', 'atLeastOne'],
  ])('rejects bad params for %s: %j', (action, params, field, rule) => {
    const issues = issuesOf({ userId: 'user_001', action, params });
    expect(issues).toContainEqual(expect.objectContaining({ field, rule }));
  });
});
