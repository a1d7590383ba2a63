import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { maskIdentifierValue, maskPhoneNumber } from '../../platform/privacy/classification.js';
import { registryClassification, renderDataClassification } from './registry.classification.js';
import { discloseRegistrants, revealScopeOf } from './registry.disclosure.js';

describe('data classification of the registry', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });

  test('docs/DATA-CLASSIFICATION.md is generated from the table and up to date (npm run docs:classification)', () => {
    const file = path.resolve(import.meta.dirname, '../../../docs/DATA-CLASSIFICATION.md');
    assert.equal(fs.readFileSync(file, 'utf8'), renderDataClassification(), 'run `npm run docs:classification` and commit the result');
  });

  test('every field of the Individual and Group views is classified, for the resources it appears in', async () => {
    const context = { actor: systemActor('test') };
    const person = await system.services.registry.createIndividual(context, { name: { given: 'Ana' }, identifiers: [{ type: 'national-id', value: 'AB1234567' }] });
    const group = await system.services.registry.createGroup(context, { groupType: 'household', name: 'Household', members: [{ individual: person.id, role: 'head' }] });
    const views = { Individual: await system.services.registry.getIndividual(context, person.id), Group: await system.services.registry.getGroup(context, group.id) };
    for (const [resource, view] of Object.entries(views)) {
      for (const field of Object.keys(view)) {
        const entry = (registryClassification as Record<string, { appliesTo: readonly string[] }>)[field];
        assert.ok(entry, `${resource}.${field} has no classification in registry.classification.ts`);
        assert.ok(entry.appliesTo.includes(resource), `${resource}.${field} is classified for ${entry.appliesTo.join(', ')} only`);
      }
    }
  });

  test('restricted values are the encrypted ones; masks keep only what the table says', () => {
    const restricted = Object.entries(registryClassification).filter(([, entry]) => entry.level === 'restricted').map(([field]) => field);
    assert.deepEqual(restricted, ['identifiers', 'phones', 'addresses']);
    assert.ok(Object.values(registryClassification).every((entry) => (entry.level === 'restricted') === entry.atRest.startsWith('encrypted')));
    assert.equal(maskIdentifierValue('AB1234567'), 'AB****567');
    assert.equal(maskIdentifierValue('X123456'), 'X*****6');
    assert.equal(maskIdentifierValue('1234'), '****');
    assert.equal(maskPhoneNumber('+639171234567'), '+63917***4567');
    const consentFiltered = { resourceType: 'Individual', id: 'x', phones: [{ value: '+639171234567' }], consentStatus: 'partial' };
    const masked = discloseRegistrants(revealScopeOf({ type: 'client', id: 'c', scopes: new Set(['individual:read']) }), [consentFiltered]);
    assert.deepEqual(masked.records[0], { ...consentFiltered, phones: [{ value: '+63917***4567' }], masked: ['phones'] }, 'only the fields present are masked and listed');
    const revealed = discloseRegistrants(revealScopeOf({ type: 'client', id: 'c', scopes: new Set(['individual:read', 'pii:reveal']) }), [consentFiltered]);
    assert.deepEqual(revealed, { records: [consentFiltered], revealed: [{ resourceType: 'Individual', id: 'x', fields: ['phones'] }] });
  });
});
