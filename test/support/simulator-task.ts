import type { DrawingTask } from '@atelier/shared';
import type { DrawingSimulator } from '@atelier/simulator';

/**
 * Submits a task straight to a simulator started with auth `none` (no worker involved) and
 * returns its taskId and image URLs, for tests of what happens after a drawing is done.
 */
export async function simulatorTask(
  sim: DrawingSimulator,
  task: DrawingTask,
): Promise<{ taskId: string; urls: string[] }> {
  const response = await fetch(sim.submitUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      text: task.text,
      style: task.style,
      resolution: task.resolution,
      num: String(task.num),
    }).toString(),
  });
  const answer = (await response.json()) as { code: number; data?: { taskId?: string } };
  const taskId = answer.data?.taskId;
  if (answer.code !== 200 || taskId === undefined) {
    throw new Error(`the simulator did not accept the task: ${JSON.stringify(answer)}`);
  }
  const urls = Array.from({ length: task.num }, (_, i) => `${sim.url}/images/${taskId}/${i}.png`);
  return { taskId, urls };
}
