import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { checkMapping, createRowMapper, defaultMapping, sourceOf, type MappingDocument } from './import.mapping.js';
import { formatOf, readRows } from './import.readers.js';
import { xlsx } from './import.test-support.js';

const idTypes = new Set(['national-id', 'household-id']);
const mapOne = (mapping: MappingDocument, record: Record<string, string>, seen = new Map<string, number>()) =>
  createRowMapper(mapping, Object.keys(mapping.columns), new Map([['children', 'number' as const], ['pensioner', 'boolean' as const]])).map(2, record, seen);

describe('import mapping', () => {
  test('turns cells into the API shape: words to codes, day-first dates, numbers with separators, lists, defaults', () => {
    const mapping: MappingDocument = {
      columns: { ID: 'identifier:national-id', Name: 'given_name', Born: 'birth_date', Sex: 'gender', Disabled: 'has_disability', Types: 'disability_types',
        Income: 'monthly_income', Phone: 'phone', Phone2: 'phone2', Kids: 'custom:children', Pension: 'custom:pensioner', HH: 'household_id', Role: 'household_role' },
      defaults: { income_currency: 'php', source_system: 'ministry' },
      options: { dateFormat: 'DD/MM/YYYY' },
    };
    const row = mapOne(mapping, { ID: 'AB123456', Name: ' Ana ', Born: '29/02/2000', Sex: 'Female', Disabled: 'YES', Types: 'seeing; walking;', Income: '1,250.75',
      Phone: '+63 917 000 0000', Phone2: '', Kids: '3', Pension: 'no', HH: 'H1', Role: 'head' });
    assert.deepEqual(row.problems, []);
    assert.deepEqual(row.person, {
      key: 2,
      individual: {
        name: { given: 'Ana' }, birthDate: '2000-02-29', gender: '2', sourceSystem: 'ministry', phones: [{ value: '+63 917 000 0000' }],
        disability: { hasDisability: true, types: ['seeing', 'walking'] }, income: { monthly: 1250.75, currency: 'PHP' },
        identifiers: [{ type: 'national-id', value: 'AB123456' }], custom: { children: 3, pensioner: false },
      },
      household: { identifier: { type: 'household-id', value: 'H1' }, role: 'head' },
    });
    assert.equal(row.household, 'H1');
    // ISO dates (what spreadsheet date cells become) are accepted whatever the format.
    assert.equal((mapOne(mapping, { ID: 'A', Born: '1990-01-31' }).person.individual as { birthDate: string }).birthDate, '1990-01-31');
    assert.equal((mapOne({ ...mapping, options: { dateFormat: 'MM/DD/YYYY' } }, { ID: 'A', Born: '12/31/1990' }).person.individual as { birthDate: string }).birthDate, '1990-12-31');
  });

  test('refuses cells it cannot read, naming the column and the value', () => {
    const mapping: MappingDocument = { columns: { ID: 'identifier:national-id', Born: 'birth_date', Disabled: 'has_disability', Income: 'monthly_income', Kids: 'custom:children', HH: 'household_id' } };
    const row = mapOne(mapping, { ID: 'A', Born: '1990-02-30', Disabled: 'maybe', Income: '12k', Kids: 'two', HH: 'H1' });
    assert.deepEqual(row.problems.map((problem) => [problem.column, problem.value, problem.reason]), [
      ['Born', '1990-02-30', 'is not a real calendar date'],
      ['Disabled', 'maybe', 'is not one of true/false, yes/no, 1/0'],
      ['Income', '12k', 'is not a number'],
      ['Kids', 'two', 'is not a number'],
      [null, null, 'a household member needs a household_role (e.g. head, spouse, child)'],
    ]);
    assert.equal(mapOne(mapping, { ID: 'A', Born: '12/31/1990' }).problems[0]?.reason, 'is not a date in the format YYYY-MM-DD');
  });

  test('an identifier seen earlier in the file is a duplicate; problem paths lead back to columns', () => {
    const mapping: MappingDocument = { columns: { ID: 'identifier:national-id', Name: 'given_name', Phone: 'phone' } };
    const seen = new Map([['national-id|AB1', 7]]);
    const row = mapOne(mapping, { ID: 'AB1', Name: 'X', Phone: '123' }, seen);
    assert.deepEqual(row.problems.map((problem) => problem.reason), ['national-id AB1 is also given in row 7']);
    assert.deepEqual(sourceOf(row, '/identifiers/0/value', ''), { column: 'ID', value: 'AB1', exact: true });
    assert.deepEqual(sourceOf(row, '/phones/0/value', ''), { column: 'Phone', value: '123', exact: true });
    assert.deepEqual(sourceOf(row, '/name', 'must have a name'), { column: 'Name', value: 'X', exact: false });
    assert.deepEqual(sourceOf(row, '/identifiers', 'national-id|AB1 is also given for row 3'), { column: 'ID', value: 'AB1', exact: false });
    assert.deepEqual(sourceOf(row, '/email', ''), { column: null, value: null, exact: false });
  });

  test('checks mappings: fields, identifier types, duplicates, defaults; the default mapping takes headers named as fields', () => {
    assert.doesNotThrow(() => checkMapping({ columns: { A: 'identifier:national-id', B: 'custom:x' } }, idTypes));
    assert.throws(() => checkMapping({ columns: { A: 'identifier:passport' } }, idTypes), /"passport" is not an identifier type/);
    assert.throws(() => checkMapping({ columns: { A: 'given_name' }, extra: 1 }, idTypes), /is not a known field/);
    assert.deepEqual(defaultMapping(['identifier:national-id', ' given_name ', 'Notes']), { columns: { 'identifier:national-id': 'identifier:national-id', ' given_name ': 'given_name' } });
    assert.throws(() => createRowMapper({ columns: { Missing: 'given_name' } }, ['Other']), /Mapped columns are not in the file: Missing/);
    // Headers match whatever their case and surrounding spaces.
    assert.doesNotThrow(() => createRowMapper({ columns: { 'national id': 'identifier:national-id' } }, [' National ID ']));
  });
});

