import type { CmeFailure } from './cme-failure.ts';
import type { CmeLoginShape } from './cme-types.ts';

export interface LoginGrant {
  appId: number;
  platform: string;
  userId: string;
  ticket: string;
  tfUid: string;
}

/** The ticket-exchange success answer in the new (`Response`) or old (`Code`/`Data`) shape. */
export function loginSuccessBody(
  shape: CmeLoginShape,
  grant: LoginGrant,
  requestId: string,
): unknown {
  if (shape === 'old') {
    return {
      Code: 'Success',
      Message: '成功',
      EnglishMessage: 'OK',
      Data: {
        AppId: grant.appId,
        Platform: grant.platform,
        UserId: grant.userId,
        Authorization: grant.ticket,
      },
    };
  }
  return {
    Response: {
      AppId: grant.appId,
      Authorization: grant.ticket,
      Platform: grant.platform,
      RequestId: requestId,
      TfUid: grant.tfUid,
    },
  };
}

/** The ticket-exchange failure answer; the new shape carries the English message. */
export function loginFailureBody(
  shape: CmeLoginShape,
  failure: Pick<CmeFailure, 'code' | 'message' | 'englishMessage'>,
  requestId: string,
): unknown {
  if (shape === 'old') {
    return {
      Code: failure.code,
      Message: failure.message,
      EnglishMessage: failure.englishMessage,
    };
  }
  return {
    Response: {
      Error: { Code: failure.code, Message: failure.englishMessage },
      RequestId: requestId,
    },
  };
}
