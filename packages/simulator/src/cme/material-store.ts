import { randomBytes } from 'node:crypto';
import { CmeFailure } from './cme-failure.ts';
import type {
  CmeClassInfo,
  CmeClassSeed,
  CmeMaterialInfo,
  CmeMaterialSeed,
  CmeMaterialType,
  CmeOwner,
  CmeSeedData,
  CmeSeedResult,
  CmeTranscodeStatus,
} from './cme-types.ts';

/** The root class. Requests may also say -1 (DescribeClass's documented default). */
export const ROOT_CLASS_ID = 0;

const MEDIA_HOST = 'https://media.cme-simulator.invalid';

const MEDIA_DEFAULTS: Record<
  CmeMaterialType,
  { width: number; height: number; sizeBytes: number; durationSec: number; ext: string }
> = {
  VIDEO: { width: 1920, height: 1080, sizeBytes: 5_242_880, durationSec: 12.5, ext: 'mp4' },
  AUDIO: { width: 0, height: 0, sizeBytes: 480_000, durationSec: 30, ext: 'mp3' },
  IMAGE: { width: 1280, height: 720, sizeBytes: 204_800, durationSec: 0, ext: 'jpg' },
};

export interface StoredMaterial {
  readonly id: string;
  readonly owner: CmeOwner;
  readonly type: CmeMaterialType;
  readonly seq: number;
  readonly createTime: string;
  name: string;
  classId: number;
  tags: string[];
  presetTagIds: string[];
  updateTime: string;
  width: number;
  height: number;
  sizeBytes: number;
  durationSec: number;
  transcodeStatus: CmeTranscodeStatus;
}

export interface StoredClass {
  readonly id: number;
  readonly owner: CmeOwner;
  name: string;
  parentId: number;
}

export function sameOwner(a: CmeOwner, b: CmeOwner): boolean {
  return a.Type === b.Type && a.Id === b.Id;
}

