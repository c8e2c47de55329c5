/**
 * `pnpm --filter @atelier/simulator start`: both provider fakes on their own ports.
 * Prints one JSON line with their endpoints, then serves until SIGTERM/SIGINT.
 * Environment: SIMULATOR_HOST, SIMULATOR_DRAWING_PORT (4010), SIMULATOR_CME_PORT (4020),
 * SIMULATOR_DRAWING_AUTH_MODE (none), SIMULATOR_DRAWING_DURATION_MS (default: realistic
 * distribution), DRAWING_APP_KEY/SECRET/CODE and CME_SECRET_ID/KEY/PLATFORM (the credentials
 * it accepts; defaults in simulator-env.ts).
 */
import { CmeSimulator } from '../cme/cme-simulator.ts';
import { DrawingSimulator } from '../drawing/drawing-simulator.ts';
import { simulatorOptionsFromEnv } from './simulator-env.ts';

const options = simulatorOptionsFromEnv(process.env);
const drawing = await DrawingSimulator.start(options.drawing);
const cme = await CmeSimulator.start(options.cme);
process.stdout.write(
  `${JSON.stringify({
    simulator: 'ready',
    drawing: { baseUrl: drawing.url, submitPath: drawing.submitPath, queryPath: drawing.queryPath },
    cme: { loginUrl: cme.loginUrl, apiBaseUrl: cme.apiBaseUrl, platform: options.cme.platform },
  })}\n`,
);

const stop = () => {
  Promise.all([drawing.close(), cme.close()]).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
