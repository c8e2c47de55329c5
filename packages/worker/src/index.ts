export {
  type CallbackWorker,
  type CallbackWorkerOptions,
  startCallbackWorker,
} from './callbacks/callback-worker.ts';
export type { CallbackDeliveryInfo } from './callbacks/delivery-report.ts';
export { type CmeHttp, createCmeHttp } from './cme/cme-http.ts';
export { CmeOperationRunner, type CmeOperationRunnerOptions } from './cme/cme-operation-runner.ts';
export { CmeRateLimiter } from './cme/cme-rate-limiter.ts';
export type { CmeTicket } from './cme/cme-ticket.ts';
export { LoginClient } from './cme/login-client.ts';
export { type CmeCallEvent, PaasClient } from './cme/paas-client.ts';
export {
  type TicketRefreshEvent,
  TicketStore,
  type TicketStoreOptions,
} from './cme/ticket-store.ts';
export { combineObservers } from './combine-observers.ts';
export {
  DrawingClient,
  type DrawingClientOptions,
  type SubmitHooks,
} from './drawing/drawing-client.ts';
export type { DrawingProvider } from './drawing/drawing-processor.ts';
export {
  ImageArchiveError,
  type ImageArchiveFailure,
} from './images/image-archive-error.ts';
export { type ArchiveOptions, ImageArchiver, type ImageSource } from './images/image-archiver.ts';
export {
  type DownloadedImage,
  ImageDownloader,
  type ImageDownloaderOptions,
} from './images/image-downloader.ts';
export { sniffImageType } from './images/image-type.ts';
export { startMetricsServer } from './metrics/metrics-server.ts';
export {
  StatsRecorder,
  type StatsRecorderOptions,
  type StatsSink,
} from './metrics/stats-recorder.ts';
export { WorkerMetrics } from './metrics/worker-metrics.ts';
export { createBackoffStrategy } from './runtime/backoff.ts';
export type {
  DrawingFinishedEvent,
  DrawingPollEvent,
  ImageArchiveEvent,
  StepEvent,
  UnconfirmedSubmitEvent,
  WorkerObserver,
} from './worker-observer.ts';
export { AtelierWorker, type AtelierWorkerOptions } from './worker-process.ts';
