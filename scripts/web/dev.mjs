#!/usr/bin/env node
// `npm run dev`: the API in watch mode (port 8080, or PORT) and the web back office on Vite's dev
// server with hot reload (port 5173), which proxies API calls to the API. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const apiPort = process.env.PORT ?? '8080';
const children = [
  spawn('npx', ['tsx', 'watch', 'src/cli/main.ts', 'serve'], { cwd: root, stdio: 'inherit', env: { ...process.env, PORT: apiPort } }),
  spawn('npx', ['vite', '--config', 'web/vite.config.ts'], { cwd: root, stdio: 'inherit', env: { ...process.env, COMMONWEAL_API: `http://127.0.0.1:${apiPort}` } }),
];
const stop = () => { for (const child of children) child.kill('SIGTERM'); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of children) child.on('exit', (code) => { stop(); process.exitCode = code ?? 0; });
