import type { CmeCounters } from './cme-counters.ts';
import type { ResolvedCmeSimulatorOptions } from './cme-simulator-options.ts';
import type { CmeLoginShape } from './cme-types.ts';
import type { FaultInjector } from './fault-injector.ts';
import type { MaterialStore } from './material-store.ts';
import type { TicketRegistry } from './ticket-registry.ts';

/** The state one simulator instance shares with its request handlers. */
export interface CmeContext {
  readonly options: ResolvedCmeSimulatorOptions;
  readonly store: MaterialStore;
  readonly tickets: TicketRegistry;
  readonly counters: CmeCounters;
  /** Aborted by `close()`: ends pending delays. */
  readonly signal: AbortSignal;
  faults: FaultInjector;
  loginShape: CmeLoginShape;
}
