import type { SystemVocabulary } from './system-vocabularies.js';

// Hand-maintained system vocabularies (English labels). Country and language come from packages
// (see system-vocabularies.ts). Changing anything here re-installs that vocabulary on next start.

const local = (code: string) => `urn:commonweal:vocabulary:${code}`;

export const gender: SystemVocabulary = {
  code: 'gender',
  namespaceUri: 'urn:iso:std:iso:5218',
  name: 'Gender',
  description: 'Sex of a person, ISO/IEC 5218.',
  codes: [
    { code: '0', label: 'Not known' },
    { code: '1', label: 'Male' },
    { code: '2', label: 'Female' },
    { code: '9', label: 'Not applicable' },
  ],
};

/** `inverse` is the role the other person has, so a relationship can be read from both ends. */
export const relationship: SystemVocabulary = {
  code: 'relationship',
  namespaceUri: local('relationship'),
  name: 'Relationship',
  description: 'How one person is related to another (read as: source is the <label> of target).',
  codes: [
    { code: 'spouse', label: 'Spouse', properties: { inverse: 'spouse' } },
    { code: 'parent', label: 'Parent', properties: { inverse: 'child' } },
    { code: 'child', label: 'Child', properties: { inverse: 'parent' } },
    { code: 'sibling', label: 'Sibling', properties: { inverse: 'sibling' } },
    { code: 'grandparent', label: 'Grandparent', properties: { inverse: 'grandchild' } },
    { code: 'grandchild', label: 'Grandchild', properties: { inverse: 'grandparent' } },
    { code: 'guardian', label: 'Guardian', properties: { inverse: 'ward' } },
    { code: 'ward', label: 'Ward', properties: { inverse: 'guardian' } },
    { code: 'other-relative', label: 'Other relative', properties: { inverse: 'other-relative' } },
    { code: 'other', label: 'Other', properties: { inverse: 'other' } },
  ],
};

export const membershipRole: SystemVocabulary = {
  code: 'membership-role',
  namespaceUri: local('membership-role'),
  name: 'Membership role',
  description: 'Role of a member in a group, relative to the head of the group.',
  codes: [
    { code: 'head', label: 'Head' },
    { code: 'spouse', label: 'Spouse of the head' },
    { code: 'child', label: 'Child of the head' },
    { code: 'parent', label: 'Parent of the head' },
    { code: 'sibling', label: 'Sibling of the head' },
    { code: 'grandchild', label: 'Grandchild of the head' },
    { code: 'other-relative', label: 'Other relative' },
    { code: 'non-relative', label: 'Non-relative' },
    { code: 'other', label: 'Other' },
  ],
};

export const groupType: SystemVocabulary = {
  code: 'group-type',
  namespaceUri: local('group-type'),
  name: 'Group type',
  description: 'Kind of group of registrants.',
  codes: [
    { code: 'household', label: 'Household' },
    { code: 'family', label: 'Family' },
    { code: 'community', label: 'Community' },
    { code: 'other', label: 'Other' },
  ],
};

export const civilStatus: SystemVocabulary = {
  code: 'civil-status',
  namespaceUri: local('civil-status'),
  name: 'Civil status',
  description: 'Marital or civil status of a person.',
  codes: [
    { code: 'single', label: 'Single' },
    { code: 'married', label: 'Married' },
    { code: 'divorced', label: 'Divorced' },
    { code: 'widowed', label: 'Widowed' },
    { code: 'separated', label: 'Separated' },
    { code: 'cohabiting', label: 'Cohabiting' },
    { code: 'unknown', label: 'Unknown' },
  ],
};

export const areaKind: SystemVocabulary = {
  code: 'area-kind',
  namespaceUri: local('area-kind'),
  name: 'Area kind',
  description: 'Level of an administrative area.',
  codes: [
    { code: 'country', label: 'Country' },
    { code: 'region', label: 'Region' },
    { code: 'province', label: 'Province' },
    { code: 'district', label: 'District' },
    { code: 'municipality', label: 'Municipality' },
    { code: 'village', label: 'Village' },
  ],
};

export const disabilityType: SystemVocabulary = {
  code: 'disability-type',
  namespaceUri: local('disability-type'),
  name: 'Disability type',
  description: 'Functional domains of the Washington Group Short Set on Functioning (WG-SS).',
  codes: [
    { code: 'seeing', label: 'Seeing, even if wearing glasses' },
    { code: 'hearing', label: 'Hearing, even if using a hearing aid' },
    { code: 'walking', label: 'Walking or climbing steps' },
    { code: 'cognition', label: 'Remembering or concentrating' },
    { code: 'self-care', label: 'Self-care, such as washing all over or dressing' },
    { code: 'communication', label: 'Communicating, such as understanding or being understood' },
  ],
};

/** `system` is the identifier namespace URI used in DCI messages; `pattern` validates values. */
export const idType: SystemVocabulary = {
  code: 'id-type',
  namespaceUri: local('id-type'),
  name: 'Identifier type',
  description: 'Kinds of identifiers a registrant can hold, each with its namespace URI and an optional value pattern.',
  codes: [
    { code: 'national-id', label: 'National ID', properties: { system: 'urn:commonweal:id:national-id', pattern: '^[A-Z0-9]{6,20}$' } },
    { code: 'birth-registration', label: 'Birth registration number', properties: { system: 'urn:commonweal:id:birth-registration' } },
    { code: 'household-id', label: 'Household ID', properties: { system: 'urn:commonweal:id:household-id' } },
    { code: 'passport', label: 'Passport', properties: { system: 'urn:commonweal:id:passport', pattern: '^[A-Z0-9]{6,12}$' } },
    { code: 'tax-id', label: 'Tax ID', properties: { system: 'urn:commonweal:id:tax-id' } },
    { code: 'voter-id', label: 'Voter ID', properties: { system: 'urn:commonweal:id:voter-id' } },
    { code: 'social-security', label: 'Social security number', properties: { system: 'urn:commonweal:id:social-security' } },
  ],
};
