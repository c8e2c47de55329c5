import { STATUS_CODES } from 'node:http';

/** What the simulator sends back for one call: an HTTP answer, or a destroyed socket. */
export type DrawingReply =
  | { kind: 'http'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'drop' };

const JSON_TYPE = 'application/json;charset=UTF-8';

/** The vendor's messages for its business codes. */
export const DRAWING_MESSAGES: Readonly<Record<number, string>> = Object.freeze({
  200: '成功',
  201: '任务不存在',
  202: '文本内容违规',
  400: '参数错误',
  500: '系统维护，请稍候再试',
  501: '数据源维护，请稍候再试',
  999: '其他，以实际返回为准',
});

function text(value: string): string {
  return JSON.stringify(value);
}

export function rawReply(status: number, body: string, headers: Record<string, string> = {}) {
  return {
    kind: 'http',
    status,
    headers: { 'content-type': JSON_TYPE, ...headers },
    body,
  } as const;
}

function chargeField(charge: boolean | undefined): string {
  return charge === undefined ? '' : `,"charge":${charge}`;
}

/** A business answer with no data (every code but a successful 200). */
export function businessReply(
  code: number,
  taskNo: string,
  msg = DRAWING_MESSAGES[code] ?? DRAWING_MESSAGES[999] ?? '',
  charge?: boolean,
): DrawingReply {
  return rawReply(
    200,
    `{"code":${code},"msg":${text(msg)},"taskNo":${text(taskNo)},"data":null${chargeField(charge)}}`,
  );
}

/** Submit success. `numericTaskId` writes the id as a bare JSON number, every digit kept. */
export function submitReply(
  taskNo: string,
  taskId: string,
  numericTaskId: boolean,
  charge?: boolean,
): DrawingReply {
  const id = numericTaskId ? taskId : text(taskId);
  return rawReply(
    200,
    `{"code":200,"msg":"成功","taskNo":${text(taskNo)},"data":{"taskId":${id}}${chargeField(charge)}}`,
  );
}

export interface QueryData {
  imageUrls: readonly string[];
  createTime: string;
  status: number;
  /** Expected seconds until ready, on pending answers. */
  waitingSec?: number;
}

/** Query success: images only once finished (`"img":"","imgUrls":[]` before). */
export function queryReply(taskNo: string, data: QueryData, charge?: boolean): DrawingReply {
  const urls = data.status === 1 ? data.imageUrls : [];
  const imgUrls = urls.map((url) => `{"image":${text(url)}}`).join(',');
  const waiting = data.waitingSec === undefined ? '' : `,"waiting":${data.waitingSec}`;
  return rawReply(
    200,
    `{"code":200,"msg":"成功","taskNo":${text(taskNo)},"data":{"img":${text(urls[0] ?? '')},` +
      `"imgUrls":[${imgUrls}],"createTime":${text(data.createTime)},"status":${data.status}${waiting}}` +
      `${chargeField(charge)}}`,
  );
}

/** A Huawei APIG gateway error (`{"error_code","error_msg","request_id"}`). */
export function huaweiGatewayReply(
  status: number,
  errorCode: string,
  errorMsg: string,
  requestId: string,
): DrawingReply {
  return rawReply(
    status,
    `{"error_code":${text(errorCode)},"error_msg":${text(errorMsg)},"request_id":${text(requestId)}}`,
  );
}

/** An Aliyun API gateway error: empty body, the reason in `X-Ca-Error-Message`. */
export function aliyunGatewayReply(
  status: number,
  message: string,
  requestId: string,
): DrawingReply {
  return {
    kind: 'http',
    status,
    headers: { 'x-ca-error-message': message, 'x-ca-request-id': requestId },
    body: '',
  };
}

/** The same answer cut short: a proper prefix of a JSON object is never valid JSON. */
export function malformedReply(reply: DrawingReply): DrawingReply {
  if (reply.kind !== 'http') return reply;
  const body =
    reply.body === '' ? '{"code":' : reply.body.slice(0, Math.ceil(reply.body.length / 2));
  return { ...reply, body };
}

/** An HTML error page from a proxy in front of the gateway (nginx style). */
export function htmlReply(status: number): DrawingReply {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return {
    kind: 'http',
    status,
    headers: { 'content-type': 'text/html' },
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  };
}
