import { describe, expect, test } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { IntlProvider } from 'react-intl';
import { DataTable } from './DataTable';
import { SelectField, TextField } from './fields';
import { en } from '../i18n/en';
import { fr } from '../i18n/fr';
import { permissionsOf } from '../auth/auth';
import { ageOf } from '../i18n/i18n';

describe('own components', () => {
  test('DataTable: caption, column headers with scope, the first cell of a row as its header, an empty message', () => {
    const rows = [{ id: 'a', name: 'Ana', age: 34 }, { id: 'b', name: 'Ben', age: 9 }];
    const { rerender } = render(<DataTable caption="People" rows={rows} rowKey={(row) => row.id} columns={[
      { key: 'name', header: 'Name', render: (row) => row.name },
      { key: 'age', header: 'Age', numeric: true, render: (row) => row.age },
    ]} />);
    const table = screen.getByRole('table', { name: 'People' });
    expect(within(table).getAllByRole('columnheader').map((cell) => [cell.textContent, cell.getAttribute('scope')])).toEqual([['Name', 'col'], ['Age', 'col']]);
    expect(within(table).getAllByRole('rowheader').map((cell) => cell.textContent)).toEqual(['Ana', 'Ben']);
    expect(within(table).getByText('9').className).toBe('numeric');
    rerender(<DataTable caption="People" rows={[] as typeof rows} rowKey={(row) => row.id} empty="Nobody" columns={[{ key: 'name', header: 'Name', render: (row) => row.name }]} />);
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.getByText('Nobody')).toBeTruthy();
  });

  test('TextField: label, hint and error are read with the control; typing reports the value', async () => {
    let value = '';
    render(<TextField label="Given name" hint="As on the ID card" errors={['must not be empty']} value="" onChange={(next) => { value = next; }} required />);
    const input = screen.getByLabelText(/Given name/);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-required')).toBe('true');
    const described = input.getAttribute('aria-describedby')!.split(' ').map((id) => document.getElementById(id)!.textContent);
    expect(described).toEqual(['As on the ID card', 'must not be empty']);
    await userEvent.type(input, 'A');
    expect(value).toBe('A');
  });

  test('SelectField: options with an empty choice; no error, no aria-invalid', () => {
    render(<SelectField label="Sex" value="" onChange={() => {}} emptyLabel="Any" options={[{ value: '1', label: 'Male' }, { value: '2', label: 'Female' }]} />);
    const select = screen.getByLabelText('Sex');
    expect(select.getAttribute('aria-invalid')).toBeNull();
    expect(within(select).getAllByRole('option').map((option) => option.textContent)).toEqual(['Any', 'Male', 'Female']);
  });

  test('catalogues: French has every English key, and its plurals and dates format', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(fr)) expect(text.trim(), key).not.toBe('');
    render(<IntlProvider locale="fr" messages={fr}><Plural /></IntlProvider>);
    expect(screen.getByText('2 résultats')).toBeTruthy();
  });

  test('permissions come from the server\'s role matrix; ages from full or masked birth dates', () => {
    const viewer = permissionsOf({ username: 'v', displayName: 'V', roles: [{ role: 'registry-viewer', areas: [] }] });
    expect(viewer.has('individual:read')).toBe(true);
    expect(viewer.has('individual:write')).toBe(false);
    expect(permissionsOf({ username: 'r', displayName: 'R', roles: [{ role: 'registrar', areas: ['DM01'] }] }).has('group:write')).toBe(true);
    expect(permissionsOf({ username: 'x', displayName: 'X', roles: [{ role: 'no-such-role', areas: [] }] }).size).toBe(0);
    const today = new Date(2026, 4, 10);
    expect(ageOf('1990-05-11', today)).toBe(35);
    expect(ageOf('1990-05-10', today)).toBe(36);
    expect(ageOf('1990', today)).toBe(36);
    expect(ageOf('19**', today)).toBeUndefined();
  });
});

import { FormattedMessage } from 'react-intl';
function Plural() {
  return <FormattedMessage id="search.total" values={{ count: 2 }} />;
}
