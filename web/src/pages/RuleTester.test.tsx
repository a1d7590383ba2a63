import { describe, expect, test } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderScreen, stubApi } from '../test/render';
import { RuleTester } from './RuleTester';

describe('eligibility rule: live check and preview', () => {
  test('a valid rule says so; a broken one shows the engine\'s message with its line and column, tied to the box; preview counts matches', async () => {
    const seen = stubApi(({ url, body }) => {
      if (url.pathname === '/api/v2/rules/validate') {
        return /\d$/.test(JSON.parse(body).expression)
          ? { body: { valid: true, subject: 'individual', type: 'bool' } }
          : { status: 400, body: { code: 'validation_failed', detail: 'The expression is not valid', errors: [{ path: '/expression', kind: 'syntax', message: 'unexpected end of input', position: { offset: 5, line: 1, column: 6 } }] } };
      }
      if (url.pathname === '/api/v2/rules/preview') return { body: { subject: 'individual', count: 42, items: [] } };
      return undefined;
    });
    renderScreen(<RuleTester initial="age >= 60" subject="individual" />);
    expect(await screen.findByText('Valid rule (result: bool).', undefined, { timeout: 8000 })).toBeTruthy();
    const box = screen.getByLabelText('Rule (CEL expression)');
    await userEvent.clear(box);
    await userEvent.type(box, 'age <');
    const message = await screen.findByText('Line 1, column 6: unexpected end of input', undefined, { timeout: 8000 });
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(box.getAttribute('aria-describedby')!.split(' ')).toContain(message.parentElement!.id);
    expect((screen.getByRole('button', { name: 'How many would match?' }) as HTMLButtonElement).disabled).toBe(true);
    await userEvent.type(box, '= 18');
    await screen.findByText('Valid rule (result: bool).', undefined, { timeout: 8000 });
    await userEvent.click(screen.getByRole('button', { name: 'How many would match?' }));
    expect((await screen.findByRole('status')).textContent).toMatch(/42 registrants match/);
    expect(JSON.parse(seen.find((request) => request.url.pathname === '/api/v2/rules/preview')!.body)).toEqual({ expression: 'age <= 18', subject: 'individual' });
  });
});
