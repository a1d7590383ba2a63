// The header row and first data row of an uploaded file, read in the browser so columns can be
// mapped before the upload. CSV: parsed here (quotes, separators). XLSX: the first sheet's first rows,
// read from the zip with the browser's DecompressionStream (no spreadsheet library in the bundle).

export interface FilePreview { headers: string[]; sample: string[] }

/** Splits CSV text into rows of cells (RFC 4180 quoting; comma or semicolon, whichever the header uses). */
export function parseCsvRows(text: string, maxRows = 2): string[][] {
  const clean = text.replace(/^\uFEFF/, '');
  const firstLine = clean.split(/\r?\n/, 1)[0] ?? '';
  const separator = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < clean.length && rows.length < maxRows; index += 1) {
    const char = clean[index]!;
    if (quoted) {
      if (char === '"' && clean[index + 1] === '"') { cell += '"'; index += 1; } else if (char === '"') quoted = false; else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === separator) { row.push(cell); cell = ''; } else if (char === '\n' || char === '\r') {
      if (char === '\r' && clean[index + 1] === '\n') index += 1;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += char;
  }
  if (rows.length < maxRows && (cell !== '' || row.length > 0)) { row.push(cell); rows.push(row); }
  return rows;
}

async function inflate(data: Uint8Array, method: number): Promise<string> {
  if (method === 0) return new TextDecoder().decode(data);
  const stream = new Response(data as BodyInit).body!.pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(stream).text();
}

/** The named entries of a zip file (central directory), inflated on demand. */
async function readZipEntries(buffer: ArrayBuffer, wanted: (name: string) => boolean): Promise<Map<string, string>> {
  const view = new DataView(buffer);
  let end = buffer.byteLength - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end -= 1;
  if (end < 0) throw new Error('not a zip file');
  const count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  const entries = new Map<string, string>();
  for (let index = 0; index < count; index += 1) {
    const method = view.getUint16(offset + 10, true);
    const compressedSize = view.getUint32(offset + 20, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const localOffset = view.getUint32(offset + 42, true);
    const name = new TextDecoder().decode(new Uint8Array(buffer, offset + 46, nameLength));
    if (wanted(name)) {
      const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
      entries.set(name, await inflate(new Uint8Array(buffer, dataStart, compressedSize), method));
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function columnIndex(reference: string): number {
  const letters = /^[A-Z]+/.exec(reference)?.[0] ?? 'A';
  return [...letters].reduce((total, letter) => total * 26 + letter.charCodeAt(0) - 64, 0) - 1;
}

/** The first two rows of the first worksheet of an XLSX file. */
export async function readXlsxRows(buffer: ArrayBuffer): Promise<string[][]> {
  const entries = await readZipEntries(buffer, (name) => name === 'xl/sharedStrings.xml' || /^xl\/worksheets\/sheet\d+\.xml$/.test(name));
  const sheetName = [...entries.keys()].filter((name) => name.startsWith('xl/worksheets/')).sort()[0];
  if (!sheetName) return [];
  const parser = new DOMParser();
  const shared = entries.has('xl/sharedStrings.xml')
    ? [...parser.parseFromString(entries.get('xl/sharedStrings.xml')!, 'application/xml').getElementsByTagName('si')].map((item) => item.textContent ?? '')
    : [];
  const sheet = parser.parseFromString(entries.get(sheetName)!, 'application/xml');
  return [...sheet.getElementsByTagName('row')].slice(0, 2).map((row) => {
    const cells: string[] = [];
    for (const cell of [...row.getElementsByTagName('c')]) {
      const type = cell.getAttribute('t');
      const raw = type === 'inlineStr' ? cell.getElementsByTagName('is')[0]?.textContent ?? '' : cell.getElementsByTagName('v')[0]?.textContent ?? '';
      cells[columnIndex(cell.getAttribute('r') ?? '')] = type === 's' ? shared[Number(raw)] ?? '' : raw;
    }
    return Array.from(cells, (value) => value ?? '');
  });
}

export async function previewFile(file: File): Promise<FilePreview> {
  const isXlsx = /\.xlsx$/i.test(file.name);
  const rows = isXlsx ? await readXlsxRows(await file.arrayBuffer()) : parseCsvRows(await file.slice(0, 256 * 1024).text());
  const headers = (rows[0] ?? []).map((header) => header.trim());
  return { headers: headers.filter((header) => header !== ''), sample: headers.map((_, index) => rows[1]?.[index] ?? '') };
}

/** The flat fields of an import mapping (as src/modules/bulk-data/import/import.mapping.ts PLAIN_FIELDS; a test keeps them equal). */
export const IMPORT_FIELDS = [
  'given_name', 'family_name', 'additional_name', 'display_name', 'birth_date', 'gender', 'civil_status', 'area',
  'phone', 'phone2', 'email', 'has_disability', 'disability_types', 'monthly_income', 'income_currency',
  'household_id', 'household_role', 'household_name', 'source_system',
] as const;

const normalize = (text: string) => text.trim().toLowerCase().replace(/[\s-]+/g, '_');

/** A first guess of each column's field: its header as a field name, or an identifier type's code. */
export function guessField(header: string, idTypes: string[]): string {
  const key = normalize(header);
  if ((IMPORT_FIELDS as readonly string[]).includes(key)) return key;
  const idType = idTypes.find((code) => normalize(code) === key || `${normalize(code)}` === key.replace(/_?(number|no)$/, ''));
  if (idType) return `identifier:${idType}`;
  if (key.startsWith('identifier:')) return header.trim();
  return '';
}
