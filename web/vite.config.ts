/// <reference types="vitest/config" />
import path from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The web back office: sources in web/src, built to web/dist (served at / by src/modules/web/web.routes.ts).
// `npm run dev` serves it with hot reload and proxies the API to COMMONWEAL_API (default :8080).
const api = process.env.COMMONWEAL_API ?? 'http://127.0.0.1:8080';
const proxied = ['/api', '/auth', '/oauth2', '/docs', '/health', '/.well-known'];

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: path.join(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(proxied.map((prefix) => [prefix, { target: api, changeOrigin: false }])),
  },
  test: {
    root: import.meta.dirname,
    environment: 'jsdom',
    include: ['src/**/*.test.tsx', 'src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    pool: 'threads',
    maxWorkers: 2,
    // Typing through user-event is slow on a shared 2-core machine.
    testTimeout: 30_000,
  },
});
