import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ID_TYPE_VOCABULARY, contentHashOf, readStamp, stampedDescription, systemVocabularies } from './system-vocabularies.js';

// The same rules the API applies to codes and labels, so shipped data is always addressable.
const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

test('shipped codes are unique, well-formed and labelled', () => {
  for (const vocabulary of systemVocabularies) {
    const codes = vocabulary.codes.map((c) => c.code);
    assert.equal(new Set(codes).size, codes.length, `duplicate code in ${vocabulary.code}`);
    for (const { code, label } of vocabulary.codes) {
      assert.match(code, CODE, `${vocabulary.code}#${code}`);
      assert.ok(label.length > 0 && label.length <= 200, `${vocabulary.code}#${code} label`);
    }
  }
  const uris = systemVocabularies.map((v) => v.namespaceUri);
  assert.equal(new Set(uris).size, uris.length);
});

test('country and language carry the full ISO lists', () => {
  const byCode = new Map(systemVocabularies.map((v) => [v.code, v]));
  assert.ok(byCode.get('country')!.codes.length >= 249);
  assert.ok(byCode.get('language')!.codes.length > 7800);
  assert.deepEqual(byCode.get('language')!.codes.find((c) => c.code === 'eng'), { code: 'eng', label: 'English', properties: { type: 'living', scope: 'individual', iso6391: 'en' } });
});

test('every id type has a namespace URI, and its pattern compiles', () => {
  const idTypes = systemVocabularies.find((v) => v.code === ID_TYPE_VOCABULARY)!.codes;
  const systems = idTypes.map((c) => c.properties?.system);
  assert.ok(systems.every((system) => typeof system === 'string' && system.startsWith('urn:commonweal:id:')));
  assert.equal(new Set(systems).size, systems.length);
  for (const { properties } of idTypes) if (properties?.pattern) new RegExp(String(properties.pattern));
});

test('the content stamp round-trips through the description', () => {
  const hash = contentHashOf(systemVocabularies[0]!);
  assert.match(hash, /^[0-9a-f]{16}$/);
  assert.deepEqual(readStamp(stampedDescription('Sex of a person.', hash)), { description: 'Sex of a person.', hash });
  assert.deepEqual(readStamp('No stamp'), { description: 'No stamp', hash: undefined });
  assert.deepEqual(readStamp(null), { description: null, hash: undefined });
});
