/** The Chinese and English texts the simulator sends with a CME error code. */
export interface CmeErrorText {
  message: string;
  englishMessage: string;
}

const TEXTS: Record<string, readonly [string, string]> = {
  InternalError: ['内部错误', 'internal error'],
  RequestLimitExceeded: ['请求的次数超过了频率限制', 'request limit exceeded'],
  ServiceUnavailable: ['当前服务暂时不可用', 'service unavailable'],
  FailedOperation: ['操作失败', 'failed operation'],
  'FailedOperation.ClassNotEmpty': ['分类下存在素材或子分类', 'class not empty'],
  ResourceInUse: ['资源被占用', 'resource in use'],
  ResourceUnavailable: ['资源不可用', 'resource unavailable'],
  'AuthFailure.SessionInvalid': ['登录态已失效', 'session invalid'],
  'AuthFailure.InvalidAuthorization': ['缺少登录凭证', 'authorization missing'],
  'AuthFailure.TokenFailure': ['登录凭证校验失败', 'token failure'],
  'AuthFailure.SignatureExpire': ['签名已过期', 'signature expired'],
  SignatureVerifyFail: ['签名校验失败', 'Signature Verify Fail'],
  'InvalidParameterValue.Platform': ['平台不存在', 'platform not exist'],
  'InvalidParameterValue.Action': ['不支持的 action', 'action not supported'],
  'InvalidParameterValue.MaterialId': ['素材不存在', 'material not exist'],
  'InvalidParameterValue.ClassId': ['分类不存在', 'class not exist'],
  'OperationDenied.PermissionDeny': ['没有权限', 'permission denied'],
  InvalidAction: ['接口不存在', 'action not exist'],
  RequestSizeLimitExceeded: ['请求包超过限制大小', 'request size limit exceeded'],
};

/** Texts for a code; unknown codes get a generic pair that still names the code. */
export function cmeErrorText(code: string): CmeErrorText {
  const known = TEXTS[code];
  if (known) return { message: known[0], englishMessage: known[1] };
  return { message: `错误: ${code}`, englishMessage: `error: ${code}` };
}
