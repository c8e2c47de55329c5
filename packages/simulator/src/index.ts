export { SIMULATOR_DEFAULTS, simulatorOptionsFromEnv } from './bin/simulator-env.ts';
export type { CmeCountersSnapshot } from './cme/cme-counters.ts';
export type { CmeFaultAnswer, CmeScriptMatch } from './cme/cme-fault-answer.ts';
export type { CmeFaultSettings, CmeFaultSettingsPatch } from './cme/cme-fault-settings.ts';
export { CmeSimulator } from './cme/cme-simulator.ts';
export type { CmeSimulatorOptions } from './cme/cme-simulator-options.ts';
export type {
  CmeClassInfo,
  CmeClassSeed,
  CmeLoginShape,
  CmeMaterialInfo,
  CmeMaterialSeed,
  CmeMaterialType,
  CmeOwner,
  CmeOwnerType,
  CmeSeedData,
  CmeSeedResult,
  CmeTagInfo,
  CmeTranscodeStatus,
} from './cme/cme-types.ts';
export type { DrawingAnswer, DrawingScript } from './drawing/drawing-answer.ts';
export type { DrawingAuth } from './drawing/drawing-auth.ts';
export type { DrawingCounters, DrawingFaultKind } from './drawing/drawing-counter-set.ts';
export type {
  DrawingCodeRates,
  DrawingFaultCode,
  DrawingFaultPatch,
  DrawingFaults,
  DrawingImageFault,
  DrawingQuotaFault,
  GatewayFlavour,
} from './drawing/drawing-faults.ts';
export type { DrawingOperation } from './drawing/drawing-operation.ts';
export { DrawingProvider } from './drawing/drawing-provider.ts';
export { DrawingSimulator } from './drawing/drawing-simulator.ts';
export type { DrawingSimulatorOptions } from './drawing/drawing-simulator-options.ts';
export type { DrawingTaskSummary } from './drawing/drawing-task-calls.ts';
export type { DurationDistribution } from './drawing/duration-distribution.ts';
