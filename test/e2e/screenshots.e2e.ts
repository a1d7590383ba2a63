// `npm run screenshots`: regenerates docs/screenshots/*.png, the main screens of the web back office
// on the demo data (laptop width, and the search at tablet width). Not part of `npm run test:e2e`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { apiSession, launchBrowser, signIn, startServer, type RunningServer } from './support.js';

const outputDir = path.resolve(import.meta.dirname, '../../docs/screenshots');
let server: RunningServer;
let browser: Browser;

before(async () => {
  fs.mkdirSync(outputDir, { recursive: true });
  [server, browser] = await Promise.all([startServer({ households: 120 }), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function shoot(page: Page, name: string, fullPage = true) {
  // No caret or hover state in the pictures.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(outputDir, `${name}.png`), fullPage, caret: 'hide', animations: 'disabled' });
}

test('screenshots of the main screens', async () => {
  const api = await apiSession(server, 'registrar');
  const household = (await api.get('/api/v2/Group?_count=1&groupType=household&area=DM01')).items[0];
  const head = await api.get(`/api/v2/Individual/${household.head}`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
  const signInPage = await context.newPage();
  await signInPage.goto(`${server.baseUrl}/sign-in`);
  await signInPage.getByLabel('Username').fill('registrar');
  await shoot(signInPage, '01-sign-in', false);
  await context.close();

  const page = await signIn(browser, server, 'registrar', { width: 1280, height: 800 });
  await page.getByLabel('Name', { exact: true }).fill(head.name.family);
  await page.getByRole('button', { name: 'Choose an area' }).click();
  await page.getByRole('button', { name: 'Show areas inside Demo Republic' }).click();
  await page.getByRole('button', { name: 'Show areas inside Northern Highlands' }).waitFor();
  await shoot(page, '02-search-area-picker');
  await page.getByRole('button', { name: 'Choose Northern Highlands' }).click();
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('table', { name: 'Results' }).waitFor();
  await shoot(page, '03-search-results');

  await page.goto(`${server.baseUrl}/households/${household.id}`);
  await page.getByRole('table', { name: 'Members' }).locator('tbody tr').first().waitFor();
  await page.getByRole('cell', { name: 'Head', exact: true }).waitFor();
  await shoot(page, '04-household');

  await page.goto(`${server.baseUrl}/individuals/${head.id}`);
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  await page.getByLabel('Date of birth').fill('1980-02-30');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.field__error').first().waitFor();
  await shoot(page, '05-person-edit-validation');

  await page.goto(`${server.baseUrl}/register`);
  await page.getByLabel('Household name').fill('Household of Lina Obrero');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('group', { name: 'Member 1' }).getByLabel('Given name').fill('Lina');
  await page.getByRole('group', { name: 'Member 1' }).getByLabel('Family name').fill('Obrero');
  await page.getByRole('button', { name: 'Add another member' }).click();
  await page.getByRole('group', { name: 'Member 2' }).getByLabel('Given name').fill('Tomas');
  await shoot(page, '06-register-household');

  await page.goto(`${server.baseUrl}/import`);
  const csv = ['national_id,given_name,family_name,birth_date,gender,area', 'NSHOT0001,Rosa,Valdez,1990-01-02,2,DM01', 'NSHOT0002,Pablo,Valdez,1990-02-30,1,DM01', 'NSHOT0003,Ines,Valdez,2001-07-15,9,DM99'].join('\n');
  await page.getByLabel('File (CSV or XLSX)').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('heading', { name: '2. Columns' }).waitFor();
  await shoot(page, '07-import-mapping');
  await page.getByRole('button', { name: 'Start the import' }).click();
  await page.getByRole('table', { name: 'Rows with problems' }).waitFor({ timeout: 60_000 });
  await shoot(page, '08-import-report');
  await page.context().close();

  const manager = await apiSession(server, 'program-manager');
  await manager.post('/api/v2/Program', { code: 'ELDERLY', name: 'Elderly allowance', description: 'Monthly allowance for people aged 60 and over.', targetType: 'individual', currency: 'PHP', eligibilityRule: 'age >= 60' });
  const programs = await signIn(browser, server, 'program-manager', { width: 1280, height: 800 });
  await programs.getByRole('link', { name: 'Programs' }).click();
  await programs.getByRole('link', { name: 'Elderly allowance' }).click();
  await programs.getByText('Valid rule (result: bool).').waitFor();
  await programs.getByRole('button', { name: 'How many would match?' }).click();
  await programs.getByText(/registrants? match/).waitFor();
  await shoot(programs, '10-program-rule-preview');
  await programs.context().close();

  const tablet = await signIn(browser, server, 'registry-viewer', { width: 820, height: 1180 });
  await tablet.getByLabel('Language').selectOption('fr');
  await tablet.getByLabel('Nom', { exact: true }).fill(head.name.family);
  await tablet.getByRole('button', { name: 'Rechercher', exact: true }).click();
  await tablet.getByRole('table', { name: 'Résultats' }).waitFor();
  await shoot(tablet, '09-tablet-french-masked');
  await tablet.context().close();

  assert.ok(fs.readdirSync(outputDir).filter((name) => name.endsWith('.png')).length >= 10);
});
