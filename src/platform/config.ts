import path from 'node:path';
import { bool, cleanEnv, makeValidator, num, port, str, url } from 'envalid';

/**
 * The one place where the process reads its environment. Every variable is typed, documented in
 * README.md ("Configuration") and validated at start: a bad value stops the process, naming it.
 */
const postgresUrl = makeValidator<string>((value) => {
  if (!/^postgres(ql)?:\/\//.test(value)) throw new Error('must be a postgres:// or postgresql:// URL');
  return value;
});

export interface Config {
  port: number;
  host: string;
  /** Public base URL used in links (next pages, token issuer). */
  publicUrl: string;
  /** Set: run on this PostgreSQL server. Unset: run on the embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  databasePoolSize: number;
  logLevel: string;
  accessTokenTtlSeconds: number;
  /** Load the demo dataset on first start (empty registry). */
  seedDemoData: boolean;
  demoHouseholds: number;
  jobWorkers: number;
  jobPollIntervalMs: number;
  jobLeaseSeconds: number;
  shutdownGraceMs: number;
  rateLimitPerMinute: number;
  /** ISO 3166-1 alpha-2 region for phone numbers written without +country code. */
  defaultPhoneRegion: string | undefined;
  /** Base URL of the disbursement API of the HTTP payment provider (e.g. `commonweal sim payments`); unset = provider off. */
  paymentsHttpUrl: string | undefined;
  /** Key-encryption key (base64 of 32 bytes) wrapping the data keys; see platform/crypto/key-provider.ts. */
  encryptionKek: string | undefined;
  /** A file holding the KEK (base64). Neither set: DATA_DIR/kek.key, generated on first start. */
  encryptionKekFile: string | undefined;
  /** DCI (SPDCI) registry API: where it is mounted, our sender id in DCI messages, and its limits. */
  dci: {
    prefix: string;
    senderId: string;
    /** How far message_ts may be from our clock, either way (seconds). */
    messageWindowSeconds: number;
    /** Most requests in one message (header.total_count). */
    maxBatchSize: number;
  };
  /** DCI callbacks and notifications: retries, lifetimes, and hosts allowed to resolve to internal addresses. */
  dciCallbacks: {
    ttlSeconds: number;
    notifyTtlSeconds: number;
    retryBaseMs: number;
    retryMaxMs: number;
    timeoutMs: number;
    pollIntervalMs: number;
    privateNetworkHosts: string[];
  };
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (DATABASE_URL= ) means "not set", as operators expect from shell and compose files.
  const given = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ''));
  const env = cleanEnv(
    given,
    {
      PORT: port({ default: 8080, desc: 'HTTP port' }),
      HOST: str({ default: '0.0.0.0', desc: 'Interface to listen on' }),
      PUBLIC_URL: url({ default: '', desc: 'Public base URL (default http://localhost:PORT)' }),
      DATABASE_URL: postgresUrl({ default: undefined, desc: 'PostgreSQL URL; unset = embedded PGlite' }),
      DATA_DIR: str({ default: './.data', desc: 'Where the embedded database is stored' }),
      DATABASE_POOL_SIZE: num({ default: 10, desc: 'Connections to PostgreSQL' }),
      LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
      ACCESS_TOKEN_TTL_SECONDS: num({ default: 3600, desc: 'Lifetime of issued access tokens' }),
      SEED_DEMO_DATA: bool({ default: true, desc: 'Load demo data when the registry is empty' }),
      DEMO_HOUSEHOLDS: num({ default: 300, desc: 'Households in the demo dataset' }),
      JOB_WORKERS: num({ default: 2, desc: 'Concurrent background jobs per process (0 = none)' }),
      JOB_POLL_INTERVAL_MS: num({ default: 500, desc: 'How often idle workers look for jobs' }),
      JOB_LEASE_SECONDS: num({ default: 60, desc: 'A job not heartbeated for this long is taken over' }),
      DEFAULT_PHONE_REGION: str({ default: undefined, desc: 'Region (e.g. PH) for phone numbers without a country code' }),
      PAYMENTS_HTTP_URL: str({ default: undefined, desc: 'Disbursement API of the HTTP payment provider (unset: the provider is off)' }),
      RATE_LIMIT_PER_MINUTE: num({ default: 1200, desc: 'Requests per minute per client or user, per server process, unless the client has its own limit (0 = no limit)' }),
      SHUTDOWN_GRACE_MS: num({ default: 10000, desc: 'Time for in-flight work on shutdown' }),
      ENCRYPTION_KEK: str({ default: undefined, desc: 'Key-encryption key, base64 of 32 random bytes' }),
      ENCRYPTION_KEK_FILE: str({ default: undefined, desc: 'File holding the key-encryption key (base64)' }),
      DCI_PREFIX: str({ default: '/dci', desc: 'Path prefix of the DCI registry API (e.g. /dci → /dci/registry/sync/search)' }),
      DCI_SENDER_ID: str({ default: '', desc: 'Our sender_id in DCI messages (default: the host of PUBLIC_URL)' }),
      DCI_MESSAGE_WINDOW_SECONDS: num({ default: 300, desc: 'Accepted distance of a DCI message_ts from our clock' }),
      DCI_MAX_BATCH_SIZE: num({ default: 100, desc: 'Most requests in one DCI message' }),
      DCI_CALLBACK_TTL_SECONDS: num({ default: 86400, desc: 'How long a DCI callback is retried before it expires' }),
      DCI_NOTIFY_TTL_SECONDS: num({ default: 86400, desc: 'How long a DCI notification is retried (never past the subscription end)' }),
      DCI_CALLBACK_RETRY_BASE_MS: num({ default: 1000, desc: 'First retry delay of a DCI callback (doubles each time)' }),
      DCI_CALLBACK_RETRY_MAX_MS: num({ default: 300000, desc: 'Longest delay between DCI callback retries' }),
      DCI_CALLBACK_TIMEOUT_MS: num({ default: 10000, desc: 'Time a partner has to answer one DCI callback' }),
      DCI_CALLBACK_POLL_MS: num({ default: 500, desc: 'How often the DCI callback dispatcher and event relay look for work' }),
      DCI_CALLBACK_PRIVATE_HOSTS: str({ default: '', desc: 'Comma-separated callback host names allowed to resolve to internal addresses' }),
    },
    {
      reporter: ({ errors }) => {
        const names = Object.keys(errors);
        if (names.length === 0) return;
        const details = names.map((name) => `${name}: ${(errors as Record<string, Error | undefined>)[name]?.message ?? 'invalid'}`).join('; ');
        throw new ConfigError(`Invalid configuration: ${details}`);
      },
    },
  );
  if (env.DEFAULT_PHONE_REGION !== undefined && !/^[A-Z]{2}$/.test(env.DEFAULT_PHONE_REGION)) {
    throw new ConfigError('Invalid configuration: DEFAULT_PHONE_REGION: must be an ISO 3166-1 alpha-2 code such as PH');
  }
  if (env.ENCRYPTION_KEK !== undefined && env.ENCRYPTION_KEK_FILE !== undefined) {
    throw new ConfigError('Invalid configuration: ENCRYPTION_KEK and ENCRYPTION_KEK_FILE are both set: give the key-encryption key one way');
  }
  if (env.ENCRYPTION_KEK !== undefined && !isBase64Key(env.ENCRYPTION_KEK)) {
    throw new ConfigError('Invalid configuration: ENCRYPTION_KEK: must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)');
  }
  const integers: Array<[string, number, number]> = [
    ['JOB_WORKERS', env.JOB_WORKERS, 0],
    ['DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 1],
    ['DEMO_HOUSEHOLDS', env.DEMO_HOUSEHOLDS, 1],
    ['JOB_POLL_INTERVAL_MS', env.JOB_POLL_INTERVAL_MS, 1],
    ['JOB_LEASE_SECONDS', env.JOB_LEASE_SECONDS, 1],
    ['ACCESS_TOKEN_TTL_SECONDS', env.ACCESS_TOKEN_TTL_SECONDS, 1],
    ['SHUTDOWN_GRACE_MS', env.SHUTDOWN_GRACE_MS, 0],
    ['RATE_LIMIT_PER_MINUTE', env.RATE_LIMIT_PER_MINUTE, 0],
    ['DCI_MESSAGE_WINDOW_SECONDS', env.DCI_MESSAGE_WINDOW_SECONDS, 1],
    ['DCI_MAX_BATCH_SIZE', env.DCI_MAX_BATCH_SIZE, 1],
    ['DCI_CALLBACK_TTL_SECONDS', env.DCI_CALLBACK_TTL_SECONDS, 1],
    ['DCI_NOTIFY_TTL_SECONDS', env.DCI_NOTIFY_TTL_SECONDS, 1],
    ['DCI_CALLBACK_RETRY_BASE_MS', env.DCI_CALLBACK_RETRY_BASE_MS, 1],
    ['DCI_CALLBACK_RETRY_MAX_MS', env.DCI_CALLBACK_RETRY_MAX_MS, 1],
    ['DCI_CALLBACK_TIMEOUT_MS', env.DCI_CALLBACK_TIMEOUT_MS, 1],
    ['DCI_CALLBACK_POLL_MS', env.DCI_CALLBACK_POLL_MS, 10],
  ];
  for (const [name, value, minimum] of integers) {
    if (!Number.isInteger(value) || value < minimum) throw new ConfigError(`Invalid configuration: ${name}: must be an integer of at least ${minimum}`);
  }
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(env.DCI_PREFIX) && env.DCI_PREFIX !== '') {
    throw new ConfigError('Invalid configuration: DCI_PREFIX: must be a path such as /dci (or empty for the root)');
  }
  const publicUrl = (env.PUBLIC_URL || `http://localhost:${env.PORT}`).replace(/\/$/, '');
  return {
    port: env.PORT,
    host: env.HOST,
    publicUrl: (env.PUBLIC_URL || `http://localhost:${env.PORT}`).replace(/\/$/, ''),
    databaseUrl: env.DATABASE_URL,
    dataDir: path.resolve(env.DATA_DIR),
    databasePoolSize: env.DATABASE_POOL_SIZE,
    logLevel: env.LOG_LEVEL,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    seedDemoData: env.SEED_DEMO_DATA,
    demoHouseholds: env.DEMO_HOUSEHOLDS,
    jobWorkers: env.JOB_WORKERS,
    jobPollIntervalMs: env.JOB_POLL_INTERVAL_MS,
    jobLeaseSeconds: env.JOB_LEASE_SECONDS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    defaultPhoneRegion: env.DEFAULT_PHONE_REGION,
    paymentsHttpUrl: env.PAYMENTS_HTTP_URL || undefined,
    encryptionKek: env.ENCRYPTION_KEK,
    encryptionKekFile: env.ENCRYPTION_KEK_FILE === undefined ? undefined : path.resolve(env.ENCRYPTION_KEK_FILE),
    dci: {
      prefix: env.DCI_PREFIX,
      senderId: env.DCI_SENDER_ID || new URL(publicUrl).host,
      messageWindowSeconds: env.DCI_MESSAGE_WINDOW_SECONDS,
      maxBatchSize: env.DCI_MAX_BATCH_SIZE,
    },
    dciCallbacks: {
      ttlSeconds: env.DCI_CALLBACK_TTL_SECONDS,
      notifyTtlSeconds: env.DCI_NOTIFY_TTL_SECONDS,
      retryBaseMs: env.DCI_CALLBACK_RETRY_BASE_MS,
      retryMaxMs: env.DCI_CALLBACK_RETRY_MAX_MS,
      timeoutMs: env.DCI_CALLBACK_TIMEOUT_MS,
      pollIntervalMs: env.DCI_CALLBACK_POLL_MS,
      privateNetworkHosts: env.DCI_CALLBACK_PRIVATE_HOSTS.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean),
    },
  };
}

/** 32 bytes in base64 (standard or URL-safe), as a key-encryption key is given. */
function isBase64Key(value: string): boolean {
  const trimmed = value.trim();
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) && Buffer.from(trimmed, /[-_]/.test(trimmed) ? 'base64url' : 'base64').length === 32;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}
