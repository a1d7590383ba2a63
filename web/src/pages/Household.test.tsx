import { describe, expect, test } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { registrar, renderScreen, stubApi, type Handler } from '../test/render';
import { HouseholdPage } from './Household';

const GROUP = '5b0c7a4e-0000-4000-8000-0000000000aa';
const HEAD = '5b0c7a4e-0000-4000-8000-000000000001';
const CHILD = '5b0c7a4e-0000-4000-8000-000000000002';
const base = { version: 1, isActive: true, deactivation: null, area: 'DM01', addresses: [], phones: [], email: null, income: null, identifiers: [], createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
const person = (id: string, given: string, birthDate: string) => ({ ...base, resourceType: 'Individual', id, name: { given, family: 'Reyes', additional: null, display: `${given} Reyes` }, birthDate, gender: '2', civilStatus: null, disability: null });

const household: Handler = ({ method, url }) => {
  if (method !== 'GET') return undefined;
  if (url.pathname === `/api/v2/Group/${GROUP}`) return { body: { ...base, resourceType: 'Group', id: GROUP, groupType: 'household', name: 'Household of Ana Reyes', size: 2, head: HEAD }, headers: { etag: 'W/"1"' } };
  if (url.pathname === `/api/v2/Group/${GROUP}/members`) return { body: { items: [
    { id: 'm1', individual: HEAD, role: 'head', startDate: '2020-01-01', endDate: null, endReason: null, isActive: true },
    { id: 'm2', individual: CHILD, role: 'child', startDate: '2020-01-01', endDate: null, endReason: null, isActive: true },
  ] } };
  if (url.pathname === '/api/v2/Individual' && url.searchParams.get('group') === GROUP) return { body: { items: [person(HEAD, 'Ana', '1980-03-01'), person(CHILD, 'Ben', '2015-06-01')], links: { self: '' } } };
  if (url.pathname === `/api/v2/Group/${GROUP}/_history`) return { body: { items: [{ occurredAt: '2026-02-01T10:00:00Z', actor: { type: 'user', id: 'registrar' }, action: 'change-head', entityType: 'group', entityId: GROUP, before: { head: CHILD }, after: { head: HEAD } }] } };
  return undefined;
};

describe('household profile', () => {
  test('members with roles and ages, links to their profiles, the history; a registrar gets the actions', async () => {
    stubApi(household);
    renderScreen(<HouseholdPage />, { path: `/households/${GROUP}`, route: '/households/:id' });
    expect(await screen.findByRole('heading', { name: 'Household of Ana Reyes', level: 1 })).toBeTruthy();
    const members = screen.getByRole('table', { name: 'Members' });
    const rows = await within(members).findAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1]!).getByRole('link', { name: 'Ana Reyes' }).getAttribute('href')).toBe(`/individuals/${HEAD}`);
    expect(within(rows[1]!).getByText('Head')).toBeTruthy();
    expect(within(rows[2]!).getByText('Child of the head')).toBeTruthy();
    // The head cannot be made head again; the child can.
    expect(within(rows[1]!).queryByRole('button', { name: /Make head/ })).toBeNull();
    expect(within(rows[2]!).getByRole('button', { name: 'Make head: Ben Reyes' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Add member' })).toBeTruthy();
    const history = screen.getByRole('table', { name: 'History of changes' });
    expect((await within(history).findByText('change-head: head')).tagName).toBe('TD');
  });

  test('ending a membership needs a reason: the API says so under the field, then the change is sent', async () => {
    const seen = stubApi((request) => {
      if (request.method === 'POST' && request.url.pathname.endsWith('/$end')) {
        return JSON.parse(request.body).reason
          ? { body: { ...base, resourceType: 'Group', id: GROUP } }
          : { status: 400, body: { code: 'validation_failed', detail: 'The body is not valid', errors: [{ path: '/reason', message: 'must have required property' }] } };
      }
      return household(request);
    });
    renderScreen(<HouseholdPage />, { path: `/households/${GROUP}`, route: '/households/:id' });
    await userEvent.click(await screen.findByRole('button', { name: 'End membership: Ben Reyes' }));
    await userEvent.click(screen.getByRole('button', { name: 'End membership' }));
    const reason = screen.getByLabelText(/Why the membership ends/);
    expect((await screen.findByText('must have required property')).id).toBe(reason.getAttribute('aria-describedby'));
    await userEvent.type(reason, 'Moved away');
    await userEvent.click(screen.getByRole('button', { name: 'End membership' }));
    const ends = seen.filter((request) => request.url.pathname === `/api/v2/Group/${GROUP}/members/${CHILD}/$end`);
    expect(ends.map((request) => JSON.parse(request.body))).toEqual([{ reason: '' }, { reason: 'Moved away' }]);
  });

  test('a registry viewer sees the household without any action', async () => {
    stubApi(household, { ...registrar, roles: [{ role: 'registry-viewer', areas: [] }] });
    renderScreen(<HouseholdPage />, { path: `/households/${GROUP}`, route: '/households/:id' });
    await screen.findByRole('link', { name: 'Ben Reyes' });
    expect(screen.queryByRole('button', { name: /Make head|End membership|Add member|Deactivate/ })).toBeNull();
  });
});
