/** Seeded records of the reference registries (fictional people). Identifier values are strings, as the spec's are. */

type Json = Record<string, unknown>;

const id = (type: string, value: string) => ({ identifier_type: type, identifier_value: value });

/** CRVS persons (CRVSPerson shape of the current spec). */
export const CRVS_PERSONS: Json[] = [
  {
    identifier: [id('BRN', 'BR-2024-0042'), id('UIN', '900000042')], name: { given_name: 'Amani', surname: 'Okello' }, sex: 'female',
    birth_date: '2024-03-14', birth_place: { name: 'Central Hospital' }, death_date: '', marital_status: 'S',
    parent1_identifier: id('UIN', '100000001'), parent2_identifier: id('UIN', '100000002'),
  },
  {
    identifier: [id('BRN', 'BR-1985-0007'), id('UIN', '100000001')], name: { given_name: 'Grace', surname: 'Okello' }, sex: 'female',
    birth_date: '1985-06-02', death_date: '', marital_status: 'M',
  },
  {
    identifier: [id('BRN', 'BR-1982-0100'), id('UIN', '100000002')], name: { given_name: 'Joseph', surname: 'Okello' }, sex: 'male',
    birth_date: '1982-01-20', death_date: '', marital_status: 'M',
  },
  {
    identifier: [id('BRN', 'BR-1940-0001'), id('UIN', '100000099')], name: { given_name: 'Esther', surname: 'Achieng' }, sex: 'female',
    birth_date: '1940-09-09', death_date: '2025-11-01', death_place: { name: 'Home' }, marital_status: 'W',
  },
];

/** IBR beneficiaries: who is enrolled in which programmes. */
export const IBR_BENEFICIARIES: Json[] = [
  { identifier: [id('UIN', '100000002')], name: { given_name: 'Joseph', surname: 'Okello' }, programs: [{ programme_identifier: 'PRG-CASH-01', programme_name: 'National Cash Transfer', enrolment_date: '2023-02-01', status: 'active' }] },
  { identifier: [id('UIN', '100000099')], name: { given_name: 'Esther', surname: 'Achieng' }, programs: [{ programme_identifier: 'PRG-PENSION', programme_name: 'Social Pension', enrolment_date: '2010-01-01', status: 'active' }] },
];

/** DR persons: disability status and Washington Group short-set scores (1 no difficulty … 4 cannot do at all). */
export const DR_PERSONS: Json[] = [
  {
    identifier: [id('UIN', '100000001')], name: { given_name: 'Grace', surname: 'Okello' }, has_disability: true,
    disability_details: [{ impairment_type: 'Physical and movement related functions', impairment_level: 'Severe impairment or difficulty', impairment_cause: 'Accident', age_on_set: 'Working age' }],
    functional_scores: { Vision: 1, Hearing: 1, Mobility: 3, Cognition: 1, 'Self-Care': 2, Communication: 1 },
  },
  {
    identifier: [id('UIN', '100000002')], name: { given_name: 'Joseph', surname: 'Okello' }, has_disability: false,
    disability_details: [], functional_scores: { Vision: 1, Hearing: 1, Mobility: 1, Cognition: 1, 'Self-Care': 1, Communication: 1 },
  },
];
