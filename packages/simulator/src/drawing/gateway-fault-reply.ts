import type { DrawingCounterSet } from './drawing-counter-set.ts';
import type { DrawingFaults, GatewayFlavour } from './drawing-faults.ts';
import { aliyunGatewayReply, type DrawingReply, huaweiGatewayReply } from './drawing-reply.ts';
import type { QpsWindow } from './qps-window.ts';

/**
 * Quota and throttling, answered by the gateway before the vendor sees the call; `undefined`
 * when the call passes. A throttled call does not use up the window.
 */
export function gatewayFaultReply(
  faults: DrawingFaults,
  qps: QpsWindow | null,
  flavour: GatewayFlavour,
  nowMs: number,
  requestNo: string,
  counters: DrawingCounterSet,
): DrawingReply | undefined {
  const { quota, throttle } = faults;
  if (quota !== null) {
    counters.fault('quota');
    if (quota === 'huawei-used-up') {
      return huaweiGatewayReply(405, 'APIGW.0501', 'App quota has been used up', requestNo);
    }
    if (quota === 'huawei-frozen') {
      return huaweiGatewayReply(405, 'APIGW.0502', 'App has been frozen', requestNo);
    }
    const message = quota === 'aliyun-exhausted' ? 'Quota Exhausted' : 'Quota Expired';
    return aliyunGatewayReply(403, message, requestNo);
  }
  if (throttle !== null && qps !== null && !qps.tryAdmit(nowMs)) {
    counters.fault('throttled');
    if ((throttle.style ?? flavour) === 'aliyun') {
      return aliyunGatewayReply(403, 'Throttled by USER Flow Control', requestNo);
    }
    return huaweiGatewayReply(
      429,
      'APIGW.0308',
      `The throttling threshold has been reached: policy user over ratelimit,limit:${throttle.qps},time:1 second`,
      requestNo,
    );
  }
  return undefined;
}

/** What the gateway answers for a path (or method) with no published API. */
export function gatewayNotFoundReply(flavour: GatewayFlavour, requestNo: string): DrawingReply {
  return flavour === 'aliyun'
    ? aliyunGatewayReply(404, 'Invalid Url', requestNo)
    : huaweiGatewayReply(
        404,
        'APIGW.0101',
        'The API does not exist or has not been published in the environment',
        requestNo,
      );
}
