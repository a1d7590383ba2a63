import { pipeline, type Readable } from 'node:stream';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { AppError } from '../../../platform/errors.js';

export type ImportFormat = 'csv' | 'xlsx';
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const CSV_CONTENT_TYPE = 'text/csv';

export interface FileRow {
  /** The row as a person sees it: the header is row 1. */
  rowNumber: number;
  /** Header → trimmed cell text ('' when empty). */
  record: Record<string, string>;
}

export interface ReadOptions {
  format: ImportFormat;
  /** XLSX: the sheet to read; default the first. */
  sheet?: string;
  /** Called once with the header row, before the first data row. */
  onHeader?(headers: string[]): void;
}

/** The format from a file name or content type, or undefined when it is neither CSV nor XLSX. */
export function formatOf(fileName: string | undefined, contentType?: string): ImportFormat | undefined {
  const extension = /\.([A-Za-z0-9]+)$/.exec(fileName ?? '')?.[1]?.toLowerCase();
  if (extension === 'csv') return 'csv';
  if (extension === 'xlsx') return 'xlsx';
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === CSV_CONTENT_TYPE) return 'csv';
  if (type === XLSX_CONTENT_TYPE) return 'xlsx';
  return undefined;
}

/**
 * The data rows of a CSV or XLSX file, one at a time, as the consumer pulls: only the parser's
 * small buffers are in memory, whatever the file's size.
 */
export function readRows(source: Readable, options: ReadOptions): AsyncGenerator<FileRow> {
  return options.format === 'csv' ? readCsv(source, options) : readXlsx(source, options);
}

async function* readCsv(source: Readable, options: ReadOptions): AsyncGenerator<FileRow> {
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true, // a short row has empty trailing cells, as in a spreadsheet
    columns: (header: string[]) => {
      checkHeader(header);
      options.onHeader?.(header);
      return header;
    },
  });
  // pipeline, not pipe: an error of the source (a missing chunk) reaches the consumer.
  pipeline(source, parser, () => {});
  // Row numbers count records (blank lines are skipped): the header is row 1.
  let rowNumber = 1;
  try {
    for await (const record of parser) {
      rowNumber += 1;
      yield { rowNumber, record: record as Record<string, string> };
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as { code?: string }).code;
    if (code?.startsWith('CSV_')) throw AppError.validation(`The CSV file cannot be read near row ${rowNumber + 1}: ${(error as Error).message}`);
    throw error;
  } finally {
    parser.destroy(); // a consumer that stops early releases the source too
  }
}

async function* readXlsx(source: Readable, options: ReadOptions): AsyncGenerator<FileRow> {
  // Shared strings and styles are cached (styles tell dates from numbers); rows are not.
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(source, { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });
  let found = false;
  try {
    for await (const worksheet of workbook) {
      const name = (worksheet as unknown as { name: string }).name;
      if (options.sheet !== undefined && name !== options.sheet) continue;
      found = true;
      let headers: Array<string | undefined> | undefined;
      for await (const row of worksheet) {
        const cells = (row.values as unknown[]).map(cellText); // index 1 is column A
        if (!headers) {
          if (cells.every((cell) => cell === '')) continue;
          headers = cells.map((cell) => cell || undefined);
          const names = headers.slice(1).filter((header): header is string => header !== undefined);
          checkHeader(names);
          options.onHeader?.(names);
          continue;
        }
        if (cells.every((cell) => cell === '')) continue;
        const record: Record<string, string> = {};
        headers.forEach((header, index) => { if (header !== undefined) record[header] = cells[index] ?? ''; });
        yield { rowNumber: row.number, record };
      }
      break; // the rest of the workbook is not needed
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw AppError.validation(`The XLSX file cannot be read: ${(error as Error).message}`);
  } finally {
    source.destroy();
  }
  if (!found) throw AppError.validation(options.sheet ? `The workbook has no sheet named "${options.sheet}"` : 'The workbook has no sheet');
}

function checkHeader(header: string[]): void {
  const seen = new Set<string>();
  for (const name of header) {
    const key = name.trim().toLowerCase();
    if (key === '') continue;
    if (seen.has(key)) throw AppError.validation(`The header row names the column "${name}" twice`);
    seen.add(key);
  }
}

/** A cell's value as text: dates as YYYY-MM-DD, formulas by their result, rich text joined. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const cell = value as { richText?: Array<{ text: string }>; result?: unknown; text?: unknown; error?: string };
    if (cell.richText) return cell.richText.map((part) => part.text).join('').trim();
    if ('result' in cell) return cellText(cell.result);
    if ('text' in cell) return cellText(cell.text);
    if (cell.error) return '';
  }
  return String(value).trim();
}
