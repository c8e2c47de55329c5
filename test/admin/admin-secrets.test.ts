import { defaultJobOptions, QUEUE_NAMES } from '@atelier/shared';
import { DeadLetterStore } from '@atelier/store';
import { Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisTestContext } from '../support/redis-context.ts';
import { waitFor } from '../support/wait-for.ts';
import { startAdmin } from './admin-harness.ts';

const ctx = new RedisTestContext();
afterEach(() => ctx.cleanup());

/** Every one of these must stay out of every dashboard answer. */
const SECRETS = {
  callbackToken: 'cbtok-9f8e7d6c5b4a',
  bearer: 'bearer-5e6f7a8b9c0d',
  appCode: 'appcode-1a2b3c4d5e6f',
  appSecret: 'appsecret-0a9b8c7d',
  signature: 'sig-77aa66bb55cc',
  ticket: 'ticket-4d4d4d4d4d',
  urlPassword: 'urlpass-3c3c3c3c',
  logToken: 'logtok-2b2b2b2b',
  reasonToken: 'reasontok-1a1a1a1a',
};

function expectNoSecret(body: string, where: string): void {
  for (const [name, value] of Object.entries(SECRETS)) {
    expect(body.includes(value), `${name} leaked in ${where}`).toBe(false);
  }
}

