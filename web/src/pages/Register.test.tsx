import { describe, expect, test } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderScreen, stubApi } from '../test/render';
import { RegisterPage } from './Register';
import { checkDraft, emptyHousehold, errorsFromBundle, toBundle } from './register-bundle';

async function fillToReview() {
  await userEvent.type(screen.getByLabelText(/Household name/), 'Household of Ana Reyes');
  await userEvent.click(screen.getByRole('button', { name: 'Next' }));
  const head = screen.getByRole('group', { name: 'Member 1' });
  await userEvent.type(within(head).getByLabelText(/Given name/), 'Ana');
  await userEvent.type(within(head).getByLabelText('Family name'), 'Reyes');
  await userEvent.click(screen.getByRole('button', { name: 'Add another member' }));
  const child = screen.getByRole('group', { name: 'Member 2' });
  await userEvent.type(within(child).getByLabelText(/Given name/), 'Ben');
  await userEvent.type(within(child).getByLabelText('Date of birth'), '2015-02-30');
  await userEvent.selectOptions(within(child).getByLabelText(/Role/), 'Child of the head');
  await userEvent.click(screen.getByRole('button', { name: 'Next' }));
}

describe('register a household (guided form, one bundle)', () => {
  test('checks each step before going on: a household needs a name, a member a name and a role', async () => {
    stubApi(() => undefined);
    renderScreen(<RegisterPage />);
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    const name = screen.getByLabelText(/Household name/);
    expect(name.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('This field is required.')).toBeTruthy();
    await userEvent.type(name, 'Household of Ana Reyes');
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await userEvent.click(screen.getByRole('button', { name: 'Add another member' }));
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(screen.getAllByText('This field is required.')).toHaveLength(3); // head's name; member 2's name and role
  });

  test('sends one transaction bundle; the API answer shows a summary with a link to the household', async () => {
    const seen = stubApi(({ url }) => (url.pathname === '/api/v2/$batch'
      ? { body: { resourceType: 'Bundle', type: 'transaction-response', entries: [{ status: '201' }, { status: '201' }, { status: '201', resource: { id: 'a6d1c0a5-0000-4000-8000-000000000009' } }] } }
      : undefined));
    renderScreen(<RegisterPage />);
    await fillToReview();
    expect(screen.getByRole('table', { name: 'Members' }).textContent).toMatch(/Ben/);
    await userEvent.click(screen.getByRole('button', { name: 'Register the household' }));
    expect((await screen.findByRole('heading', { name: 'Household registered' }))).toBeTruthy();
    expect(screen.getByRole('status').textContent).toMatch(/Household of Ana Reyes, 2 members/);
    expect(screen.getByRole('link', { name: 'Open the household' }).getAttribute('href')).toBe('/households/a6d1c0a5-0000-4000-8000-000000000009');
    const bundle = JSON.parse(seen.find((request) => request.url.pathname === '/api/v2/$batch')!.body);
    expect(bundle.type).toBe('transaction');
    expect(bundle.entries.map((entry: { request: { url: string } }) => entry.request.url)).toEqual(['Individual', 'Individual', 'Group']);
  });

  test('a refused bundle saves nothing and brings the member step back with the message under the field at fault', async () => {
    stubApi(({ url }) => (url.pathname === '/api/v2/$batch'
      ? { status: 400, body: { code: 'validation_failed', detail: 'Entry 1: The body is not valid', errors: [{ path: '/entries/1/resource/birthDate', message: 'must be a valid date' }] } }
      : undefined));
    renderScreen(<RegisterPage />);
    await fillToReview();
    await userEvent.click(screen.getByRole('button', { name: 'Register the household' }));
    const message = await screen.findByText('must be a valid date');
    const field = within(screen.getByRole('group', { name: 'Member 2' })).getByLabelText('Date of birth');
    expect(field.getAttribute('aria-describedby')).toContain(message.id);
  });

  test('toBundle: members first with urn:uuid references, then the household naming them with their roles', () => {
    let counter = 0;
    const draft = { ...emptyHousehold(), name: 'H', area: 'DM01', householdId: 'HH-1', members: [
      { given: 'Ana', family: '', birthDate: '', gender: '2', nationalId: 'N1', role: 'head' },
      { given: 'Ben', family: 'R', birthDate: '2015-01-01', gender: '', nationalId: '', role: 'child' },
    ] };
    const bundle = toBundle(draft, () => `00000000-0000-4000-8000-00000000000${(counter += 1)}`);
    expect(bundle.entries[0]).toMatchObject({ fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001', resource: { name: { given: 'Ana' }, gender: '2', area: 'DM01', identifiers: [{ type: 'national-id', value: 'N1' }] } });
    expect(bundle.entries[2]!.resource).toMatchObject({ groupType: 'household', identifiers: [{ type: 'household-id', value: 'HH-1' }], members: [
      { individual: 'urn:uuid:00000000-0000-4000-8000-000000000001', role: 'head' }, { individual: 'urn:uuid:00000000-0000-4000-8000-000000000002', role: 'child' },
    ] });
    expect(checkDraft(draft, 'members')).toEqual({});
    expect(errorsFromBundle([{ path: '/entries/2/resource/members/1/role', message: 'is not a membership-role code' }, { path: '/entries/0/resource/area', message: 'unknown area' }, { path: '/x', message: 'odd' }], 2))
      .toEqual({ fields: { 'members.1.role': ['is not a membership-role code'], 'household.area': ['unknown area'] }, unplaced: ['odd'] });
  });
});
