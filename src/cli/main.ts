import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, ConfigError } from '../platform/config.js';
import { serveCommand } from './serve.js';
import { migrateCommand } from './migrate.js';
import { seedCommand } from './seed.js';
import { clientCreateCommand, clientListCommand } from './client.js';
import { importCommand, type ImportCommandOptions } from './import.js';
import { auditExportCommand, auditSealCommand, auditVerifyCommand, type AuditExportOptions } from './audit.js';
import { userCreateCommand, userListCommand, userSetActiveCommand, userSetPasswordCommand, userSetRolesCommand, userUnlockCommand, type UserCreateOptions } from './users.js';
import { clientRotateSecretCommand, clientUpdateCommand, type ClientUpdateOptions } from './client-admin.js';
import { keysListCommand, keysRetireCommand, keysRotateCommand } from './keys.js';
import { keysReencryptCommand, keysRotateDataKeyCommand, keysRotateIndexKeyCommand, keysRotateKekCommand, type RotateKekOptions } from './data-keys.js';
import { exportCommand, type ExportCommandOptions } from './export.js';
import { dciPartnerCreateCommand, dciPartnerListCommand, dciPartnerUpdateCommand, type DciPartnerOptions } from './dci.js';
import { dciSourceCreateCommand, dciSourceListCommand, dciSourceTestCommand, dciSourceUpdateCommand, type DciSourceOptions } from './dci-sources.js';
import { simRegistryCommand, type DciSimOptions } from './dci-sim.js';
import { simPaymentsCommand } from './sim.js';

const positiveInteger = (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('must be a positive integer');
  return number;
};

const program = new Command('commonweal')
  .description('Commonweal social protection registry. Configuration comes from environment variables (see README).')
  .showHelpAfterError();

program.command('serve').description('Start the HTTP server and background workers (migrates; loads demo data into an empty registry)')
  .action(async () => serveCommand(loadConfig()));
program.command('migrate').description('Apply database migrations and install the system vocabularies')
  .action(async () => migrateCommand(loadConfig()));
program.command('seed').description('Generate deterministic demo households')
  .option('--households <n>', 'number of households', positiveInteger, 300)
  .option('--seed <s>', 'random seed (same seed, same data)', positiveInteger, 1)
  .action(async (options: { households: number; seed: number }) => seedCommand(loadConfig(), options));
program.command('export').description('Export every individual or group matching a search to CSV (same columns as POST /api/v2/$export)')
  .addOption(new Option('--resource <resource>', 'what to export').choices(['individual', 'group']).makeOptionMandatory())
  .requiredOption('--out <file>', 'file to write, or - for stdout')
  .option('--name <text>', 'name contains (case- and accent-insensitive)')
  .option('--area <code>', 'area code; matches its whole subtree')
  .option('--param <name=value>', 'any other search parameter, e.g. gender=2 or birthdate=ge2000-01-01 (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .action(async (options: ExportCommandOptions) => exportCommand(loadConfig(), options));

program.command('import').description('Import individuals and households from a CSV or XLSX file (resumable: run it again to continue)')
  .argument('<file>', 'the .csv or .xlsx file; its first row is the header')
  .option('--mapping <name>', 'a saved import mapping')
  .option('--mapping-file <file>', 'a mapping document (JSON): {"columns": {"<header>": "<field>"}, "defaults": {}, "options": {}}')
  .option('--save-mapping <name>', 'save the --mapping-file under this name for later imports')
  .option('--format <format>', 'csv or xlsx (default: from the file name)', (value: string) => {
    if (value !== 'csv' && value !== 'xlsx') throw new InvalidArgumentError('must be csv or xlsx');
    return value;
  })
  .option('--batch-size <n>', 'rows per transaction', positiveInteger, 1000)
  .option('--report <file>', 'write the rejected rows (row, column, value, reason) to this CSV file')
  .action(async (file: string, options: ImportCommandOptions) => importCommand(loadConfig(), file, options));

const client = program.command('client').description('Manage API clients (OAuth 2.0 client credentials)');
client.command('create').description('Create an API client and print its id and one-time secret')
  .requiredOption('--name <name>', 'a name people recognise, e.g. "Ministry dashboard"')
  .requiredOption('--scopes <scopes>', 'space- or comma-separated resource:action scopes, e.g. "individual:read group:read"')
  .option('--json', 'print JSON for scripts')
  .action(async (options: { name: string; scopes: string; json?: boolean }) => clientCreateCommand(loadConfig(), options));
client.command('list').description('List API clients').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => clientListCommand(loadConfig(), options));
client.command('rotate-secret').description('Issue a new client secret (printed once); the previous one keeps working for a grace period')
  .requiredOption('--client-id <id>', 'the client')
  .option('--grace-seconds <n>', 'how long the previous secret keeps working (0 = not at all)', (value: string) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('must be a whole number of seconds');
    return number;
  }, 86400)
  .option('--json', 'print JSON for scripts')
  .action(async (options: { clientId: string; graceSeconds: number; json?: boolean }) => clientRotateSecretCommand(loadConfig(), options));
