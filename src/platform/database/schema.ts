// Every table of the system, gathered for drizzle-kit (migrations) and for the typed `Db`.
// Each module owns its tables file; nothing outside a module queries its tables directly.
export * from '../auth/signing-keys.tables.js';
export * from '../audit/audit.tables.js';
export * from '../jobs/jobs.tables.js';
export * from '../http/idempotency.tables.js';
export * from '../../modules/areas/areas.tables.js';
export * from '../../modules/vocabularies/vocabularies.tables.js';
export * from '../../modules/registry/registry.tables.js';
export * from '../../modules/api-clients/api-clients.tables.js';
export * from '../jobs/job-files.tables.js';
export * from '../../modules/bulk-data/bulk-data.tables.js';
export * from '../../modules/users/users.tables.js';
export * from '../../modules/consents/consents.tables.js';
export * from '../crypto/encryption-keys.tables.js';
export * from '../../modules/rules/rules.tables.js';
export * from '../../modules/dci/dci.tables.js';
export * from '../../modules/dci/transactions/dci-async.tables.js';
export * from '../../modules/programs/programs.tables.js';
export * from '../../modules/dci/data-sources/dci-client.tables.js';
