import { describe, expect, it } from 'vitest';
import { fillPlatform } from '../../src/cme/fill-platform.ts';

const owner = { Type: 'PERSON', Id: 'u1' };

describe('fillPlatform', () => {
  it.each([
    'Material/ListMedia',
    'Material/DescribeClass',
    'Material/CreateClass',
    'Material/DeleteClass',
    'Material/ModifyClass',
  ])('fills Platform for %s when absent', (action) => {
    expect(fillPlatform(action, { Owner: owner }, 'p1')).toEqual({ Owner: owner, Platform: 'p1' });
  });

  it('never overrides a Platform the caller gave', () => {
    expect(fillPlatform('Material/ListMedia', { Platform: 'mine' }, 'p1')).toEqual({
      Platform: 'mine',
    });
  });

  it('fills each SearchMaterial scope that lacks one', () => {
    const params = {
      Text: 'cat',
      SearchScopes: [{ Owner: owner }, { Owner: owner, Platform: 'other' }],
    };
    expect(fillPlatform('Material/SearchMaterial', params, 'p1')).toEqual({
      Text: 'cat',
      SearchScopes: [
        { Owner: owner, Platform: 'p1' },
        { Owner: owner, Platform: 'other' },
      ],
    });
    expect(params.SearchScopes[0]).toEqual({ Owner: owner });
  });

  it.each(['Material/DeleteMaterial', 'Material/ModifyMaterial', 'Material/DescribeMaterials'])(
    'leaves %s alone',
    (action) => {
      const params = { MaterialId: 'm1' };
      expect(fillPlatform(action, params, 'p1')).toBe(params);
    },
  );
});
