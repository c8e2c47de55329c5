import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CmeMaterialInfo, CmeOwner, CmeSimulator } from '../src/index.ts';
import { callApi, fakeClock, PLATFORM, startCme } from './cme-test-support.ts';

const ALICE: CmeOwner = { Type: 'PERSON', Id: 'alice' };
const TEAM: CmeOwner = { Type: 'TEAM', Id: 'team_1' };
const NOT_EXIST = {
  Code: 'InvalidParameterValue.MaterialId',
  Message: '素材不存在',
  EnglishMessage: 'material not exist',
};

let sim: CmeSimulator;
let ticket: string;
let clock: ReturnType<typeof fakeClock>;

beforeEach(async () => {
  clock = fakeClock(Date.UTC(2024, 0, 2));
  sim = await startCme({
    clock: clock.now,
    seed: {
      classes: [{ owner: ALICE, name: 'clips', classId: 10 }],
      materials: [
        {
          owner: ALICE,
          materialId: 'm1',
          name: 'Sunset beach',
          createTime: '2024-01-01T00:00:01Z',
        },
        { owner: ALICE, materialId: 'm2', name: 'City night', materialType: 'IMAGE' },
        { owner: ALICE, materialId: 'm3', name: 'Beach audio', materialType: 'AUDIO', classId: 10 },
        { owner: { Type: 'PERSON', Id: 'bob' }, materialId: 'b1', name: 'Bob beach' },
        { owner: TEAM, materialId: 't1', name: 'Team beach' },
      ],
    },
  });
  ticket = sim.issueTicket('alice');
});
afterEach(() => sim.close());

const ids = (set: CmeMaterialInfo[] | undefined) => set?.map((m) => m.BasicInfo.MaterialId);

describe('DeleteMaterial', () => {
  it('deletes and answers Success without Data', async () => {
    expect(await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 'm1' })).toEqual({
      Code: 'Success',
      Message: '成功',
      EnglishMessage: 'success',
    });
    expect(ids(sim.materials(ALICE))).not.toContain('m1');
    expect(ids(sim.materials(TEAM))).toEqual(['t1']);
  });

  it('answers material-not-exist for a missing material, and checks parameters and owner', async () => {
    expect(await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 'nope' })).toEqual(NOT_EXIST);
    expect(await callApi(sim, 'DeleteMaterial', ticket, {})).toMatchObject({
      Code: 'MissingParameter',
    });
    expect(await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 7 })).toMatchObject({
      Code: 'InvalidParameter',
    });
    expect(await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 'b1' })).toMatchObject({
      Code: 'OperationDenied.PermissionDeny',
    });
    expect((await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 't1' })).Code).toBe(
      'Success',
    );
  });
});

describe('ModifyMaterial', () => {
  it('changes name, class and tags and bumps UpdateTime', async () => {
    clock.advance(60_000);
    const answer = await callApi(sim, 'ModifyMaterial', ticket, {
      MaterialId: 'm2',
      Name: 'Renamed',
      ClassId: 10,
      Tags: ['a', 'b'],
      PresetTagIds: ['p1'],
    });
    expect(answer).toEqual({ Code: 'Success', Message: '成功', EnglishMessage: 'success' });
    const info = sim.materials(ALICE).find((m) => m.BasicInfo.MaterialId === 'm2');
    expect(info?.BasicInfo).toMatchObject({
      Name: 'Renamed',
      ClassPath: '/clips',
      TagSet: ['a', 'b'],
      TagInfoSet: [{ TagId: 'p1', TagName: expect.any(String) }],
    });
    expect(info?.BasicInfo.UpdateTime).not.toBe(info?.BasicInfo.CreateTime);
  });

  it('rejects missing materials, unknown classes and over-long tags', async () => {
    expect(await callApi(sim, 'ModifyMaterial', ticket, { MaterialId: 'nope', Name: 'x' })).toEqual(
      NOT_EXIST,
    );
    expect(
      await callApi(sim, 'ModifyMaterial', ticket, { MaterialId: 'm1', ClassId: 99 }),
    ).toMatchObject({ Code: 'InvalidParameterValue.ClassId' });
    const long = { MaterialId: 'm1', Tags: ['sixteen-chars-xx'] };
    expect(await callApi(sim, 'ModifyMaterial', ticket, long)).toMatchObject({
      Code: 'InvalidParameterValue.Tags',
    });
    expect(
      sim.materials(ALICE).find((m) => m.BasicInfo.MaterialId === 'm1')?.BasicInfo.TagSet,
    ).toEqual([]);
  });
});

