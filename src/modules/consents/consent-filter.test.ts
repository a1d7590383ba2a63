import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Actor } from '../../platform/auth/access-tokens.js';
import { effectiveStatus, filterByConsent, summariseCoverage, type ConsentTerms } from './consent-filter.js';
import { normaliseTerms, PURPOSES, toCurie } from './consent-terms.js';
import type { FieldProblem } from '../../platform/errors.js';

const view = {
  resourceType: 'Individual' as const,
  id: '6f1c2d4e-0000-4000-8000-000000000001',
  version: 3,
  isActive: true,
  name: { display: 'Ana Peña' },
  birthDate: '1990-04-12',
  gender: '2',
  phones: [{ value: '+639171234567' }],
  email: 'ana@example.org',
  identifiers: [{ type: 'national-id', value: 'AB1234567' }],
  custom: { religion: 'x' },
};
const wfp: Actor = { type: 'client', id: 'cw_wfp', scopes: new Set(), legalBasis: 'consent', organisation: 'WFP', organisationType: 'un-agency' };
const consent = (terms: Partial<ConsentTerms> = {}): ConsentTerms => ({
  status: 'given', purposes: ['dpv:ServiceProvision'], dataCategories: ['dpv-pd:Name', 'dpv-pd:Contact'],
  recipientOrganisation: 'WFP', recipientType: null, expiresAt: null, ...terms,
});

describe('filterByConsent', () => {
  test('other legal bases, users and the system see everything: not-required', () => {
    const others: Actor[] = [
      { ...wfp, legalBasis: 'public-task' }, { ...wfp, legalBasis: undefined },
      { type: 'user', id: 'u1', scopes: new Set(), legalBasis: 'consent' }, { type: 'system', id: 'system', scopes: new Set(['*']) },
    ];
    for (const actor of others) assert.deepEqual(filterByConsent(actor, view, []), { view, consentStatus: 'not-required' });
  });

  test('a covering consent releases exactly its categories\' fields, never custom fields or metadata', () => {
    const { view: shown, consentStatus } = filterByConsent(wfp, view, [consent()]);
    assert.equal(consentStatus, 'partial');
    assert.deepEqual(shown, { resourceType: 'Individual', id: view.id, name: view.name, phones: view.phones, email: view.email });
  });

  test('consents add up; all categorised fields covered is full', () => {
    const all = [consent(), consent({ dataCategories: ['dpv-pd:BirthDate', 'dpv-pd:Gender'], recipientOrganisation: null, recipientType: 'un-agency' }), consent({ dataCategories: ['dpv-pd:Identifier'] })];
    const { view: shown, consentStatus } = filterByConsent(wfp, view, all);
    assert.equal(consentStatus, 'full');
    assert.deepEqual(Object.keys(shown).sort(), ['birthDate', 'email', 'gender', 'id', 'identifiers', 'name', 'phones', 'resourceType']);
  });

  test('withdrawn, expired, refused, requested, other recipient or other purpose: id only', () => {
    const past = new Date(Date.now() - 1000);
    const notCovering = [
      consent({ status: 'withdrawn' }), consent({ status: 'expired' }), consent({ status: 'refused' }), consent({ status: 'requested' }),
      consent({ expiresAt: past }), consent({ recipientOrganisation: 'UNICEF' }), consent({ recipientOrganisation: null, recipientType: 'ngo' }),
      consent({ purposes: ['dpv:ResearchAndDevelopment'] }),
    ];
    for (const terms of notCovering) {
      assert.deepEqual(filterByConsent(wfp, view, [terms]), { view: { resourceType: 'Individual', id: view.id }, consentStatus: 'none' }, JSON.stringify(terms));
    }
  });

  test('the client\'s declared purpose (IRI or CURIE) must be among the consent\'s purposes', () => {
    const research = consent({ purposes: ['dpv:ResearchAndDevelopment'] });
    assert.equal(filterByConsent({ ...wfp, purpose: 'https://w3id.org/dpv#ResearchAndDevelopment' }, view, [research]).consentStatus, 'partial');
    assert.equal(filterByConsent({ ...wfp, purpose: 'dpv:ResearchAndDevelopment' }, view, [consent()]).consentStatus, 'none');
  });

  test('a client with no organisation matches no consent', () => {
    assert.equal(filterByConsent({ ...wfp, organisation: undefined, organisationType: undefined }, view, [consent()]).consentStatus, 'none');
  });
});

describe('consent terms and statuses', () => {
  test('a given consent past expiresAt is expired; other statuses do not expire', () => {
    const past = new Date(Date.now() - 1);
    assert.equal(effectiveStatus({ status: 'given', expiresAt: past }), 'expired');
    assert.equal(effectiveStatus({ status: 'given', expiresAt: new Date(Date.now() + 60_000) }), 'given');
    assert.equal(effectiveStatus({ status: 'requested', expiresAt: past }), 'requested');
    assert.equal(effectiveStatus({ status: 'withdrawn', expiresAt: past }), 'withdrawn');
  });

  test('summariseCoverage: full if all full, none if all none, else partial', () => {
    assert.equal(summariseCoverage(['full', 'full']), 'full');
    assert.equal(summariseCoverage(['none', 'none']), 'none');
    assert.equal(summariseCoverage(['full', 'none']), 'partial');
    assert.equal(summariseCoverage(['partial']), 'partial');
    assert.equal(summariseCoverage([]), 'full');
  });

  test('IRIs and the pd: prefix normalise to CURIEs; unknown codes are problems', () => {
    assert.equal(toCurie('https://w3id.org/dpv#Use'), 'dpv:Use');
    assert.equal(toCurie('https://w3id.org/dpv/pd#Name'), 'dpv-pd:Name');
    assert.equal(toCurie('pd:Name'), 'dpv-pd:Name');
    const problems: FieldProblem[] = [];
    assert.deepEqual(normaliseTerms(['dpv:ServiceProvision', 'https://w3id.org/dpv#ServiceProvision', 'dpv:Marketing'], PURPOSES, '/purposes', problems), ['dpv:ServiceProvision']);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, '/purposes/2');
  });
});
