import { z } from 'zod';
import { enqueueOptionFields } from './common-fields.ts';

/** Submit-field limits from the drawing spec; configurable because the upstream moves them. */
export interface DrawingLimits {
  textMaxLength: number;
  styles: readonly string[];
  resolutions: readonly string[];
  numMax: number;
}

export const DEFAULT_DRAWING_LIMITS: DrawingLimits = Object.freeze({
  textMaxLength: 100,
  styles: Object.freeze([
    '探索无限',
    '古风',
    '二次元',
    '写实风格',
    '浮世绘',
    'low poly',
    '未来主义',
    '像素风格',
    '概念艺术',
    '赛博朋克',
    '洛丽塔风格',
    '巴洛克风格',
    '超现实主义',
    '水彩画',
    '蒸汽波艺术',
    '油画',
    '卡通画',
  ]),
  resolutions: Object.freeze(['1024*1024', '1024*1536', '1536*1024']),
  numMax: 6,
});

/** What the provider's submit call takes. */
export interface DrawingTask {
  text: string;
  style: string;
  resolution: string;
  num: number;
}

/** Characters as a person counts them (code points), not UTF-16 units. */
function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function taskFields(limits: DrawingLimits) {
  const max = limits.textMaxLength;
  return {
    text: z
      .string()
      .refine((t) => characterCount(t) >= 1 && t.trim() !== '', {
        message: 'must not be empty',
        params: { rule: 'minLength' },
        abort: true,
      })
      .refine((t) => characterCount(t) <= max, {
        message: `must be at most ${max} characters`,
        params: { rule: 'maxLength' },
      }),
    style: z.enum(limits.styles as [string, ...string[]]),
    resolution: z.enum(limits.resolutions as [string, ...string[]]),
    num: z.int().min(1).max(limits.numMax).default(1),
  };
}

/** Provider submit fields only (what a batch file line or the worker re-validates). */
export function drawingTaskSchema(limits: DrawingLimits = DEFAULT_DRAWING_LIMITS) {
  return z.strictObject(taskFields(limits));
}

/** `POST /v1/drawings` body and `enqueueDrawing()` argument. */
export function drawingRequestSchema(limits: DrawingLimits = DEFAULT_DRAWING_LIMITS) {
  return z.strictObject({ ...taskFields(limits), ...enqueueOptionFields });
}

export type DrawingRequest = z.input<ReturnType<typeof drawingRequestSchema>>;
export type ParsedDrawingRequest = z.output<ReturnType<typeof drawingRequestSchema>>;
