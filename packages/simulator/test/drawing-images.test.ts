import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type DrawingFaultPatch, DrawingProvider, DrawingSimulator } from '../src/index.ts';
import { json, postForm, TASK } from './drawing-http.ts';

let simulator: DrawingSimulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

async function start(): Promise<DrawingSimulator> {
  simulator = await DrawingSimulator.start({ duration: { kind: 'fixed', ms: 0 } });
  return simulator;
}

async function submit(sim: DrawingSimulator, fields: Record<string, string | number>) {
  const answer = json(await postForm(sim.submitUrl, fields));
  expect(answer.code).toBe(200);
  return answer.data.taskId as string;
}

async function download(url: string) {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    length: response.headers.get('content-length'),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Width, height and the decoded scanlines of an 8-bit RGB PNG (checks every chunk's layout). */
function decodePng(bytes: Buffer): { width: number; height: number; rows: Buffer } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]));
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.subarray(at + 4, at + 8).toString('latin1');
    const data = bytes.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    }
    if (type === 'IDAT') idat.push(data);
    if (type === 'IEND') break;
  }
  return { width, height, rows: inflateSync(Buffer.concat(idat)) };
}

describe('drawing simulator images', () => {
  it('serves a decodable PNG per image, the same bytes for the same request', async () => {
    const sim = await start();
    const first = await submit(sim, { ...TASK, num: 2 });
    const again = await submit(sim, { ...TASK, num: 2 });
    const other = await submit(sim, { ...TASK, text: 'a lighthouse at dusk', num: 1 });

    const a0 = await download(`${sim.url}/images/${first}/0.png`);
    const a1 = await download(`${sim.url}/images/${first}/1.png`);
    const b0 = await download(`${sim.url}/images/${again}/0.png`);
    const c0 = await download(`${sim.url}/images/${other}/0.png`);
    expect(a0).toMatchObject({ status: 200, type: 'image/png', length: String(a0.bytes.length) });
    const png = decodePng(a0.bytes);
    expect(png).toMatchObject({ width: 128, height: 128 });
    expect(png.rows.length).toBe(128 * (1 + 128 * 3));
    expect(sha256(b0.bytes)).toBe(sha256(a0.bytes));
    expect(sha256(a1.bytes)).not.toBe(sha256(a0.bytes));
    expect(sha256(c0.bytes)).not.toBe(sha256(a0.bytes));
    expect(sim.counters().imageDownloads).toBe(4);
  });

  it('serves an oversized image, chunked or with its length declared', async () => {
    const sim = await start();
    const taskId = await submit(sim, TASK);
    const url = `${sim.url}/images/${taskId}/0.png`;
    const normal = await download(url);

    sim.setFaults({ image: { kind: 'oversized', bytes: 300_000 } });
    const chunked = await download(url);
    expect(chunked).toMatchObject({ status: 200, type: 'image/png', length: null });
    expect(chunked.bytes.length).toBe(300_000);
    expect(chunked.bytes.subarray(0, normal.bytes.length)).toEqual(normal.bytes);

    sim.setFaults({ image: { kind: 'oversized', bytes: 200_000, declared: true } });
    expect(await download(url)).toMatchObject({ length: '200000' });
    expect(sim.counters().faults.image).toBe(2);
  });

  it('serves an HTML page for wrong-type, a bare status for http, first bytes only for stall', async () => {
    const sim = await start();
    const taskId = await submit(sim, TASK);
    const url = `${sim.url}/images/${taskId}/0.png`;
    const image = (await download(url)).bytes;
    sim.setFaults({ image: { kind: 'wrong-type' } });
    const page = await download(url);
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.bytes.toString()).toMatch(/^<!doctype html>/);

    sim.setFaults({ image: { kind: 'http', status: 503 } });
    expect(await download(url)).toMatchObject({ status: 503 });

    sim.setFaults({ image: { kind: 'stall' } });
    const stalled = await fetch(url);
    expect(stalled.headers.get('content-length')).toBe(String(image.length));
    const reader = stalled.body?.getReader();
    expect((await reader?.read())?.value).toEqual(new Uint8Array(image.subarray(0, 16)));
    await reader?.cancel();

    sim.setFaults({ image: null });
    expect(await download(url)).toMatchObject({ status: 200, type: 'image/png' });
  });

  it('refuses an image fault it does not know, naming the field', () => {
    const provider = new DrawingProvider();
    // Fault patches arrive as JSON from the admin endpoint: wrong shapes are the point here.
    const set = (image: unknown) => provider.setFaults({ image } as DrawingFaultPatch);
    expect(() => set({ kind: 'huge' })).toThrow(/faults\.image\.kind/);
    expect(() => set({ kind: 'oversized', bytes: 0 })).toThrow(/faults\.image\.bytes/);
    expect(() => set({ kind: 'http', status: 99 })).toThrow(/faults\.image\.status/);
    expect(provider.faults().image).toBeNull();
  });

  it('sets the image fault through the admin endpoint', async () => {
    const sim = await start();
    const response = await fetch(`${sim.url}/__admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ image: { kind: 'wrong-type' } }),
    });
    expect(response.status).toBe(200);
    expect(sim.faults().image).toEqual({ kind: 'wrong-type' });
  });

  it('answers 404 for an image the task does not have', async () => {
    const sim = await start();
    const taskId = await submit(sim, TASK);
    expect((await download(`${sim.url}/images/${taskId}/1.png`)).status).toBe(404);
    expect((await download(`${sim.url}/images/9${taskId}/0.png`)).status).toBe(404);
    expect(sim.counters().imageDownloads).toBe(0);
  });
});