describe('secrets never reach the dashboard', () => {
  it('bull-board job lists, job details, failed reasons and logs are masked', async () => {
    const admin = await startAdmin(ctx);
    const callbackUrl = `https://hooks.example.com/done?token=${SECRETS.callbackToken}&x=1`;
    const { id } = await admin.producer.enqueueDrawing({
      text: 'a cat',
      style: '油画',
      resolution: '1024*1024',
      callbackUrl,
    });
    // A job carrying secrets in every shape the formatter must catch, at any depth (off-schema
    // data: a variable, so no excess-property check).
    const offSchema = {
      kind: 'drawing' as const,
      task: { text: 'raw', style: '油画', resolution: '1024*1024', num: 1 },
      meta: {
        enqueuedAt: Date.now(),
        callbackUrl: `https://u:${SECRETS.urlPassword}@h.example/x`,
      },
      debug: {
        headers: { Authorization: `Bearer ${SECRETS.bearer}`, 'X-Apig-AppCode': SECRETS.appCode },
        deeper: [
          {
            appSecret: SECRETS.appSecret,
            note: `see https://x.example/?signature=${SECRETS.signature}`,
          },
        ],
        ticket: SECRETS.ticket,
      },
    };
    const raw = await admin.drawingQueue.add('drawing', offSchema, {
      ...defaultJobOptions('drawing'),
      jobId: 'dr_raw-secrets',
    });

    // A failed job whose reason, stack and logs carry secrets (callbacks queue).
    const connection = ctx.connection();
    const callbacks = new Queue(QUEUE_NAMES.callbacks, { connection, prefix: admin.prefix });
    const worker = new Worker(
      QUEUE_NAMES.callbacks,
      async (job) => {
        await job.log(`calling https://hooks.example.com/?token=${SECRETS.logToken}`);
        throw new Error(`refused by https://hooks.example.com/?token=${SECRETS.reasonToken}`);
      },
      { connection: ctx.connection(), prefix: admin.prefix },
    );
    ctx.onCleanup(async () => {
      await worker.close();
      await callbacks.close();
    });
    const failing = await callbacks.add(
      'job.completed',
      { url: callbackUrl, event: 'job.completed', body: { id } },
      { attempts: 1, jobId: 'cb_1' },
    );
    await waitFor(async () => (await callbacks.getJob('cb_1'))?.isFailed(), {
      what: 'cb_1 failed',
    });

    const session = await admin.login();
    const answers: Array<[string, string]> = [];
    for (const url of [
      '/admin/queues/api/queues?activeQueue=drawing&status=latest&page=1&jobsPerPage=50',
      '/admin/queues/api/queues?activeQueue=drawing&status=waiting&page=1&jobsPerPage=50',
      `/admin/queues/api/queues/drawing/${id}`,
      `/admin/queues/api/queues/drawing/${raw.id}`,
      '/admin/queues/api/queues?activeQueue=callbacks&status=failed&page=1&jobsPerPage=50',
      `/admin/queues/api/queues/callbacks/${failing.id}`,
      `/admin/queues/api/queues/callbacks/${failing.id}/logs`,
      `/admin/jobs/${id}`,
      '/admin',
    ]) {
      const res = await session.get(url);
      expect(res.statusCode, url).toBe(200);
      answers.push([url, res.body]);
      expectNoSecret(res.body, url);
    }
    const byUrl = new Map(answers);
    const drawingJob = JSON.parse(byUrl.get(`/admin/queues/api/queues/drawing/${id}`) as string);
    expect(drawingJob.job.data.meta.callbackUrl).toBe('https://hooks.example.com/done?[redacted]');
    expect(drawingJob.job.data.task.text).toBe('a cat');
    const rawJob = JSON.parse(byUrl.get(`/admin/queues/api/queues/drawing/${raw.id}`) as string);
    expect(rawJob.job.data.debug.headers).toEqual({
      Authorization: '[redacted]',
      'X-Apig-AppCode': '[redacted]',
    });
    expect(rawJob.job.data.debug.deeper[0].appSecret).toBe('[redacted]');
    expect(rawJob.job.data.meta.callbackUrl).toBe('https://[redacted]@h.example/x');
    const failedJob = JSON.parse(
      byUrl.get(`/admin/queues/api/queues/callbacks/${failing.id}`) as string,
    );
    expect(failedJob.job.failedReason).toContain('token=[redacted]');
    const logs = byUrl.get(`/admin/queues/api/queues/callbacks/${failing.id}/logs`) as string;
    expect(logs).toContain('token=[redacted]');
  });

  it('dead-letter list, detail and overview pages are masked', async () => {
    const admin = await startAdmin(ctx);
    const store = new DeadLetterStore(admin.redis, admin.prefix);
    const id = 'cme_secret-dl';
    await store.insert({
      id,
      queue: 'cme',
      kind: 'cme',
      code: 'AuthFailure.SignatureFailure',
      message: `login refused at https://open.cme.example/?signature=${SECRETS.signature}`,
      providerMessage: `bad ticket=${SECRETS.ticket}`,
      attempts: 2,
      history: [
        {
          attempt: 1,
          at: Date.now() - 1000,
          code: 'AUTH',
          message: `retry ?token=${SECRETS.reasonToken}`,
        },
        { attempt: 2, at: Date.now(), code: 'AuthFailure.SignatureFailure', message: 'no' },
      ],
      request: {
        userId: 'user_001',
        action: 'Material/DeleteMaterial',
        params: {
          MaterialId: 'mat-1',
          Authorization: SECRETS.bearer,
          nested: { secretKey: SECRETS.appSecret },
        },
      },
      meta: {
        enqueuedAt: Date.now(),
        callbackUrl: `https://hooks.example.com/cb?token=${SECRETS.callbackToken}`,
      },
      failedAt: Date.now(),
    });
    const session = await admin.login();
    for (const url of [`/admin/dead-letters/${id}`, '/admin/dead-letters', '/admin']) {
      const res = await session.get(url);
      expect(res.statusCode, url).toBe(200);
      expectNoSecret(res.body, url);
      expect(res.body).toContain('AuthFailure.SignatureFailure');
    }
    const detail = (await session.get(`/admin/dead-letters/${id}`)).body;
    expect(detail).toContain('https://hooks.example.com/cb?[redacted]');
    expect(detail).toContain('&quot;Authorization&quot;: &quot;[redacted]&quot;');
    expect(detail).toContain('&quot;MaterialId&quot;: &quot;mat-1&quot;');
  });
});
