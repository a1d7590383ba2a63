import { describe, expect, test, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderScreen, stubApi } from '../test/render';
import type { Individual } from '../api/types';
import { EditIndividualForm, patchOf } from './EditIndividualForm';

const person: Individual = {
  resourceType: 'Individual', id: '7d1c0a52-0000-4000-8000-000000000001', version: 3, isActive: true, deactivation: null, area: 'DM01',
  addresses: [], phones: [{ value: '+639171234567', use: 'mobile' }], email: null, income: null, identifiers: [],
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z',
  name: { given: 'Ana', family: 'Reyes', additional: null, display: 'Ana Reyes' }, birthDate: '1990-05-04', gender: '2', civilStatus: 'single', disability: null,
};

describe('edit a person', () => {
  test('sends only what changed, as a merge patch with If-Match, and hands the saved record back', async () => {
    const seen = stubApi(({ method, url }) => (method === 'PATCH' && url.pathname === `/api/v2/Individual/${person.id}`
      ? { body: { ...person, version: 4, name: { ...person.name, given: 'Anita' } }, headers: { etag: 'W/"4"' } }
      : undefined));
    const onSaved = vi.fn();
    renderScreen(<EditIndividualForm person={person} etag='W/"3"' onSaved={onSaved} onCancel={() => {}} />);
    const given = screen.getByLabelText('Given name');
    await userEvent.clear(given);
    await userEvent.type(given, 'Anita');
    await userEvent.clear(screen.getByLabelText('Mobile phone'));
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const patch = seen.find((request) => request.method === 'PATCH')!;
    expect(JSON.parse(patch.body)).toEqual({ name: { given: 'Anita' }, phones: null });
    expect(patch.headers.get('if-match')).toBe('W/"3"');
    expect(patch.headers.get('content-type')).toBe('application/merge-patch+json');
    expect(patch.headers.get('x-csrf-token')).toBe('csrf-1');
    expect(onSaved.mock.calls[0]![0].name.given).toBe('Anita');
  });

  test("shows the API's validation messages under their fields, tied with aria-describedby, and keeps the form open", async () => {
    stubApi(({ method }) => (method === 'PATCH'
      ? { status: 400, body: { code: 'validation_failed', detail: 'The body is not valid', errors: [
        { path: '/birthDate', message: 'must be a valid date' }, { path: '/birthDate', message: 'must be null' }, { path: '/birthDate', message: 'must match a schema in anyOf' },
      ] } }
      : undefined));
    const onSaved = vi.fn();
    renderScreen(<EditIndividualForm person={person} etag='W/"3"' onSaved={onSaved} onCancel={() => {}} />);
    const birthDate = screen.getByLabelText('Date of birth');
    await userEvent.clear(birthDate);
    await userEvent.type(birthDate, '1990-02-30');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    const message = await screen.findByText('must be a valid date');
    expect(birthDate.getAttribute('aria-invalid')).toBe('true');
    expect(birthDate.getAttribute('aria-describedby')!.split(' ')).toContain(message.id);
    // The schema's alternatives ("must be null") are noise for a person: left out.
    expect(screen.queryByText(/must be null/)).toBeNull();
    expect(screen.getByRole('alert').textContent).toMatch(/Fix the fields/);
    expect(onSaved).not.toHaveBeenCalled();
  });

  test('a version conflict says to reload', async () => {
    stubApi(({ method }) => (method === 'PATCH' ? { status: 412, body: { code: 'precondition_failed', detail: 'The record changed (version 4)' } } : undefined));
    renderScreen(<EditIndividualForm person={person} etag='W/"3"' onSaved={() => {}} onCancel={() => {}} />);
    await userEvent.type(screen.getByLabelText('Family name'), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/reload it/);
  });

  test('patchOf: emptied fields become null, untouched ones are left out', () => {
    const values = { given: 'Ana', family: 'Reyes', additional: '', birthDate: '1990-05-04', gender: '2', civilStatus: 'single', phone: '', area: 'DM01' };
    expect(patchOf(values, { ...values, family: '', area: 'DM02' }, [])).toEqual({ name: { family: null }, area: 'DM02' });
    expect(patchOf(values, values, [])).toEqual({});
  });
});