client.command('update').description('Change the restrictions of an API client (only the options given change)')
  .requiredOption('--client-id <id>', 'the client')
  .option('--areas <codes>', 'comma-separated area codes the client is limited to ("" = everywhere)')
  .option('--legal-basis <basis>', 'consent, contract, legal-obligation, vital-interest, public-task or legitimate-interest')
  .option('--rate-limit <n>', 'requests per minute', positiveInteger)
  .option('--token-ttl <seconds>', 'lifetime of its access tokens (60 to 86400)', positiveInteger)
  .action(async (options: ClientUpdateOptions) => clientUpdateCommand(loadConfig(), options));

const collect = (value: string, previous: string[]) => [...previous, value];
const user = program.command('user').description('Manage staff accounts (sign-in with a password, roles from the permission matrix)');
user.command('create').description('Create a staff account; prints a generated password once unless --password-stdin')
  .requiredOption('--username <name>', 'login name (letters, digits, . _ -)')
  .requiredOption('--name <name>', 'display name')
  .option('--email <email>', 'email address')
  .option('--role <role>', 'ROLE or ROLE@AREA,AREA (repeatable), e.g. --role registrar@DM01', collect, [] as string[])
  .option('--password-stdin', 'read the password from standard input')
  .option('--json', 'print JSON for scripts')
  .action(async (options: UserCreateOptions) => userCreateCommand(loadConfig(), options));
user.command('list').description('List staff accounts with their roles').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => userListCommand(loadConfig(), options));
user.command('set-roles').description('Replace every role of a user (no --role = no roles)')
  .requiredOption('--username <name>', 'the user')
  .option('--role <role>', 'ROLE or ROLE@AREA,AREA (repeatable)', collect, [] as string[])
  .action(async (options: { username: string; role: string[] }) => userSetRolesCommand(loadConfig(), options));
user.command('deactivate').description('Deactivate a user (no sign-in, sessions ended); the last active administrator is refused').requiredOption('--username <name>', 'the user')
  .action(async (options: { username: string }) => userSetActiveCommand(loadConfig(), { ...options, active: false }));
user.command('activate').description('Reactivate a deactivated user').requiredOption('--username <name>', 'the user')
  .action(async (options: { username: string }) => userSetActiveCommand(loadConfig(), { ...options, active: true }));
user.command('unlock').description('Lift a lockout after failed sign-ins').requiredOption('--username <name>', 'the user')
  .action(async (options: { username: string }) => userUnlockCommand(loadConfig(), options));
user.command('set-password').description('Set a new password (ends the user\'s sessions); prints a generated one unless --password-stdin')
  .requiredOption('--username <name>', 'the user')
  .option('--password-stdin', 'read the password from standard input')
  .action(async (options: { username: string; passwordStdin?: boolean }) => userSetPasswordCommand(loadConfig(), options));

const keys = program.command('keys').description('Keys that sign access tokens (published at /.well-known/jwks.json) and keys of encryption at rest');
keys.command('rotate').description('Add a new signing key; older keys keep verifying until retired').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => keysRotateCommand(loadConfig(), options));
keys.command('retire').description('Stop accepting tokens signed by a key (never the newest)').requiredOption('--kid <kid>', 'the key id')
  .action(async (options: { kid: string }) => keysRetireCommand(loadConfig(), options));
keys.command('list').description('List signing keys').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => keysListCommand(loadConfig(), options));
keys.command('rotate-data-key').description('Add a new data-encryption key: new values are encrypted with it, older ciphertexts stay readable').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => keysRotateDataKeyCommand(loadConfig(), options));
keys.command('reencrypt').description('Queue the background job rewriting every ciphertext (and any pre-encryption plaintext) under the newest data key')
  .option('--run', 'run the job in this process now instead of leaving it to a server')
  .option('--json', 'print JSON')
  .action(async (options: { run?: boolean; json?: boolean }) => keysReencryptCommand(loadConfig(), options));
