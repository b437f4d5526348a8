/**
 * The library API for other Node services: enqueue deletions (and the pieces a service may want
 * to reuse: the job contract, the signed DCS client, the signer, the typed errors).
 */
export { createProducer, buildJobOptions } from './queue/producer.js';
export type {
  Producer,
  ProducerOptions,
  EnqueueLabels,
  EnqueueManyOptions,
  EnqueueSummary,
  EnqueuedJob,
} from './queue/producer.js';
export {
  QUEUE_NAME,
  DEAD_LETTER_QUEUE_NAME,
  JOB_NAME,
  JOB_SCHEMA_VERSION,
  accountQueueName,
  JOB_PRIORITIES,
  buildJobId,
  parseTaskInput,
  parseJobData,
} from './queue/job-contract.js';
export type { TaskInput, DeleteJobData, DeleteJobResult, JobPriority } from './queue/job-contract.js';
export { createAccountRegistry } from './accounts/account-registry.js';
export type { Account, AccountRegistry } from './accounts/account-registry.js';
export { loadAccountsSettings, parseAccountsFile } from './config/accounts-file.js';
export type { AccountSettings, AccountsSettings } from './config/accounts-file.js';
export { createDcsClient } from './dcs/dcs-client.js';
export type { DcsClient, DcsClientOptions, AttemptOutcome, DcsTask, DcsInstance } from './dcs/dcs-client.js';
export { classifyAttempt, ACTIONS } from './dcs/classify.js';
export type { Action, Verdict } from './dcs/classify.js';
export { signRequest } from './huawei/signer.js';
export { Credentials } from './huawei/credentials.js';
export {
  createRefreshingCredentialProvider,
  createStaticCredentialProvider,
} from './huawei/credential-provider.js';
export type { CredentialProvider, IssuedCredentials } from './huawei/credential-provider.js';
export { createCredentialProvider } from './dcs/credential-sources/create-credential-provider.js';
export type { CredentialSourceSettings } from './config/credential-settings.js';
export { CleanupError, ERROR_CODES, isCleanupError } from './errors.js';
export type { ErrorCode } from './errors.js';
