import { useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { api, ApiProblem, unwrap } from '../api/client';
import { useArea, useCodeLabel, useVocabulary } from '../api/hooks';
import type { BundleEntryResponse } from '../api/types';
import { AreaPicker } from '../components/AreaPicker';
import { Alert, Button, SelectField, TextField } from '../components/fields';
import { usePageTitle } from '../components/PageTitle';
import { useT } from '../i18n/i18n';
import { checkDraft, emptyHousehold, emptyMember, errorsFromBundle, toBundle, type FieldErrors, type HouseholdDraft, type MemberDraft } from './register-bundle';

type Step = 'household' | 'members' | 'review' | 'done';

/** Register a household and its members: three steps, one $batch transaction, a summary after. */
export function RegisterPage() {
  const t = useT();
  usePageTitle(t('register.title'));
  const [step, setStep] = useState<Step>('household');
  const [draft, setDraft] = useState<HouseholdDraft>(emptyHousehold);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [unplaced, setUnplaced] = useState<string[]>([]);
  const [created, setCreated] = useState<{ id: string; name: string; count: number } | undefined>();
  const heading = useRef<HTMLHeadingElement>(null);
  const roles = useVocabulary('membership-role');
  const genders = useVocabulary('gender');
  const roleLabel = useCodeLabel('membership-role');
  const genderLabel = useCodeLabel('gender');
  const area = useArea(draft.area || undefined);

  const go = (next: Step) => { setStep(next); setTimeout(() => heading.current?.focus(), 0); };
  const localCheck = (which: 'household' | 'members') => {
    const found = checkDraft(draft, which);
    setErrors(Object.fromEntries(Object.entries(found).map(([key, ids]) => [key, ids.map((id) => t(id))])));
    return Object.keys(found).length === 0;
  };
  const submitBundle = useMutation({
    mutationFn: () => unwrap<{ entries: BundleEntryResponse[] }>(api.POST('/api/v2/$batch', { body: toBundle(draft) as never })),
    onSuccess: (response) => {
      const group = response.entries[response.entries.length - 1];
      setCreated({ id: String(group?.resource?.id ?? ''), name: draft.name, count: draft.members.length });
      go('done');
    },
    onError: (error) => {
      if (!(error instanceof ApiProblem)) { setUnplaced([error.message]); return; }
      const mapped = errorsFromBundle(error.errors, draft.members.length);
      setErrors(mapped.fields);
      setUnplaced(mapped.unplaced.length > 0 || Object.keys(mapped.fields).length === 0 ? [error.detail] : []);
      // Send the user back to the step holding the first field at fault.
      go(Object.keys(mapped.fields).some((key) => key.startsWith('household.')) ? 'household' : Object.keys(mapped.fields).length > 0 ? 'members' : 'review');
    },
  });
  const setHousehold = (key: 'name' | 'householdId' | 'area') => (value: string) => setDraft((current) => ({ ...current, [key]: value }));
  const setMember = (index: number, key: keyof MemberDraft) => (value: string) => setDraft((current) => ({
    ...current, members: current.members.map((member, position) => (position === index ? { ...member, [key]: value } : member)),
  }));
  const steps: Array<[Step, 'register.step.household' | 'register.step.members' | 'register.step.review']> = [['household', 'register.step.household'], ['members', 'register.step.members'], ['review', 'register.step.review']];

  if (step === 'done' && created) {
    return (
      <>
        <h1 ref={heading} tabIndex={-1}>{t('register.done')}</h1>
        <Alert kind="success">{t('register.summary', { name: created.name, count: created.count, area: area.data?.name ?? (draft.area || '—') })}</Alert>
        <div className="actions">
          <Link className="button button--primary" to={`/households/${created.id}`}>{t('register.openHousehold')}</Link>
          <Button variant="secondary" onClick={() => { setDraft(emptyHousehold()); setCreated(undefined); setErrors({}); go('household'); }}>{t('register.another')}</Button>
        </div>
      </>
    );
  }

  return (
    <>
      <h1 ref={heading} tabIndex={-1}>{t('register.title')}</h1>
      <p className="lead">{t('register.intro')}</p>
      <ol className="steps">
        {steps.map(([key, label]) => <li key={key} aria-current={step === key ? 'step' : undefined}>{t(label)}</li>)}
      </ol>
      {unplaced.length > 0 ? <Alert kind="error">{t('register.failed', { detail: unplaced.join(' ') })}</Alert> : null}
      {Object.keys(errors).length > 0 ? <Alert kind="error">{t('common.fixErrors')}</Alert> : null}

      {step === 'household' ? (
        <form className="card" noValidate onSubmit={(event: FormEvent) => { event.preventDefault(); if (localCheck('household')) go('members'); }}>
          <TextField label={t('register.householdName')} name="householdName" hint={t('register.householdName.hint')} value={draft.name} onChange={setHousehold('name')} required errors={errors['household.name']} />
          <TextField label={t('register.householdId')} name="householdId" hint={t('register.householdId.hint')} value={draft.householdId} onChange={setHousehold('householdId')} errors={errors['household.householdId']} />
          <AreaPicker label={t('register.area')} value={draft.area} onChange={setHousehold('area')} errors={errors['household.area']} />
          <div className="actions"><Button type="submit">{t('register.next')}</Button></div>
        </form>
      ) : null}

      {step === 'members' ? (
        <form className="card" noValidate onSubmit={(event: FormEvent) => { event.preventDefault(); if (localCheck('members')) go('review'); }}>
          <p>{t('register.headFirst')}</p>
          {draft.members.map((member, index) => (
            <fieldset key={index} className="member-fieldset">
              <legend>{t('register.member', { number: index + 1 })}</legend>
              <div className="grid">
                <TextField label={t('individual.given')} name={`given-${index}`} value={member.given} onChange={setMember(index, 'given')} required errors={errors[`members.${index}.given`]} />
                <TextField label={t('individual.family')} name={`family-${index}`} value={member.family} onChange={setMember(index, 'family')} errors={errors[`members.${index}.family`]} />
                <TextField label={t('individual.birthDate')} name={`birthDate-${index}`} hint="YYYY-MM-DD" value={member.birthDate} onChange={setMember(index, 'birthDate')} errors={errors[`members.${index}.birthDate`]} />
                <SelectField label={t('individual.gender')} name={`gender-${index}`} value={member.gender} onChange={setMember(index, 'gender')} emptyLabel={t('common.none')} options={(genders.data ?? []).map((code) => ({ value: code.code, label: code.label }))} errors={errors[`members.${index}.gender`]} />
                <TextField label={t('register.nationalId')} name={`nationalId-${index}`} value={member.nationalId} onChange={setMember(index, 'nationalId')} errors={errors[`members.${index}.nationalId`]} />
                {index === 0 ? (
                  <p className="field"><span className="field__label">{t('register.role')}</span><span>{roleLabel('head')}</span></p>
                ) : (
                  <SelectField label={t('register.role')} name={`role-${index}`} value={member.role} onChange={setMember(index, 'role')} required emptyLabel="" options={(roles.data ?? []).filter((code) => code.code !== 'head').map((code) => ({ value: code.code, label: code.label }))} errors={errors[`members.${index}.role`]} />
                )}
              </div>
              {index > 0 ? <Button variant="link" onClick={() => setDraft((current) => ({ ...current, members: current.members.filter((_, position) => position !== index) }))}>{t('register.removeMember', { number: index + 1 })}</Button> : null}
            </fieldset>
          ))}
          <Button variant="secondary" onClick={() => setDraft((current) => ({ ...current, members: [...current.members, emptyMember()] }))}>{t('register.addMember')}</Button>
          <div className="actions">
            <Button variant="secondary" onClick={() => go('household')}>{t('register.back')}</Button>
            <Button type="submit">{t('register.next')}</Button>
          </div>
        </form>
      ) : null}

      {step === 'review' ? (
        <div className="card">
          <dl className="facts">
            <div><dt>{t('register.householdName')}</dt><dd>{draft.name}</dd></div>
            <div><dt>{t('register.householdId')}</dt><dd>{draft.householdId || '—'}</dd></div>
            <div><dt>{t('register.area')}</dt><dd>{area.data?.name ?? (draft.area || '—')}</dd></div>
          </dl>
          <table className="table">
            <caption>{t('profile.members')}</caption>
            <thead><tr><th scope="col">{t('search.col.name')}</th><th scope="col">{t('register.role')}</th><th scope="col">{t('individual.birthDate')}</th><th scope="col">{t('individual.gender')}</th><th scope="col">{t('register.nationalId')}</th></tr></thead>
            <tbody>
              {draft.members.map((member, index) => (
                <tr key={index}>
                  <th scope="row">{[member.given, member.family].filter(Boolean).join(' ')}</th>
                  <td>{roleLabel(member.role)}</td><td>{member.birthDate ? t.date(member.birthDate) : '—'}</td><td>{genderLabel(member.gender || null)}</td><td>{member.nationalId || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="actions">
            <Button variant="secondary" onClick={() => go('members')}>{t('register.back')}</Button>
            <Button onClick={() => { setUnplaced([]); submitBundle.mutate(); }} disabled={submitBundle.isPending}>{t('register.submit')}</Button>
          </div>
        </div>
      ) : null}
    </>
  );
}