export function normalizeClassId(classId: number): number {
  return classId === -1 ? ROOT_CLASS_ID : classId;
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** In-memory materials and classes of every owner. Paths are computed on read, so moves are cheap. */
export class MaterialStore {
  readonly #materials = new Map<string, StoredMaterial>();
  readonly #classes = new Map<number, StoredClass>();
  readonly #now: () => number;
  #nextClassId = 1;
  #seq = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  clear(): void {
    this.#materials.clear();
    this.#classes.clear();
    this.#nextClassId = 1;
  }

  seed(data: CmeSeedData): CmeSeedResult {
    const classIds = (data.classes ?? []).map((seed) => this.#seedClass(seed).id);
    const materialIds = (data.materials ?? []).map((seed) => this.#seedMaterial(seed).id);
    return { classIds, materialIds };
  }

  addClass(owner: CmeOwner, name: string, parentId: number, classId?: number): StoredClass {
    const parent = normalizeClassId(parentId);
    if (!this.hasClass(owner, parent)) {
      throw new CmeFailure(
        'InvalidParameterValue.ParentClassId',
        '父分类不存在',
        'parent class not exist',
      );
    }
    this.assertNameFree(owner, parent, name);
    const id = classId ?? this.#nextClassId;
    if (id <= ROOT_CLASS_ID || this.#classes.has(id)) {
      throw new CmeFailure('InvalidParameterValue.ClassId', '分类 ID 已存在', 'class id taken');
    }
    this.#nextClassId = Math.max(this.#nextClassId, id + 1);
    const stored: StoredClass = { id, owner: { ...owner }, name, parentId: parent };
    this.#classes.set(id, stored);
    return stored;
  }

  /** Throws when the name is empty, holds a `/`, or a sibling class already has it. */
  assertNameFree(owner: CmeOwner, parentId: number, name: string, except?: number): void {
    if (name.length === 0 || name.includes('/')) {
      throw new CmeFailure('InvalidParameterValue.Name', '分类名称不合法', 'invalid class name');
    }
    const taken = this.childClasses(owner, parentId).some(
      (c) => c.name === name && c.id !== except,
    );
    if (taken) {
      throw new CmeFailure('InvalidParameterValue.Name', '分类名称已存在', 'class name exists');
    }
  }

  material(materialId: string): StoredMaterial | undefined {
    return this.#materials.get(materialId);
  }

  deleteMaterial(materialId: string): boolean {
    return this.#materials.delete(materialId);
  }

  touch(material: StoredMaterial): void {
    material.updateTime = isoSeconds(this.#now());
  }

  /** The owner's class with that id (undefined for the root or another owner's class). */
  ownClass(owner: CmeOwner, classId: number): StoredClass | undefined {
    const found = this.#classes.get(normalizeClassId(classId));
    return found && sameOwner(found.owner, owner) ? found : undefined;
  }

  hasClass(owner: CmeOwner, classId: number): boolean {
    return (
      normalizeClassId(classId) === ROOT_CLASS_ID || this.ownClass(owner, classId) !== undefined
    );
  }

  deleteClass(classId: number): void {
    this.#classes.delete(classId);
  }

  childClasses(owner: CmeOwner, parentId: number): StoredClass[] {
    const parent = normalizeClassId(parentId);
    return [...this.#classes.values()].filter(
      (c) => c.parentId === parent && sameOwner(c.owner, owner),
    );
  }

  /** The class and every class below it. */
  subtreeClassIds(owner: CmeOwner, classId: number): Set<number> {
    const ids = new Set<number>([normalizeClassId(classId)]);
    const pending = [normalizeClassId(classId)];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      for (const child of this.childClasses(owner, next)) {
        ids.add(child.id);
        pending.push(child.id);
      }
    }
    return ids;
  }

  /** From the top-level ancestor down to the class itself (empty for the root). */
  ancestry(classId: number): StoredClass[] {
    const chain: StoredClass[] = [];
    for (let c = this.#classes.get(classId); c; c = this.#classes.get(c.parentId)) {
      chain.unshift(c);
      if (chain.length > this.#classes.size) break;
    }
    return chain;
  }

  classes(owner?: CmeOwner): StoredClass[] {
    const all = [...this.#classes.values()];
    return owner ? all.filter((c) => sameOwner(c.owner, owner)) : all;
  }

  /** Newest first (create time, then insertion order). */
  materials(owner?: CmeOwner, classIds?: Set<number>): StoredMaterial[] {
    const picked = [...this.#materials.values()].filter(
      (m) => (!owner || sameOwner(m.owner, owner)) && (!classIds || classIds.has(m.classId)),
    );
    return picked.sort((a, b) => b.createTime.localeCompare(a.createTime) || b.seq - a.seq);
  }

  hasMaterialsIn(classId: number): boolean {
    for (const m of this.#materials.values()) if (m.classId === classId) return true;
    return false;
  }

  classPath(classId: number): string {
    const names = this.ancestry(normalizeClassId(classId)).map((c) => c.name);
    return `/${names.join('/')}`;
  }

  materialInfo(m: StoredMaterial): CmeMaterialInfo {
    const ext = MEDIA_DEFAULTS[m.type].ext;
    return {
      BasicInfo: {
        MaterialId: m.id,
        MaterialType: m.type,
        Name: m.name,
        ClassPath: this.classPath(m.classId),
        CreateTime: m.createTime,
        UpdateTime: m.updateTime,
        TagInfoSet: m.presetTagIds.map((id) => ({ TagId: id, TagName: `preset-${id}` })),
        TagSet: [...m.tags],
        PreviewUrl: `${MEDIA_HOST}/preview/${m.id}.jpg`,
        MediaUrl: `${MEDIA_HOST}/media/${m.id}.${ext}`,
        Owner: { ...m.owner },
      },
      MediaInfo: {
        Width: m.width,
        Height: m.height,
        Size: m.sizeBytes,
        Duration: m.durationSec,
        MediaType: ext,
      },
      MaterialStatus: { TranscodeStatus: m.transcodeStatus },
    };
  }

  classInfo(c: StoredClass): CmeClassInfo {
    return {
      Owner: { ...c.owner },
      Name: c.name,
      ClassPath: this.classPath(c.id),
      ClassId: c.id,
      ParentClassId: c.parentId,
    };
  }

  #seedClass(seed: CmeClassSeed): StoredClass {
    assertOwner(seed.owner);
    if (typeof seed.name !== 'string') throw new CmeFailure('InvalidParameterValue.Name');
    return this.addClass(seed.owner, seed.name, seed.parentClassId ?? ROOT_CLASS_ID, seed.classId);
  }

  #seedMaterial(seed: CmeMaterialSeed): StoredMaterial {
    assertOwner(seed.owner);
    const id = seed.materialId ?? randomBytes(16).toString('hex');
    if (this.#materials.has(id)) {
      throw new CmeFailure('InvalidParameterValue.MaterialId', '素材已存在', 'material exists');
    }
    const classId = normalizeClassId(seed.classId ?? ROOT_CLASS_ID);
    if (!this.hasClass(seed.owner, classId)) throw new CmeFailure('InvalidParameterValue.ClassId');
    const type = seed.materialType ?? 'VIDEO';
    const defaults = MEDIA_DEFAULTS[type];
    if (!defaults) throw new CmeFailure('InvalidParameterValue.MaterialType');
    const createTime = seed.createTime ?? isoSeconds(this.#now());
    const stored: StoredMaterial = {
      id,
      owner: { ...seed.owner },
      type,
      seq: this.#seq++,
      createTime,
      updateTime: createTime,
      name: seed.name ?? `${type.toLowerCase()}-${id.slice(0, 6)}`,
      classId,
      tags: [...(seed.tags ?? [])],
      presetTagIds: [...(seed.presetTagIds ?? [])],
      width: seed.width ?? defaults.width,
      height: seed.height ?? defaults.height,
      sizeBytes: seed.sizeBytes ?? defaults.sizeBytes,
      durationSec: seed.durationSec ?? defaults.durationSec,
      transcodeStatus: seed.transcodeStatus ?? 'NORMAL',
    };
    this.#materials.set(id, stored);
    return stored;
  }
}

function assertOwner(owner: CmeOwner | undefined): void {
  const valid =
    owner !== undefined &&
    (owner.Type === 'PERSON' || owner.Type === 'TEAM') &&
    typeof owner.Id === 'string' &&
    owner.Id.length > 0;
  if (!valid) {
    throw new CmeFailure('InvalidParameterValue.Owner', '归属者不合法', 'owner must be {Type, Id}');
  }
}