describe('DescribeMaterials', () => {
  it('returns found materials in full and failures per id', async () => {
    const answer = await callApi<{
      MaterialInfoSet: CmeMaterialInfo[];
      FailedMaterialInfoSet: unknown[];
    }>(sim, 'DescribeMaterials', ticket, { MaterialIds: ['m1', 'gone', 'b1'] });
    expect(answer.Code).toBe('Success');
    const [m1] = answer.Data?.MaterialInfoSet ?? [];
    expect(m1).toEqual({
      BasicInfo: {
        MaterialId: 'm1',
        MaterialType: 'VIDEO',
        Name: 'Sunset beach',
        ClassPath: '/',
        CreateTime: '2024-01-01T00:00:01Z',
        UpdateTime: '2024-01-01T00:00:01Z',
        TagInfoSet: [],
        TagSet: [],
        PreviewUrl: expect.stringMatching(/^https:\/\//),
        MediaUrl: expect.stringMatching(/^https:\/\/.*\.mp4$/),
        Owner: ALICE,
      },
      MediaInfo: {
        Width: 1920,
        Height: 1080,
        Size: expect.any(Number),
        Duration: 12.5,
        MediaType: 'mp4',
      },
      MaterialStatus: { TranscodeStatus: 'NORMAL' },
    });
    expect(answer.Data?.FailedMaterialInfoSet).toEqual([
      {
        MaterialId: 'gone',
        ErrorInfo: {
          Code: NOT_EXIST.Code,
          Message: NOT_EXIST.Message,
          EnglishMessage: NOT_EXIST.EnglishMessage,
        },
      },
      {
        MaterialId: 'b1',
        ErrorInfo: expect.objectContaining({ Code: 'OperationDenied.PermissionDeny' }),
      },
    ]);
    expect(await callApi(sim, 'DescribeMaterials', ticket, {})).toMatchObject({
      Code: 'MissingParameter',
    });
  });
});

describe('ListMedia', () => {
  it('pages a class and lists its sub-classes', async () => {
    type Listing = {
      MaterialTotalCount: number;
      MaterialInfoSet: CmeMaterialInfo[];
      ClassInfoSet: unknown[];
    };
    const base = { Platform: PLATFORM, ClassId: 0, Owner: ALICE };
    const first = await callApi<Listing>(sim, 'ListMedia', ticket, { ...base, Limit: 1 });
    expect(first.Data?.MaterialTotalCount).toBe(2);
    expect(ids(first.Data?.MaterialInfoSet)).toEqual(['m2']);
    expect(first.Data?.ClassInfoSet).toEqual([
      { Owner: ALICE, Name: 'clips', ClassPath: '/clips', ClassId: 10, ParentClassId: 0 },
    ]);
    const second = await callApi<Listing>(sim, 'ListMedia', ticket, {
      ...base,
      Offset: 1,
      Limit: 1,
    });
    expect(ids(second.Data?.MaterialInfoSet)).toEqual(['m1']);
    const inClass = await callApi<Listing>(sim, 'ListMedia', ticket, { ...base, ClassId: 10 });
    expect(ids(inClass.Data?.MaterialInfoSet)).toEqual(['m3']);
  });

  it('defaults Limit to 20, caps it at 30 and checks Platform, Owner and ClassId', async () => {
    sim.seed({ materials: Array.from({ length: 25 }, () => ({ owner: TEAM })) });
    const base = { Platform: PLATFORM, ClassId: 0, Owner: TEAM };
    const page = await callApi<{ MaterialInfoSet: unknown[] }>(sim, 'ListMedia', ticket, base);
    expect(page.Data?.MaterialInfoSet).toHaveLength(20);
    const codeOf = async (body: object) => (await callApi(sim, 'ListMedia', ticket, body)).Code;
    expect(await codeOf({ ...base, Limit: 31 })).toBe('InvalidParameterValue.Limit');
    expect(await codeOf({ ...base, Limit: 30 })).toBe('Success');
    expect(await codeOf({ ClassId: 0, Owner: TEAM })).toBe('MissingParameter');
    expect(await codeOf({ ...base, Platform: 'other' })).toBe('InvalidParameterValue.Platform');
    expect(await codeOf({ ...base, ClassId: 10 })).toBe('InvalidParameterValue.ClassId');
    expect(await codeOf({ ...base, Owner: { Type: 'PERSON', Id: 'bob' } })).toBe(
      'OperationDenied.PermissionDeny',
    );
    expect(await codeOf({ ...base, Owner: { Type: 'GROUP', Id: 'x' } })).toBe(
      'InvalidParameterValue.Owner',
    );
  });
});

describe('SearchMaterial', () => {
  type Found = { TotalCount: number; MaterialInfoSet: CmeMaterialInfo[] };
  const scope = (owner: CmeOwner, extra: object = {}) => ({
    Platform: PLATFORM,
    Owner: owner,
    ...extra,
  });

  it('filters by text, type and scope', async () => {
    const search = async (body: object) =>
      (await callApi<Found>(sim, 'SearchMaterial', ticket, body)).Data;
    const beach = await search({ SearchScopes: [scope(ALICE), scope(TEAM)], Text: 'BEACH' });
    expect(beach?.TotalCount).toBe(3);
    expect(ids(beach?.MaterialInfoSet)?.sort()).toEqual(['m1', 'm3', 't1']);
    const audio = await search({ SearchScopes: [scope(ALICE)], MaterialTypes: ['AUDIO'] });
    expect(ids(audio?.MaterialInfoSet)).toEqual(['m3']);
    const rootOnly = await search({
      SearchScopes: [scope(ALICE, { ClassId: 0, SearchOneDepth: true })],
    });
    expect(ids(rootOnly?.MaterialInfoSet)?.sort()).toEqual(['m1', 'm2']);
    const paged = await search({ SearchScopes: [scope(ALICE)], Limit: 1 });
    expect(paged?.TotalCount).toBe(3);
    expect(paged?.MaterialInfoSet).toHaveLength(1);
  });

  it('requires SearchScopes and validates filters', async () => {
    const codeOf = async (body: object) =>
      (await callApi(sim, 'SearchMaterial', ticket, body)).Code;
    expect(await codeOf({ Text: 'x' })).toBe('MissingParameter');
    expect(await codeOf({ SearchScopes: [scope(ALICE)], Text: 'sixteen-chars-xx' })).toBe(
      'InvalidParameterValue.Text',
    );
    expect(await codeOf({ SearchScopes: [scope(ALICE)], MaterialTypes: ['TEXT'] })).toBe(
      'InvalidParameterValue.MaterialTypes',
    );
    expect(await codeOf({ SearchScopes: Array(6).fill(scope(ALICE)) })).toBe(
      'InvalidParameterValue.SearchScopes',
    );
  });
});

describe('the client API envelope', () => {
  it('answers InvalidAction for actions it does not know and InvalidParameter for a non-JSON body', async () => {
    expect(await callApi(sim, 'ImportMaterial', ticket, {})).toMatchObject({
      Code: 'InvalidAction',
    });
    expect(await callApi(sim, 'DeleteMaterial', ticket, '{not json')).toMatchObject({
      Code: 'InvalidParameter',
    });
    expect(sim.counters().apiCalls).toEqual({
      total: 2,
      byAction: { 'Material/ImportMaterial': 1, 'Material/DeleteMaterial': 1 },
      byUser: { alice: 2 },
    });
  });
});
