import { fork } from 'node:child_process';
import http from 'node:http';
import got from 'got';

const child = fork('/tmp/an/server.mjs');
const port = await new Promise((r) => child.once('message', r));
const url = new URL(`http://127.0.0.1:${port}/submit`);
const body = 'text=hello%20world&style=x&resolution=1024*1024&num=1';
const mk = (extra = {}) =>
  got.extend({
    agent: { http: new http.Agent({ keepAlive: true }) },
    http2: false,
    throwHttpErrors: false,
    retry: { limit: 0 },
    followRedirect: false,
    decompress: false,
    timeout: { request: 15000 },
    responseType: 'text',
    headers: { 'user-agent': 'a' },
    ...extra,
  });
const gA = mk();
const slim = (o) => {
  const r = {};
  for (const k in o) if (o[k] !== undefined) r[k] = o[k];
  return r;
};
const gB = mk({ request: (u, o, cb) => http.request(u, slim(o), cb) });
const gC = mk({ timeout: {} });
const gD = mk({ timeout: {}, request: (u, o, cb) => http.request(u, slim(o), cb) });
const withTimer = (p) => {
  const t = setTimeout(() => p.cancel(), 15000);
  return p.finally(() => clearTimeout(t));
};
const agentD = new http.Agent({ keepAlive: true });
const variants = {
  gotA: () =>
    gA
      .post(url, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      .then((r) => r.body),
  gotSlimRequest: () =>
    gB
      .post(url, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      .then((r) => r.body),
  gotNoTimeout: () =>
    gC
      .post(url, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      .then((r) => r.body),
  gotSlimTimer: () =>
    withTimer(
      gD.post(url, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ).then((r) => r.body),
  gotSlimTimerStr: () =>
    withTimer(
      gD.post(url.href, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ).then((r) => r.body),
  http: () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent: agentD,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'a',
          },
        },
        (res) => {
          let s = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (s += c));
          res.on('end', () => resolve(s));
        },
      );
      req.on('error', reject);
      req.end(body);
    }),
};
const N = 20000;
async function run(name, f) {
  let i = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (i++ < N) await f();
    }),
  );
  const cpu = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  console.log(
    name.padEnd(16),
    ((N / ms) * 1000).toFixed(0).padStart(6),
    'req/s',
    ((cpu.user + cpu.system) / N).toFixed(1).padStart(6),
    'µs cpu/req',
  );
}
const only = process.env.ONLY;
for (let round = 0; round < 2; round++)
  for (const [k, f] of Object.entries(variants)) if (!only || only === k) await run(k, f);
child.kill();
