import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, ConfigError } from '../platform/config.js';
import { serveCommand } from './serve.js';
import { migrateCommand } from './migrate.js';
import { seedCommand } from './seed.js';
import { clientCreateCommand, clientListCommand } from './client.js';
import { auditSealCommand, auditVerifyCommand } from './audit.js';
import { exportCommand, type ExportCommandOptions } from './export.js';

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

const client = program.command('client').description('Manage API clients (OAuth 2.0 client credentials)');
client.command('create').description('Create an API client and print its id and one-time secret')
  .requiredOption('--name <name>', 'a name people recognise, e.g. "Ministry dashboard"')
  .requiredOption('--scopes <scopes>', 'space- or comma-separated resource:action scopes, e.g. "individual:read group:read"')
  .option('--json', 'print JSON for scripts')
  .action(async (options: { name: string; scopes: string; json?: boolean }) => clientCreateCommand(loadConfig(), options));
client.command('list').description('List API clients').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => clientListCommand(loadConfig(), options));

const audit = program.command('audit').description('The tamper-evident audit log');
audit.command('verify').description('Recompute the hash chain: exit code 1 if an entry was edited or deleted').option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => auditVerifyCommand(loadConfig(), options));
audit.command('seal').description('Seal pending entries into the chain now')
  .action(async () => auditSealCommand(loadConfig()));

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
