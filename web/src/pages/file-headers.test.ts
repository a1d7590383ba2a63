import { describe, expect, test } from 'vitest';
import ExcelJS from 'exceljs';
import { PLAIN_FIELDS } from '../../../src/modules/bulk-data/import/import.mapping';
import { guessField, IMPORT_FIELDS, parseCsvRows, readXlsxRows } from './file-headers';

describe('reading an upload before sending it', () => {
  test('CSV: quoted cells, doubled quotes, CRLF, a BOM and semicolon separators', () => {
    expect(parseCsvRows('\uFEFFnational_id,"Name, full",note\r\nN1,"Reyes, Ana","said ""hi"""\r\nN2,x,y', 3))
      .toEqual([['national_id', 'Name, full', 'note'], ['N1', 'Reyes, Ana', 'said "hi"'], ['N2', 'x', 'y']]);
    expect(parseCsvRows('a;b;c\n1;2;3\n', 2)).toEqual([['a', 'b', 'c'], ['1', '2', '3']]);
  });

  test('XLSX: the header row and first row of the first sheet, shared strings and numbers', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('People');
    sheet.addRow(['national_id', 'given_name', 'monthly_income']);
    sheet.addRow(['N1', 'Ana', 1250]);
    sheet.addRow(['N2', 'Ben', 900]);
    const buffer = await workbook.xlsx.writeBuffer();
    expect(await readXlsxRows(Uint8Array.from(buffer as unknown as Uint8Array).buffer)).toEqual([['national_id', 'given_name', 'monthly_income'], ['N1', 'Ana', '1250']]);
  });

  test('the field list is the server mapping\'s own', () => {
    expect([...IMPORT_FIELDS]).toEqual([...PLAIN_FIELDS]);
  });

  test('guesses: a field name, an identifier type, or nothing', () => {
    expect(guessField('Given Name', ['national-id'])).toBe('given_name');
    expect(guessField('national_id', ['national-id'])).toBe('identifier:national-id');
    expect(guessField('Remarks', ['national-id'])).toBe('');
  });
});
