import { defineConfig } from 'drizzle-kit';

// drizzle-kit reads the table definitions and writes plain SQL migrations into ./migrations.
// The same migrations run on PGlite (embedded) and on PostgreSQL.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/platform/database/schema.ts',
  out: './migrations',
});
