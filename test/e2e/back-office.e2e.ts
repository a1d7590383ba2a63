// The web back office in a real browser against a real server with the demo data (issue 9):
// sign in, search, open a household, edit a member and see the audit entry, register a household,
// import a file with one bad row and read the report, and area limits for a local user.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import type { Browser } from 'playwright-core';
import { apiSession, launchBrowser, signIn, startServer, type RunningServer } from './support.js';

describe('web back office (browser, real server)', () => {
  let server: RunningServer;
  let browser: Browser;

  before(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('sign in shows the name and role; sign out returns to the sign-in screen; a wrong password is refused', async () => {
    const page = await signIn(browser, server, 'registrar');
    assert.match(await page.getByTestId('user-name').innerText(), /Demo registrar/);
    assert.match(await page.getByTestId('user-roles').innerText(), /registrar \(everywhere\)/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(await page.getByRole('status').first().innerText(), /signed out/);
    // Signed out means the session is gone on the server too: the app sends us back to sign in.
    await page.goto(`${server.baseUrl}/import`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Username').fill('registrar');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /not right/);
    await page.context().close();
  });

  test('search first: nothing is listed before a search; a name search lists matches; a household search finds households', async () => {
    const page = await signIn(browser, server, 'registrar');
    assert.equal(await page.getByRole('table').count(), 0);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    assert.match(await page.getByRole('alert').innerText(), /at least one criterion/);
    const api = await apiSession(server, 'registrar');
    const someone = (await api.get('/api/v2/Individual?_count=1&active=true')).items[0];
    await page.getByLabel('Name', { exact: true }).fill(someone.name.family);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: someone.name.display }).first().waitFor();
    assert.match(await page.getByRole('heading', { name: /Results/ }).innerText(), /match/);
    await page.getByLabel('Households and groups').check();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: /Household of/ }).first().waitFor();
    await page.context().close();
  });

  test('open a household: members with their roles and ages; then edit a member, see an inline API error, save, and find the audit entry', async () => {
    const page = await signIn(browser, server, 'registrar');
    const api = await apiSession(server, 'registrar');
    const household = (await api.get('/api/v2/Group?_count=1&groupType=household')).items[0];
    await page.getByLabel('Households and groups').check();
    await page.getByLabel('Identifier').fill(`household-id|${household.identifiers[0].value}`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: household.name }).click();
    await page.getByRole('heading', { name: household.name, level: 1 }).waitFor();
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('cell', { name: 'Head', exact: true }).waitFor();
    assert.equal(await members.locator('tbody tr').count(), household.size);

    const head = await api.get(`/api/v2/Individual/${household.head}`);
    await members.getByRole('link', { name: head.name.display }).click();
    await page.getByRole('heading', { name: head.name.display, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    // The API's validation message shows under the field and is tied to it.
    await page.getByLabel('Date of birth').fill('1980-02-30');
    await page.getByRole('button', { name: 'Save' }).click();
    const birthDate = page.getByLabel('Date of birth');
    await page.locator('.field__error').first().waitFor();
    assert.equal(await birthDate.getAttribute('aria-invalid'), 'true');
    const describedBy = (await birthDate.getAttribute('aria-describedby')) ?? '';
    const errorId = describedBy.split(' ').find((id) => id.endsWith('-error'));
    assert.ok(errorId, 'the field points to its error message');
    assert.match(await page.locator(`[id="${errorId}"]`).innerText(), /valid date/);

    await page.getByLabel('Date of birth').fill(head.birthDate ?? '1980-02-20');
    await page.getByLabel('Given name').fill('Evangelina');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Changes saved and recorded in the history.').waitFor();
    await page.getByRole('heading', { name: /Evangelina/, level: 1 }).waitFor();
    const history = page.getByRole('table', { name: 'History of changes' });
    await history.getByRole('cell', { name: /update: name/ }).waitFor();
    assert.ok(await history.getByRole('cell', { name: 'registrar', exact: true }).count() >= 1);
    // The audit log on the server says the same.
    const audit = await api.get(`/api/v2/Individual/${household.head}/_history`);
    assert.equal(audit.items.at(-1).after.name.given, 'Evangelina');
    await page.context().close();
  });

  test('register a household with two members in one guided form; the summary links to it', async () => {
    const page = await signIn(browser, server, 'registrar');
    await page.getByRole('link', { name: 'Register household' }).click();
    await page.getByRole('heading', { name: 'Register a household' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    assert.match(await page.locator('.field__error').first().innerText(), /required/);
    await page.getByLabel('Household name').fill('Household of Lina Obrero');
    await page.getByLabel('Household identifier').fill('HH-E2E-0001');
    await page.getByRole('button', { name: 'Choose an area' }).click();
    await page.getByRole('searchbox', { name: 'Name' }).fill('Northern');
    await page.getByRole('button', { name: /Northern Highlands/ }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    const first = page.getByRole('group', { name: 'Member 1' });
    await first.getByLabel('Given name').fill('Lina');
    await first.getByLabel('Family name').fill('Obrero');
    await first.getByLabel('Date of birth').fill('1985-04-12');
    await first.getByLabel('Sex').selectOption({ label: 'Female' });
    await first.getByLabel('National ID').fill('NE2E000001');
    await page.getByRole('button', { name: 'Add another member' }).click();
    const second = page.getByRole('group', { name: 'Member 2' });
    await second.getByLabel('Given name').fill('Tomas');
    await second.getByLabel('Family name').fill('Obrero');
    await second.getByLabel('Date of birth').fill('2015-09-01');
    await second.getByLabel('Role').selectOption({ label: 'Child of the head' });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Register the household' }).click();
    await page.getByRole('heading', { name: 'Household registered' }).waitFor();
    assert.match(await page.getByRole('status').innerText(), /Household of Lina Obrero, 2 members, in Northern Highlands/);
    await page.getByRole('link', { name: 'Open the household' }).click();
    await page.getByRole('heading', { name: 'Household of Lina Obrero', level: 1 }).waitFor();
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('link', { name: 'Tomas Obrero' }).waitFor();
    await members.getByRole('link', { name: 'Lina Obrero' }).waitFor();
    await page.context().close();
  });

  test('import a CSV with one bad row: live progress, the per-row report on screen and downloadable', async () => {
    const page = await signIn(browser, server, 'registrar');
    await page.getByRole('link', { name: 'Import file' }).click();
    const csv = [
      'national_id,given_name,family_name,birth_date,gender,area',
      'NIMP0001,Rosa,Valdez,1990-01-02,2,DM01',
      'NIMP0002,Pablo,Valdez,1990-02-30,1,DM01',
      'NIMP0003,Ines,Valdez,2001-07-15,2,DM01',
    ].join('\n');
    await page.getByLabel('File (CSV or XLSX)').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('heading', { name: '2. Columns' }).waitFor();
    // Headers that name a field or an identifier type are mapped already (identifier types once their
    // vocabulary has arrived); the others can be chosen.
    await page.getByLabel('Registry field: national_id').locator('option[value="identifier:national-id"]').waitFor({ state: 'attached' });
    assert.equal(await page.getByLabel('Registry field: national_id').inputValue(), 'identifier:national-id');
    await page.getByLabel('Registry field: area').selectOption('');
    await page.getByLabel('Registry field: area').selectOption('area');
    assert.equal(await page.getByLabel('Registry field: given_name').inputValue(), 'given_name');
    await page.getByRole('button', { name: 'Start the import' }).click();
    await page.getByText('3 rows: 2 created, 0 updated, 1 rejected.').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('progress').getAttribute('value'), '3');
    const report = page.getByRole('table', { name: 'Rows with problems' });
    await report.getByRole('cell', { name: '1990-02-30' }).waitFor();
    assert.match(await report.innerText(), /birth_date/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Download the problem report/ }).click()]);
    const text = fs.readFileSync((await download.path())!, 'utf8');
    assert.match(text, /^row,column,value,reason/);
    assert.match(text, /birth_date,1990-02-30/);
    await page.context().close();
  });

  test('household actions: make another member head, end a membership with a reason, deactivate with a reason; head change and deactivation show in the history', async () => {
    const api = await apiSession(server, 'registrar');
    const household = (await api.get('/api/v2/Group?_count=50&groupType=household&area=DM02')).items.find((group: { size: number }) => group.size >= 3);
    const members = (await api.get(`/api/v2/Individual?group=${household.id}&_count=100`)).items as Array<{ id: string; name: { display: string } }>;
    const others = members.filter((member) => member.id !== household.head);
    assert.ok(others.length >= 2, 'a demo household with at least three members');
    const [newHead, leaving] = others as [typeof others[0], typeof others[0]];
    const page = await signIn(browser, server, 'registry-manager');
    await page.goto(`${server.baseUrl}/households/${household.id}`);
    const table = page.getByRole('table', { name: 'Members' });
    await table.getByRole('button', { name: `Make head: ${newHead.name.display}` }).click();
    await table.getByRole('row', { name: new RegExp(newHead.name.display) }).getByRole('cell', { name: 'Head', exact: true }).waitFor();

    await table.getByRole('button', { name: `End membership: ${leaving.name.display}` }).click();
    await table.getByRole('button', { name: 'End membership', exact: true }).click();
    await table.locator('.field__error').waitFor();
    await table.getByLabel('Why the membership ends').fill('Moved to the city');
    await table.getByRole('button', { name: 'End membership', exact: true }).click();
    await table.getByRole('link', { name: leaving.name.display }).waitFor({ state: 'detached' });
    await page.getByLabel('Show ended memberships').check();
    await table.getByRole('cell', { name: /Moved to the city/ }).waitFor();

    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByLabel('Why this record is deactivated').fill('Duplicate of another household');
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByText(/Deactivated on .*: Duplicate of another household/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add member' }).count(), 0);
    const history = page.getByRole('table', { name: 'History of changes' });
    await history.getByRole('cell', { name: /deactivate/ }).first().waitFor();
    // The group's history holds its own changes; an ended membership is audited on the membership.
    await history.getByRole('cell', { name: /change-head: .*head/ }).waitFor();
    await page.context().close();
  });

  test('an XLSX upload is read in the browser: its header row becomes the columns to map', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('People');
    sheet.addRow(['national_id', 'Given Name', 'Remarks']);
    sheet.addRow(['NXL0001', 'Marta', 'first visit']);
    const buffer = Buffer.from(await workbook.xlsx.writeBuffer());
    const page = await signIn(browser, server, 'registrar');
    await page.getByRole('link', { name: 'Import file' }).click();
    await page.getByLabel('File (CSV or XLSX)').setInputFiles({ name: 'people.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer });
    await page.getByRole('heading', { name: '2. Columns' }).waitFor();
    // Identifier columns are guessed from the id-type vocabulary, which may arrive after the headers.
    await page.getByLabel('Registry field: national_id').locator('option[value="identifier:national-id"]').waitFor({ state: 'attached' });
    assert.equal(await page.getByLabel('Registry field: national_id').inputValue(), 'identifier:national-id');
    assert.equal(await page.getByLabel('Registry field: Given Name').inputValue(), 'given_name');
    assert.equal(await page.getByLabel('Registry field: Remarks').inputValue(), '');
    await page.getByRole('cell', { name: 'Marta' }).waitFor();
    await page.getByRole('button', { name: 'Start the import' }).click();
    await page.getByText('1 rows: 1 created, 0 updated, 0 rejected.').waitFor({ timeout: 60_000 });
    await page.getByText('Every row was imported.').waitFor();
    await page.context().close();
  });

  test("a program's page: its eligibility rule checked live, a preview of how many would match, its figures", async () => {
    const manager = await apiSession(server, 'program-manager');
    const program = await manager.post('/api/v2/Program', { code: 'E2E-ELDERLY', name: 'Elderly allowance (e2e)', targetType: 'individual', currency: 'PHP', eligibilityRule: 'age >= 60' });
    const page = await signIn(browser, server, 'program-manager');
    await page.getByRole('link', { name: 'Programs' }).click();
    await page.getByRole('link', { name: 'Elderly allowance (e2e)' }).click();
    await page.getByRole('heading', { name: 'Elderly allowance (e2e)', level: 1 }).waitFor();
    await page.getByText('Valid rule (result: bool).').waitFor();
    const rule = page.getByLabel('Rule (CEL expression)');
    assert.equal(await rule.inputValue(), program.eligibilityRule);
    await rule.fill('age >= ');
    await page.getByText(/^Line 1, column \d+:/).waitFor();
    assert.equal(await rule.getAttribute('aria-invalid'), 'true');
    await rule.fill('age >= 60');
    await page.getByText('Valid rule (result: bool).').waitFor();
    await page.getByRole('button', { name: 'How many would match?' }).click();
    const matches = await page.getByText(/registrants? match/).innerText();
    const expected = (await manager.post('/api/v2/rules/preview', { expression: 'age >= 60', subject: 'individual' })).count;
    assert.match(matches, new RegExp(`^${expected} registrant`));
    await page.getByRole('table', { name: 'Memberships by state' }).or(page.getByRole('heading', { name: 'Memberships by state' })).first().waitFor();
    await page.context().close();
  });

  test('a local registrar (Northern Highlands only) cannot find or open a household of another region', async () => {
    const api = await apiSession(server, 'registrar');
    const elsewhere = (await api.get('/api/v2/Group?_count=1&area=DM03')).items[0];
    assert.ok(elsewhere, 'the demo data has households outside DM01');
    const page = await signIn(browser, server, 'registrar-north');
    assert.match(await page.getByTestId('user-roles').innerText(), /in DM01/);
    await page.getByLabel('Households and groups').check();
    await page.getByLabel('Identifier').fill(`household-id|${elsewhere.identifiers[0].value}`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('Nothing matches').waitFor();
    await page.goto(`${server.baseUrl}/households/${elsewhere.id}`);
    await page.getByText('Not found, or outside the areas you may see.').waitFor();
    await page.context().close();
  });

  test('French: the interface and its dates follow the chosen language; tablet width keeps every control reachable', async () => {
    const page = await signIn(browser, server, 'registry-viewer', { width: 820, height: 1180 });
    await page.getByLabel('Language').selectOption('fr');
    await page.getByRole('heading', { name: 'Rechercher dans le registre' }).waitFor();
    const api = await apiSession(server, 'registrar');
    const someone = (await api.get('/api/v2/Individual?_count=1&active=true')).items[0];
    await page.getByLabel('Identifiant').fill(`${someone.identifiers[0].type}|${someone.identifiers[0].value}`);
    await page.getByRole('button', { name: 'Rechercher', exact: true }).click();
    await page.getByText('Les données personnelles sont masquées pour votre rôle.').waitFor();
    const row = page.getByRole('table', { name: 'Résultats' }).locator('tbody tr').first();
    await row.waitFor();
    // The viewer's results are masked by the API: the birth year alone, identifiers starred.
    assert.equal(await row.locator('td').nth(0).innerText(), someone.birthDate.slice(0, 4));
    assert.match(await row.locator('td').nth(4).innerText(), /\*\*\*/);
    await row.getByRole('link').click();
    const registered = page.locator('dt', { hasText: 'Enregistré le' }).locator('xpath=following-sibling::dd');
    assert.match(await registered.innerText(), /^\d{1,2} [a-zéû]+\.? \d{4}/);
    const width = await page.evaluate('document.documentElement.scrollWidth');
    assert.ok(Number(width) <= 820, `no horizontal scrolling at tablet width (${String(width)})`);
    await page.context().close();
  });
});
