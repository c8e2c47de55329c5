import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CmeClassInfo, CmeOwner, CmeSimulator } from '../src/index.ts';
import { callApi, PLATFORM, startCme } from './cme-test-support.ts';

const ALICE: CmeOwner = { Type: 'PERSON', Id: 'alice' };

let sim: CmeSimulator;
let ticket: string;

beforeEach(async () => {
  sim = await startCme();
  ticket = sim.issueTicket('alice');
});
afterEach(() => sim.close());

async function createClass(name: string, parent: number): Promise<number> {
  const answer = await callApi<{ ClassId: number }>(sim, 'CreateClass', ticket, {
    ParentClassId: parent,
    Name: name,
    Owner: ALICE,
  });
  if (answer.Data?.ClassId === undefined) throw new Error(JSON.stringify(answer));
  return answer.Data.ClassId;
}

type Described = { PathInfoSet: CmeClassInfo[]; ClassInfoSet: CmeClassInfo[] };
const describeClass = async (extra: object = {}) =>
  (
    await callApi<Described>(sim, 'DescribeClass', ticket, {
      Platform: PLATFORM,
      Owner: ALICE,
      ...extra,
    })
  ).Data;

describe('CreateClass and DescribeClass', () => {
  it('create nested classes and describe them from the root or a base class', async () => {
    const media = await createClass('media', -1);
    const clips = await createClass('clips', media);
    const music = await createClass('music', 0);
    const all = await describeClass();
    expect(all?.PathInfoSet).toEqual([]);
    expect(all?.ClassInfoSet.map((c) => c.ClassPath)).toEqual(['/media', '/media/clips', '/music']);
    const top = await describeClass({ FirstLevel: true });
    expect(top?.ClassInfoSet.map((c) => c.ClassId)).toEqual([media, music]);
    const below = await describeClass({ BaseClassId: media });
    expect(below?.PathInfoSet).toEqual([
      { Owner: ALICE, Name: 'media', ClassPath: '/media', ClassId: media, ParentClassId: 0 },
    ]);
    expect(below?.ClassInfoSet).toEqual([
      {
        Owner: ALICE,
        Name: 'clips',
        ClassPath: '/media/clips',
        ClassId: clips,
        ParentClassId: media,
      },
    ]);
  });

  it('rejects missing parameters, unknown parents and duplicate names', async () => {
    await createClass('media', 0);
    const codeOf = async (body: object) => (await callApi(sim, 'CreateClass', ticket, body)).Code;
    expect(await codeOf({ ParentClassId: 0, Owner: ALICE })).toBe('MissingParameter');
    expect(await codeOf({ ParentClassId: 999, Name: 'x', Owner: ALICE })).toBe(
      'InvalidParameterValue.ParentClassId',
    );
    expect(await codeOf({ ParentClassId: 0, Name: 'media', Owner: ALICE })).toBe(
      'InvalidParameterValue.Name',
    );
    expect(await codeOf({ ParentClassId: '0', Name: 'y', Owner: ALICE })).toBe('InvalidParameter');
    expect((await callApi(sim, 'DescribeClass', ticket, { Owner: ALICE })).Code).toBe(
      'MissingParameter',
    );
  });
});

describe('ModifyClass', () => {
  it('renames and moves a class; material paths follow', async () => {
    const media = await createClass('media', 0);
    const clips = await createClass('clips', 0);
    sim.seed({ materials: [{ owner: ALICE, materialId: 'm1', classId: clips }] });
    const answer = await callApi(sim, 'ModifyClass', ticket, {
      ClassId: clips,
      Owner: ALICE,
      Name: 'shorts',
      ParentClassId: media,
    });
    expect(answer).toEqual({ Code: 'Success', Message: '成功', EnglishMessage: 'success' });
    expect(sim.materials(ALICE)[0]?.BasicInfo.ClassPath).toBe('/media/shorts');
  });

  it('refuses to move a class below itself and reports unknown classes', async () => {
    const media = await createClass('media', 0);
    const clips = await createClass('clips', media);
    const codeOf = async (body: object) =>
      (await callApi(sim, 'ModifyClass', ticket, { Owner: ALICE, ...body })).Code;
    expect(await codeOf({ ClassId: media, ParentClassId: clips })).toBe(
      'InvalidParameterValue.ParentClassId',
    );
    expect(await codeOf({ ClassId: 404, Name: 'x' })).toBe('InvalidParameterValue.ClassId');
  });
});

describe('DeleteClass', () => {
  it('deletes an empty class and refuses a non-empty or unknown one', async () => {
    const media = await createClass('media', 0);
    const clips = await createClass('clips', media);
    sim.seed({ materials: [{ owner: ALICE, materialId: 'm1', classId: clips }] });
    const codeOf = async (classId: number) =>
      (await callApi(sim, 'DeleteClass', ticket, { Owner: ALICE, ClassId: classId })).Code;
    expect(await codeOf(media)).toBe('FailedOperation.ClassNotEmpty');
    expect(await codeOf(clips)).toBe('FailedOperation.ClassNotEmpty');
    await callApi(sim, 'DeleteMaterial', ticket, { MaterialId: 'm1' });
    expect(await codeOf(clips)).toBe('Success');
    expect(await codeOf(media)).toBe('Success');
    expect(await codeOf(media)).toBe('InvalidParameterValue.ClassId');
    expect(sim.classes(ALICE)).toEqual([]);
  });
});