describe('import readers', () => {
  const collect = async (source: Readable, options: Parameters<typeof readRows>[1]) => {
    const rows = [];
    for await (const row of readRows(source, options)) rows.push(row);
    return rows;
  };

  test('CSV: BOM, trimming, quoted line breaks, blank lines and short rows; rows numbered from the header', async () => {
    let headers: string[] = [];
    const rows = await collect(Readable.from(['\ufeffid, name \r\n', 'A1, Ana \r\n\r\n', '"A2","Line\nbreak"\r\nA3\r\n']), { format: 'csv', onHeader: (names) => { headers = names; } });
    assert.deepEqual(headers, ['id', 'name']);
    assert.deepEqual(rows, [
      { rowNumber: 2, record: { id: 'A1', name: 'Ana' } },
      { rowNumber: 3, record: { id: 'A2', name: 'Line\nbreak' } },
      { rowNumber: 4, record: { id: 'A3' } },
    ]);
    await assert.rejects(collect(Readable.from(['a,a\n1,2\n']), { format: 'csv' }), /names the column "a" twice/);
  });

  test('XLSX: the named sheet, sheet row numbers, date/number/formula cells as text', async () => {
    const workbook = await xlsx({ First: [['x']], Data: [[], ['id', 'born', 'n'], ['A1', new Date(Date.UTC(2001, 1, 3)), 42], [], ['A2', null, 1.5]] });
    let headers: string[] = [];
    const rows = await collect(Readable.from([workbook]), { format: 'xlsx', sheet: 'Data', onHeader: (names) => { headers = names; } });
    assert.deepEqual(headers, ['id', 'born', 'n']);
    assert.deepEqual(rows, [
      { rowNumber: 3, record: { id: 'A1', born: '2001-02-03', n: '42' } },
      { rowNumber: 5, record: { id: 'A2', born: '', n: '1.5' } },
    ]);
    await assert.rejects(collect(Readable.from([workbook]), { format: 'xlsx', sheet: 'Nope' }), /no sheet named "Nope"/);
    assert.deepEqual([formatOf('a.CSV'), formatOf('b.xlsx'), formatOf('c', 'text/csv; charset=utf-8'), formatOf('d.xls')], ['csv', 'xlsx', 'csv', undefined]);
  });
});
