/** The shape of one dead letter, as stored (the data of a job in the `dcs-cleanup-dead` queue). */

export const DEAD_LETTER_REASONS = [
  'rejected',
  'retries_exhausted',
  'invalid_job',
  'requeue_limit',
  'stalled',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface AttemptRecord {
  at: string;
  action: string;
  http_status: number | null;
  error_code: string | null;
  request_id: string | null;
  duration_ms: number;
  network_error?: string;
}

export interface DeadLetterRecord {
  job_id: string;
  /** The original payload (for `invalid_job`, as found, cut to 4 KiB of JSON). */
  job_data: unknown;
  reason: DeadLetterReason;
  http_status: number | null;
  error_code: string | null;
  error_msg: string | null;
  request_id: string | null;
  attempts: number;
  history: AttemptRecord[];
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  worker_host: string;
  dead_lettered_at: string;
}

export interface DeadLetterEntry extends DeadLetterRecord {
  id: string;
}

export interface DeadLetterFilter {
  reason?: string;
  errorCode?: string;
}

/** One page of a listing; `next` resumes it where it stopped (absent when nothing is left). */
export interface DeadLetterPage {
  entries: DeadLetterEntry[];
  next?: number;
}
