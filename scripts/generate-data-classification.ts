// `npm run docs:classification`: writes docs/DATA-CLASSIFICATION.md from the classification table
// in src/modules/registry/registry.classification.ts (a test fails when the file is out of date).
import fs from 'node:fs';
import path from 'node:path';
import { renderDataClassification } from '../src/modules/registry/registry.classification.js';

export const DATA_CLASSIFICATION_DOC = path.resolve(import.meta.dirname, '../docs/DATA-CLASSIFICATION.md');

fs.writeFileSync(DATA_CLASSIFICATION_DOC, renderDataClassification());
console.log(`Wrote ${path.relative(process.cwd(), DATA_CLASSIFICATION_DOC)}`);
