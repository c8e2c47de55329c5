import { z } from 'zod';
import { ValidationError } from '../errors/validation-error.ts';
import { enqueueOptionFields } from './common-fields.ts';
import { toIssues, validate } from './validate.ts';

/** userIds the login signature can carry without guessing how the server decodes them. */
export const CME_USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;

const owner = z.strictObject({
  Type: z.enum(['PERSON', 'TEAM']),
  Id: z.string().min(1).max(128),
});
const classId = z.int();
const materialId = z.string().min(1).max(128);
const sort = z.strictObject({
  Field: z.string().min(1),
  Order: z.enum(['Asc', 'Desc']).optional(),
});
const tags = z.array(z.string().min(1).max(15)).max(30);
const platform = z.string().min(1).max(64);
const timeRange = z.strictObject({
  StartTime: z.string().optional(),
  EndTime: z.string().optional(),
});
const durationRange = z.strictObject({
  LowerBound: z.number().min(0).optional(),
  UpperBound: z.number().min(0).optional(),
});

const atLeastOne =
  (fields: readonly string[]) =>
  (value: Record<string, unknown>): boolean =>
    fields.some((f) => value[f] !== undefined);

/** Body schema of every Material action Atelier runs (the allowlist), from the CME spec. */
export const CME_ACTION_PARAMS = {
  'Material/DeleteMaterial': z.strictObject({ MaterialId: materialId }),
  'Material/ModifyMaterial': z
    .strictObject({
      MaterialId: materialId,
      ClassId: classId.optional(),
      Name: z.string().min(1).max(90).optional(),
      PresetTagIds: z.array(z.string().min(1)).optional(),
      Tags: tags.optional(),
    })
    .refine(atLeastOne(['ClassId', 'Name', 'PresetTagIds', 'Tags']), {
      message: 'must change at least one of ClassId, Name, PresetTagIds, Tags',
      params: { rule: 'atLeastOne' },
    }),
  'Material/DescribeMaterials': z.strictObject({
    MaterialIds: z.array(materialId).min(1).max(20),
    FilterInfo: z.strictObject({ NeedImageSpriteInfo: z.boolean().optional() }).optional(),
    Sort: sort.optional(),
  }),
  'Material/ListMedia': z.strictObject({
    Platform: platform.optional(),
    ClassId: classId,
    Owner: owner,
    Offset: z.int().min(0).optional(),
    Limit: z.int().min(1).max(30).optional(),
  }),
  'Material/SearchMaterial': z.strictObject({
    SearchScopes: z
      .array(
        z.strictObject({
          Platform: platform.optional(),
          Owner: owner,
          ClassId: classId.optional(),
          SearchOneDepth: z.boolean().optional(),
        }),
      )
      .min(1)
      .max(5),
    MaterialTypes: z.array(z.enum(['AUDIO', 'VIDEO', 'IMAGE'])).optional(),
    Text: z.string().max(15).optional(),
    Resolutions: z.array(z.string().min(1)).optional(),
    DurationRange: durationRange.optional(),
    CreateTimeRange: timeRange.optional(),
    PresetTagIds: z.array(z.string().min(1)).optional(),
    Tags: tags.optional(),
    Sort: sort.optional(),
    Offset: z.int().min(0).optional(),
    Limit: z.int().min(1).max(50).optional(),
  }),
  'Material/CreateClass': z.strictObject({
    Platform: platform.optional(),
    ParentClassId: classId,
    Name: z.string().min(1).max(30),
    Owner: owner,
  }),
  'Material/DeleteClass': z.strictObject({
    Platform: platform.optional(),
    Owner: owner,
    ClassId: classId,
  }),
  'Material/DescribeClass': z.strictObject({
    Platform: platform.optional(),
    Owner: owner,
    BaseClassId: classId.optional(),
    FirstLevel: z.boolean().optional(),
  }),
  'Material/ModifyClass': z
    .strictObject({
      Platform: platform.optional(),
      ClassId: classId,
      Owner: owner,
      Name: z.string().min(1).max(30).optional(),
      ParentClassId: classId.optional(),
    })
    .refine(atLeastOne(['Name', 'ParentClassId']), {
      message: 'must change at least one of Name, ParentClassId',
      params: { rule: 'atLeastOne' },
    }),
} as const;

export type CmeAction = keyof typeof CME_ACTION_PARAMS;
export const CME_ACTIONS = Object.keys(CME_ACTION_PARAMS) as CmeAction[];
export type CmeActionParams<A extends CmeAction> = z.output<(typeof CME_ACTION_PARAMS)[A]>;

const envelope = z.strictObject({
  userId: z.string().refine((id) => CME_USER_ID_PATTERN.test(id), {
    message: 'must be 1..128 characters of A-Z a-z 0-9 _ . @ -',
    params: { rule: 'pattern' },
  }),
  action: z.enum(CME_ACTIONS as [CmeAction, ...CmeAction[]]),
  params: z.record(z.string(), z.unknown()).default({}),
  ...enqueueOptionFields,
});

/** A CME operation as a caller sends it; `params` is checked against the action's schema. */
export type CmeOperationRequest = {
  [A in CmeAction]: {
    userId: string;
    action: A;
    params: z.input<(typeof CME_ACTION_PARAMS)[A]>;
    idempotencyKey?: string;
    callbackUrl?: string;
    priority?: number;
  };
}[CmeAction];

export type ParsedCmeOperationRequest = {
  [A in CmeAction]: Omit<z.output<typeof envelope>, 'action' | 'params'> & {
    action: A;
    params: CmeActionParams<A>;
  };
}[CmeAction];

/**
 * Validates a CME operation: the envelope first, then `params` against the action's own
 * schema, so errors name `params.MaterialId` and the rule it broke.
 */
export function parseCmeOperationRequest(input: unknown): ParsedCmeOperationRequest {
  const head = envelope.safeParse(input, { reportInput: true });
  if (!head.success) {
    throw new ValidationError(toIssues(head.error.issues));
  }
  const params = validate(CME_ACTION_PARAMS[head.data.action], head.data.params, 'params');
  return { ...head.data, params } as ParsedCmeOperationRequest;
}

/** JSON-schema-able description of the envelope (for OpenAPI). */
export const cmeOperationEnvelopeSchema = envelope;
