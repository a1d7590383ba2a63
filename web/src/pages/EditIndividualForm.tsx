import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api, ApiProblem, unwrapWithEtag } from '../api/client';
import { useVocabulary } from '../api/hooks';
import type { Individual } from '../api/types';
import { Alert, Button, SelectField, TextField } from '../components/fields';
import { useT } from '../i18n/i18n';

interface EditValues { given: string; family: string; additional: string; birthDate: string; gender: string; civilStatus: string; phone: string; area: string }

function valuesOf(person: Individual): EditValues {
  return {
    given: person.name.given ?? '', family: person.name.family ?? '', additional: person.name.additional ?? '',
    birthDate: person.birthDate ?? '', gender: person.gender ?? '', civilStatus: person.civilStatus ?? '',
    phone: person.phones[0]?.value ?? '', area: person.area ?? '',
  };
}

/** A JSON merge patch of what changed: an emptied field becomes null (cleared). */
export function patchOf(before: EditValues, after: EditValues, phones: Individual['phones']): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const value = (text: string) => (text.trim() === '' ? null : text.trim());
  const name: Record<string, unknown> = {};
  for (const key of ['given', 'family', 'additional'] as const) if (before[key] !== after[key]) name[key] = value(after[key]);
  if (Object.keys(name).length > 0) patch.name = name;
  for (const key of ['birthDate', 'gender', 'civilStatus', 'area'] as const) if (before[key] !== after[key]) patch[key] = value(after[key]);
  if (before.phone !== after.phone) {
    const rest = phones.slice(1);
    patch.phones = after.phone.trim() === '' ? (rest.length > 0 ? rest : null) : [{ value: after.phone.trim(), use: phones[0]?.use ?? 'mobile' }, ...rest];
  }
  return patch;
}

/**
 * Edits a person with the API as the judge: the merge patch goes with If-Match, and each message
 * the API returns is shown under its field (aria-describedby), the rest above the form.
 */
export function EditIndividualForm({ person, etag, onSaved, onCancel }: { person: Individual; etag: string | null; onSaved(updated: Individual): void; onCancel(): void }) {
  const t = useT();
  const initial = valuesOf(person);
  const [values, setValues] = useState<EditValues>(initial);
  const genders = useVocabulary('gender');
  const civilStatuses = useVocabulary('civil-status');
  const save = useMutation({
    mutationFn: () => unwrapWithEtag<Individual>(api.PATCH('/api/v2/Individual/{ref}', {
      params: { path: { ref: person.id }, header: { 'if-match': etag ?? '' } as never },
      body: patchOf(initial, values, person.phones) as never,
      headers: { 'content-type': 'application/merge-patch+json', 'if-match': etag ?? '' },
    })),
    onSuccess: ({ data }) => onSaved(data),
  });
  const problem = save.error instanceof ApiProblem ? save.error : undefined;
  const errorsOf = (...paths: string[]) => {
    const messages = paths.flatMap((path) => problem?.messagesFor(path) ?? []);
    return messages.length > 0 ? [...new Set(messages.filter((message) => !/^must (be null|match a schema in anyOf)$/.test(message)))] : undefined;
  };
  const set = (key: keyof EditValues) => (value: string) => setValues((current) => ({ ...current, [key]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (Object.keys(patchOf(initial, values, person.phones)).length === 0) { onCancel(); return; }
    save.mutate();
  };
  const fieldPaths = ['/name', '/birthDate', '/gender', '/civilStatus', '/phones', '/area'];
  const unplaced = problem && (problem.errors.length === 0 || problem.errors.some((error) => !fieldPaths.some((path) => error.path.startsWith(path))));

  return (
    <form className="card edit-form" onSubmit={submit} noValidate aria-labelledby="edit-title">
      <h2 id="edit-title">{t('individual.edit')}</h2>
      {problem && problem.errors.length > 0 ? <Alert kind="error">{t('common.fixErrors')}</Alert> : null}
      {unplaced ? <Alert kind="error">{problem.status === 412 || problem.status === 409 ? t('individual.conflict') : problem.detail}</Alert> : null}
      <div className="grid">
        <TextField label={t('individual.given')} name="given" value={values.given} onChange={set('given')} errors={errorsOf('/name/given')} autoComplete="off" />
        <TextField label={t('individual.family')} name="family" value={values.family} onChange={set('family')} errors={errorsOf('/name/family')} autoComplete="off" />
        <TextField label={t('individual.additional')} name="additional" value={values.additional} onChange={set('additional')} errors={errorsOf('/name/additional')} autoComplete="off" />
        <TextField label={t('individual.birthDate')} name="birthDate" value={values.birthDate} onChange={set('birthDate')} hint="YYYY-MM-DD" errors={errorsOf('/birthDate')} />
        <SelectField label={t('individual.gender')} name="gender" value={values.gender} onChange={set('gender')} emptyLabel={t('common.none')} options={(genders.data ?? []).map((code) => ({ value: code.code, label: code.label }))} errors={errorsOf('/gender')} />
        <SelectField label={t('individual.civilStatus')} name="civilStatus" value={values.civilStatus} onChange={set('civilStatus')} emptyLabel={t('common.none')} options={(civilStatuses.data ?? []).map((code) => ({ value: code.code, label: code.label }))} errors={errorsOf('/civilStatus')} />
        <TextField label={t('individual.phone')} name="phone" type="tel" value={values.phone} onChange={set('phone')} errors={errorsOf('/phones')} />
        <TextField label={t('individual.area')} name="area" value={values.area} onChange={set('area')} errors={errorsOf('/area')} />
      </div>
      <div className="actions">
        <Button type="submit" disabled={save.isPending}>{t('common.save')}</Button>
        <Button variant="secondary" onClick={onCancel}>{t('common.cancel')}</Button>
      </div>
    </form>
  );
}