keys.command('rotate-index-key').description('New blind-index key: lookups keep working while a background job recomputes every index, then the old key is retired')
  .option('--run', 'run the re-index job here and now (waits for other servers to pick up the key)').option('--json', 'print JSON')
  .action(async (options: { run?: boolean; json?: boolean }) => keysRotateIndexKeyCommand(loadConfig(), options));
keys.command('rotate-kek').description('Rewrap the data keys under a new key-encryption key (the data itself is not rewritten)')
  .requiredOption('--new-kek-file <file>', 'file holding the new KEK (base64 of 32 bytes)')
  .option('--generate', 'first write a new random KEK into that file (mode 0600; it must not exist)')
  .option('--json', 'print JSON')
  .action(async (options: RotateKekOptions) => keysRotateKekCommand(loadConfig(), options));

const dci = program.command('dci').description('DCI (SPDCI) interoperability');
const dciPartner = dci.command('partner').description('Onboarded DCI partners (senders); each is linked to an API client');
const partnerOptions = (command: Command) => command
  .option('--name <name>', 'a name people recognise')
  .option('--scopes <scopes>', 'scopes of its API client, e.g. "dci:search pii:reveal"')
  .option('--legal-basis <basis>', 'legal basis of its API client (consent, public-task, ...)')
  .option('--areas <codes>', 'comma-separated area codes its API client is limited to')
  .option('--rate-limit <n>', 'requests per minute', positiveInteger)
  .option('--signature-policy <policy>', 'required or optional')
  .option('--signature-strategy <strategy>', 'signature-string (Ed25519) or jws')
  .option('--public-key <kid=file>', 'a public key (PEM or JWK file) with its key id (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--jwks-url <url>', 'where its public keys are published ("" to clear)')
  .option('--callback-hosts <hosts>', 'comma-separated host[:port] our callbacks may go to')
  .option('--callback-token-url <url>', 'its token endpoint for our callbacks (client credentials)')
  .option('--callback-client-id <id>', 'our client id at the partner')
  .option('--callback-secret-file <file>', 'file holding our client secret at the partner')
  .option('--json', 'print JSON');
partnerOptions(dciPartner.command('create').description('Onboard a partner (creates its API client and prints the one-time secret, unless --client-id links one)')
  .requiredOption('--sender-id <id>', 'its sender_id, e.g. spmis.example.org')
  .option('--client-id <id>', 'link this existing API client'))
  .action(async (options: DciPartnerOptions) => dciPartnerCreateCommand(loadConfig(), options));
partnerOptions(dciPartner.command('update').description('Change a partner (only the options given change)')
  .requiredOption('--sender-id <id>', 'the partner')
  .option('--active <true|false>', 'activate or deactivate', (value: string) => {
    if (value !== 'true' && value !== 'false') throw new InvalidArgumentError('must be true or false');
    return value === 'true';
  }))
  .action(async (options: DciPartnerOptions) => dciPartnerUpdateCommand(loadConfig(), options));
dciPartner.command('list').description('List partners').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => dciPartnerListCommand(loadConfig(), options));
const dciSource = dci.command('source').description('Data sources: external DCI registries we call (CRVS, IBR, DR, SR)');
const sourceOptions = (command: Command) => command
  .option('--name <name>', 'display name')
  .option('--type <type>', 'CRVS, IBR, DR or SR')
  .option('--base-url <url>', 'the registry base URL')
  .option('--path <operation=path...>', 'path overrides, e.g. sync_search=/crvs/sync/search')
  .option('--auth <type>', 'oauth2, bearer or none')
  .option('--client-id <id>', 'our OAuth client id at the registry')
  .option('--client-secret-file <file>', 'file holding our OAuth client secret')
  .option('--bearer-token-file <file>', 'file holding a static bearer token')
  .option('--our-sender-id <id>', 'our sender id')
  .option('--receiver-id <id>', "the registry's sender id")
  .option('--jwks-url <url>', "the registry's JWKS URL")
  .option('--callback-url <url>', 'our callback base URL, e.g. https://sr.example/dci/client')
  .option('--no-verify-tls', 'do not verify the TLS certificate (testing only)')
  .option('--timeout-ms <ms>', 'request timeout', positiveInteger);
