import type { ReactNode } from 'react';

export interface Column<T> {
  key: string;
  header: string;
  render(row: T): ReactNode;
  /** Numbers and dates line up on the right. */
  numeric?: boolean;
}

/** A plain, accessible table: a caption, column headers with scope, the first column as row header. */
export function DataTable<T>({ caption, columns, rows, rowKey, empty }: {
  caption: string; columns: Column<T>[]; rows: T[]; rowKey(row: T): string; empty?: string;
}) {
  if (rows.length === 0 && empty) return <p className="table-empty">{empty}</p>;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={caption}>
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>{columns.map((column) => <th key={column.key} scope="col" className={column.numeric ? 'numeric' : undefined}>{column.header}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column, index) => (index === 0
                ? <th key={column.key} scope="row">{column.render(row)}</th>
                : <td key={column.key} className={column.numeric ? 'numeric' : undefined}>{column.render(row)}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
