import fs from 'node:fs';
import type { Config } from '../platform/config.js';
import type { System } from '../app.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import type { DataSourceInput, DataSourceSettings, Operation, RegistryType, AuthType } from '../modules/dci/data-sources/data-sources.service.js';
import { runCommand } from './users.js';

const cli = { actor: systemActor('cli') };

export interface DciSourceOptions {
  code: string;
  name?: string;
  type?: string;
  baseUrl?: string;
  path?: string[];
  auth?: string;
  clientId?: string;
  clientSecretFile?: string;
  bearerTokenFile?: string;
  ourSenderId?: string;
  receiverId?: string;
  jwksUrl?: string;
  callbackUrl?: string;
  createCallbackClient?: boolean;
  verifyTls?: boolean;
  timeoutMs?: number;
  active?: boolean;
  json?: boolean;
}

const secret = (file: string | undefined) => (file ? fs.readFileSync(file, 'utf8').trim() : undefined);

function settingsOf(options: DciSourceOptions): DataSourceSettings {
  const paths = options.path?.length ? Object.fromEntries(options.path.map((spec) => spec.split('=', 2) as [Operation, string])) : undefined;
  const values: DataSourceSettings = {
    name: options.name, registryType: options.type?.toUpperCase() as RegistryType | undefined, baseUrl: options.baseUrl, paths,
    authType: options.auth as AuthType | undefined, oauthClientId: options.clientId, clientSecret: secret(options.clientSecretFile), bearerToken: secret(options.bearerTokenFile),
    ourSenderId: options.ourSenderId, receiverId: options.receiverId, jwksUrl: options.jwksUrl, callbackUrl: options.callbackUrl,
    verifyTls: options.verifyTls, timeoutMs: options.timeoutMs, isActive: options.active,
  };
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as DataSourceSettings;
}

export async function dciSourceCreate(system: System, options: DciSourceOptions): Promise<string> {
  const view = await system.dciClients.sources.create(cli, { ...settingsOf(options), code: options.code, createCallbackClient: options.createCallbackClient } as DataSourceInput);
  const lines = [`Data source ${view.code} (${view.registryType}) at ${view.baseUrl}`];
  if (view.callbackClientSecret) lines.push(`Callback client for the registry: ${view.callbackClientId} / secret (shown once): ${view.callbackClientSecret}`);
  return lines.join('\n');
}

export async function dciSourceUpdate(system: System, options: DciSourceOptions): Promise<string> {
  const current = await system.dciClients.sources.get(options.code);
  const view = await system.dciClients.sources.update(cli, options.code, current.version, settingsOf(options));
  return `Data source ${view.code} updated (version ${view.version})`;
}

export async function dciSourceList(system: System, options: { json?: boolean }): Promise<string> {
  const sources = await system.dciClients.sources.list();
  if (options.json) return JSON.stringify(sources, null, 2);
  return sources.map((source) => `${source.code}\t${source.registryType}\t${source.baseUrl}\t${source.authType}\t${source.isActive ? 'active' : 'inactive'}\t${source.lastTestResult ? (source.lastTestResult.ok ? 'test ok' : `test failed: ${String(source.lastTestResult.failed)}`) : 'not tested'}`).join('\n') || '(no data sources)';
}

export async function dciSourceTest(system: System, options: { code: string }): Promise<string> {
  const report = await system.dciClients.test(options.code);
  const lines = report.steps.map((step) => `${step.ok ? 'ok  ' : 'FAIL'} ${step.step}: ${step.message}`);
  lines.push(report.ok ? 'Connection OK' : `Connection failed: ${report.failed}`);
  if (!report.ok) process.exitCode = 1;
  return lines.join('\n');
}

export const dciSourceCreateCommand = (config: Config, options: DciSourceOptions) => runCommand(config, (system) => dciSourceCreate(system, options));
export const dciSourceUpdateCommand = (config: Config, options: DciSourceOptions) => runCommand(config, (system) => dciSourceUpdate(system, options));
export const dciSourceListCommand = (config: Config, options: { json?: boolean }) => runCommand(config, (system) => dciSourceList(system, options));
export const dciSourceTestCommand = (config: Config, options: { code: string }) => runCommand(config, (system) => dciSourceTest(system, options));