sourceOptions(dciSource.command('create').description('Add a data source').requiredOption('--code <code>', 'lookup code, e.g. crvs_main')
  .option('--create-callback-client', 'create the API client the registry uses to call us back (prints its secret once)'))
  .action(async (options: DciSourceOptions) => dciSourceCreateCommand(loadConfig(), options));
sourceOptions(dciSource.command('update').description('Change a data source (only the options given change)').requiredOption('--code <code>', 'the data source')
  .option('--active', 'activate').option('--no-active', 'deactivate'))
  .action(async (options: DciSourceOptions) => dciSourceUpdateCommand(loadConfig(), options));
dciSource.command('list').description('List data sources').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => dciSourceListCommand(loadConfig(), options));
dciSource.command('test').description('Test the connection: DNS/TLS, auth, keys, a signed request').requiredOption('--code <code>', 'the data source')
  .action(async (options: { code: string }) => dciSourceTestCommand(loadConfig(), options));

const audit = program.command('audit').description('The tamper-evident audit log');
audit.command('verify').description('Recompute the hash chain: exit code 1 if an entry was edited or deleted').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => auditVerifyCommand(loadConfig(), options));
audit.command('seal').description('Seal pending entries into the chain now')
  .action(async () => auditSealCommand(loadConfig()));
audit.command('export').description('Every matching entry as CSV on standard output (restricted values appear as digests or masked, as logged)')
  .option('--from <date-time>', 'occurred at or after (ISO 8601)')
  .option('--to <date-time>', 'occurred before (ISO 8601)')
  .option('--actor <id>', 'client id or username of whoever acted')
  .option('--entity <id>', 'entity id (UUID or code)')
  .option('--entity-type <type>', 'entity type, e.g. individual, user, consent')
  .option('--registrant <uuid>', 'entries about this individual or group')
  .option('--action <action>', 'e.g. create, update, reveal')
  .action(async (options: AuditExportOptions) => auditExportCommand(loadConfig(), options));

const sim = program.command('sim').description('Simulated partner systems for development and tests');
sim.command('payments').description('A disbursement API for the HTTP payment provider: accepts, delays, fails some payments, reports their status')
  .option('--port <port>', 'Port to listen on', positiveInteger, 4010)
  .option('--host <host>', 'Address to listen on', '127.0.0.1')
  .option('--delay-ms <ms>', 'Time before a payment settles', (value) => Number(value), 2000)
  .option('--fail-rate <share>', 'Share of payments that fail (0 to 1)', (value) => Number(value), 0.1)
  .action(async (options: { port: number; host: string; delayMs: number; failRate: number }) => simPaymentsCommand(options));
for (const kind of ['crvs', 'ibr', 'dr'] as const) {
  sim.command(kind).description(`A reference DCI ${kind.toUpperCase()} registry with seeded data (OAuth, signatures, sync/async search, subscribe/notify)`)
    .option('--port <port>', 'Port to listen on', positiveInteger, { crvs: 4101, ibr: 4102, dr: 4103 }[kind])
    .option('--host <host>', 'Address to listen on', '127.0.0.1')
    .option('--client-id <id>', 'the OAuth client id it accepts', 'commonweal')
    .option('--client-secret-file <file>', 'file holding that client secret (default dev-secret)')
    .option('--sender-id <id>', "the client's DCI sender id", 'commonweal')
    .option('--client-jwks-url <url>', "the client's JWKS (verifies its signatures)", 'http://127.0.0.1:3000/dci/.well-known/jwks.json')
    .option('--callback-token-url <url>', 'token URL for callbacks to the client')
    .option('--callback-client-id <id>', 'client id for callbacks')
    .option('--callback-secret-file <file>', 'file holding the callback client secret')
    .action(async (options: DciSimOptions) => simRegistryCommand(kind, options));
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError || (error as { code?: string }).code === 'validation_failed' || (error as Error).name === 'AppError') {
    console.error(`commonweal: ${(error as Error).message}`);
    const fields = (error as { fields?: Array<{ path: string; message: string }> }).fields ?? [];
    for (const field of fields) console.error(`  ${field.path}: ${field.message}`);
    process.exit(2);
  }
  throw error;
}
