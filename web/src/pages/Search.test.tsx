import { describe, expect, test } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderScreen, stubApi } from '../test/render';
import { SearchPage } from './Search';

const person = {
  resourceType: 'Individual', id: '7d1c0a52-0000-4000-8000-000000000001', version: 1, isActive: true, deactivation: null, area: 'DM01',
  addresses: [], phones: [], email: null, income: null, identifiers: [{ type: 'national-id', system: 'x', value: 'N123', isValid: true }],
  createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z',
  name: { given: 'Ana', family: 'Reyes', additional: null, display: 'Ana Reyes' }, birthDate: '1990-05-04', gender: '2', civilStatus: null, disability: null,
};

describe('registry search (search first)', () => {
  test('lists nobody before a search, and asks for a criterion when the form is empty', async () => {
    const seen = stubApi(() => undefined);
    renderScreen(<SearchPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Search' }));
    expect(screen.getByRole('alert').textContent).toMatch(/at least one criterion/);
    expect(screen.queryByRole('table')).toBeNull();
    expect(seen.some((request) => request.url.pathname === '/api/v2/Individual')).toBe(false);
  });

  test('sends the criteria (age range as birth-date bounds) and shows the page of results with links to profiles', async () => {
    const seen = stubApi(({ url }) => (url.pathname === '/api/v2/Individual'
      ? { body: { resourceType: 'SearchResult', count: 1, total: 1, items: [person], links: { self: '' } } }
      : undefined));
    renderScreen(<SearchPage />);
    await userEvent.type(screen.getByLabelText('Name'), 'reyes');
    await userEvent.type(screen.getByLabelText('Age from'), '18');
    await userEvent.type(screen.getByLabelText('Age to'), '60');
    await userEvent.selectOptions(await screen.findByLabelText('Sex'), 'Female');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    const table = await screen.findByRole('table', { name: 'Results' });
    expect(within(table).getByRole('link', { name: 'Ana Reyes' }).getAttribute('href')).toBe(`/individuals/${person.id}`);
    expect(within(table).getByText('national-id: N123')).toBeTruthy();
    expect(screen.getByRole('heading', { name: /1 match/ })).toBeTruthy();
    const query = seen.find((request) => request.url.pathname === '/api/v2/Individual')!.url.searchParams;
    expect(query.get('name')).toBe('reyes');
    expect(query.get('gender')).toBe('2');
    expect(query.getAll('birthdate')).toHaveLength(2);
    expect(query.getAll('birthdate')[0]).toMatch(/^le\d{4}-\d{2}-\d{2}$/);
    expect(query.getAll('birthdate')[1]).toMatch(/^gt\d{4}-\d{2}-\d{2}$/);
  });

  test('refuses an inverted age range before asking the API, with the message tied to the field', async () => {
    const seen = stubApi(() => undefined);
    renderScreen(<SearchPage />);
    await userEvent.type(screen.getByLabelText('Name'), 'reyes');
    await userEvent.type(screen.getByLabelText('Age from'), '60');
    await userEvent.type(screen.getByLabelText('Age to'), '18');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    const ageTo = screen.getByLabelText('Age to');
    expect(ageTo.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(ageTo.getAttribute('aria-describedby')!.split(' ').pop()!)!.textContent).toMatch(/must not be greater/);
    expect(seen.some((request) => request.url.pathname === '/api/v2/Individual')).toBe(false);
  });

  test("shows the API's message for a bad parameter under its field", async () => {
    stubApi(({ url }) => (url.pathname === '/api/v2/Individual'
      ? { status: 400, body: { code: 'unknown_parameter', detail: 'Search parameter phone is not a valid phone number', errors: [{ path: 'query:/phone', message: 'is not a valid phone number' }] } }
      : undefined));
    renderScreen(<SearchPage />);
    await userEvent.type(screen.getByLabelText('Phone'), '12');
    await userEvent.type(screen.getByLabelText('Name'), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    const message = await screen.findByText('is not a valid phone number');
    expect(screen.getByLabelText('Phone').getAttribute('aria-describedby')).toContain(message.id);
  });

  test('households: the group-type filter replaces sex and age', async () => {
    const seen = stubApi(({ url }) => (url.pathname === '/api/v2/Group'
      ? { body: { resourceType: 'SearchResult', count: 1, items: [{ ...person, resourceType: 'Group', name: 'Household of Ana Reyes', groupType: 'household', size: 3, head: null }], links: { self: '' } } }
      : undefined));
    renderScreen(<SearchPage />);
    await userEvent.click(screen.getByLabelText('Households and groups'));
    expect(screen.queryByLabelText('Sex')).toBeNull();
    await userEvent.selectOptions(await screen.findByLabelText('Group type'), 'Household');
    await userEvent.type(screen.getByLabelText('Name'), 'reyes');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(await screen.findByRole('link', { name: 'Household of Ana Reyes' })).toBeTruthy();
    expect(seen.find((request) => request.url.pathname === '/api/v2/Group')!.url.searchParams.get('groupType')).toBe('household');
  });
});
