/** Wire shapes of the CME client API as the simulator serves them (see specs/cme-api.md). */

export type CmeOwnerType = 'PERSON' | 'TEAM';

/** `Owner` / `Entity`: who a material or class belongs to. */
export interface CmeOwner {
  Type: CmeOwnerType;
  Id: string;
}

export type CmeMaterialType = 'VIDEO' | 'AUDIO' | 'IMAGE';
export type CmeTranscodeStatus = 'NORMAL' | 'ABNORMAL' | 'PROCESSING';
export type CmeLoginShape = 'new' | 'old';

export interface CmeTagInfo {
  TagId: string;
  TagName: string;
}

export interface CmeMaterialInfo {
  BasicInfo: {
    MaterialId: string;
    MaterialType: CmeMaterialType;
    Name: string;
    ClassPath: string;
    CreateTime: string;
    UpdateTime: string;
    TagInfoSet: CmeTagInfo[];
    TagSet: string[];
    PreviewUrl: string;
    MediaUrl: string;
    Owner: CmeOwner;
  };
  MediaInfo: {
    Width: number;
    Height: number;
    Size: number;
    Duration: number;
    MediaType: string;
  };
  MaterialStatus: {
    TranscodeStatus: CmeTranscodeStatus;
  };
}

export interface CmeClassInfo {
  Owner: CmeOwner;
  Name: string;
  ClassPath: string;
  ClassId: number;
  ParentClassId: number;
}

/** A material to put in the store; everything but the owner has a realistic default. */
export interface CmeMaterialSeed {
  owner: CmeOwner;
  materialId?: string;
  name?: string;
  materialType?: CmeMaterialType;
  /** 0 (or -1) is the root class. */
  classId?: number;
  tags?: string[];
  presetTagIds?: string[];
  /** ISO 8601; defaults to the simulator clock's now. */
  createTime?: string;
  width?: number;
  height?: number;
  sizeBytes?: number;
  durationSec?: number;
  transcodeStatus?: CmeTranscodeStatus;
}

/** A class (folder) to put in the store; seed parents before their children. */
export interface CmeClassSeed {
  owner: CmeOwner;
  name: string;
  classId?: number;
  /** 0 (or -1) is the root class. */
  parentClassId?: number;
}

export interface CmeSeedData {
  classes?: CmeClassSeed[];
  materials?: CmeMaterialSeed[];
}

/** What `seed()` created, in the order given. */
export interface CmeSeedResult {
  classIds: number[];
  materialIds: string[];
}
