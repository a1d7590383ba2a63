import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { api, ApiProblem, unwrap } from '../api/client';
import { useCodeLabel, useVocabulary } from '../api/hooks';
import type { Group, Individual, SearchResult } from '../api/types';
import { useAuth } from '../auth/auth';
import { AreaPicker } from '../components/AreaPicker';
import { DataTable, type Column } from '../components/DataTable';
import { Alert, Button, SelectField, Spinner, TextField } from '../components/fields';
import { usePageTitle } from '../components/PageTitle';
import { ageOf, useT } from '../i18n/i18n';
import { checkSearch, cursorOf, formFromParams, hasCriteria, paramsFromForm, toQuery, type SearchForm } from './search-query';

async function search(form: SearchForm, cursor: string | undefined) {
  const query = toQuery(form, cursor) as never;
  return form.kind === 'individual'
    ? unwrap<SearchResult<Individual>>(api.GET('/api/v2/Individual', { params: { query } }))
    : unwrap<SearchResult<Group>>(api.GET('/api/v2/Group', { params: { query } }));
}

/** The registry's landing page: a search form; results only once the user has searched. */
export function SearchPage() {
  const t = useT();
  usePageTitle(t('search.title'));
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const submitted = formFromParams(params);
  const [form, setForm] = useState<SearchForm>(submitted);
  const [localErrors, setLocalErrors] = useState<ReturnType<typeof checkSearch>>({});
  const [needCriteria, setNeedCriteria] = useState(false);
  // Cursors of the pages seen so far in this search (the API links forward only).
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const page = cursors.length - 1;
  const genders = useVocabulary('gender');
  const groupTypes = useVocabulary('group-type');
  const genderLabel = useCodeLabel('gender');
  const groupTypeLabel = useCodeLabel('group-type');

  const paramsKey = params.toString();
  useEffect(() => { setForm(formFromParams(new URLSearchParams(paramsKey))); setCursors([undefined]); }, [paramsKey]);

  const isSearching = hasCriteria(submitted);
  const results = useQuery({
    queryKey: ['search', paramsKey, cursors[page]],
    enabled: isSearching,
    queryFn: () => search(submitted, cursors[page]),
  });
  const problem = results.error instanceof ApiProblem ? results.error : undefined;
  const fieldErrors = (name: string) => {
    const local = localErrors[name as keyof SearchForm];
    const remote = problem?.messagesFor(`query:/${name}`) ?? [];
    return [...(local ? [t(local)] : []), ...remote];
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const errors = checkSearch(form);
    setLocalErrors(errors);
    if (Object.keys(errors).length > 0) return;
    if (!hasCriteria(form)) { setNeedCriteria(true); return; }
    setNeedCriteria(false);
    setParams(paramsFromForm(form));
  };
  const set = (key: keyof SearchForm) => (value: string) => setForm((current) => ({ ...current, [key]: value }));

  const individualColumns: Column<Individual>[] = [
    { key: 'name', header: t('search.col.name'), render: (row) => <Link to={`/individuals/${row.id}`}>{row.name.display}</Link> },
    { key: 'birthDate', header: t('search.col.birthDate'), render: (row) => t.date(row.birthDate) },
    { key: 'age', header: t('search.col.age'), numeric: true, render: (row) => ageOf(row.birthDate) ?? '—' },
    { key: 'gender', header: t('search.col.gender'), render: (row) => genderLabel(row.gender) },
    { key: 'area', header: t('search.col.area'), render: (row) => row.area ?? '—' },
    { key: 'identifiers', header: t('search.col.identifiers'), render: (row) => row.identifiers.filter((id) => id.isValid).map((id) => `${id.type}: ${id.value}`).join(', ') || '—' },
  ];
  const groupColumns: Column<Group>[] = [
    { key: 'name', header: t('search.col.name'), render: (row) => <Link to={`/households/${row.id}`}>{row.name}</Link> },
    { key: 'type', header: t('search.col.type'), render: (row) => groupTypeLabel(row.groupType) },
    { key: 'size', header: t('search.col.size'), numeric: true, render: (row) => t.number(row.size) },
    { key: 'area', header: t('search.col.area'), render: (row) => row.area ?? '—' },
    { key: 'identifiers', header: t('search.col.identifiers'), render: (row) => row.identifiers.filter((id) => id.isValid).map((id) => `${id.type}: ${id.value}`).join(', ') || '—' },
  ];
  const data = results.data;

  return (
    <>
      <h1>{t('search.title')}</h1>
      <p className="lead">{t('search.intro')}</p>
      <form className="search-form card" onSubmit={submit} noValidate role="search">
        <fieldset className="segmented">
          <legend>{t('search.kind')}</legend>
          {(['individual', 'group'] as const).map((kind) => (
            <label key={kind}>
              <input type="radio" name="kind" value={kind} checked={form.kind === kind} onChange={() => set('kind')(kind)} />
              {t(kind === 'individual' ? 'search.kind.individual' : 'search.kind.group')}
            </label>
          ))}
        </fieldset>
        <div className="grid">
          <TextField label={t('search.name')} name="name" type="search" value={form.name} onChange={set('name')} errors={fieldErrors('name')} />
          <TextField label={t('search.identifier')} name="identifier" value={form.identifier} onChange={set('identifier')} hint={t('search.identifier.hint')} errors={fieldErrors('identifier')} />
          {form.kind === 'individual' ? <TextField label={t('search.phone')} name="phone" type="tel" value={form.phone} onChange={set('phone')} errors={fieldErrors('phone')} /> : null}
          <AreaPicker label={t('search.area')} value={form.area} onChange={set('area')} errors={fieldErrors('area')} />
          {form.kind === 'individual' ? (
            <>
              <SelectField label={t('search.gender')} name="gender" value={form.gender} onChange={set('gender')} emptyLabel={t('search.any')} options={(genders.data ?? []).map((code) => ({ value: code.code, label: code.label }))} errors={fieldErrors('gender')} />
              <div className="field-pair">
                <TextField label={t('search.ageFrom')} name="ageFrom" type="number" inputMode="numeric" min={0} max={130} value={form.ageFrom} onChange={set('ageFrom')} errors={fieldErrors('ageFrom')} />
                <TextField label={t('search.ageTo')} name="ageTo" type="number" inputMode="numeric" min={0} max={130} value={form.ageTo} onChange={set('ageTo')} errors={[...fieldErrors('ageTo'), ...fieldErrors('birthdate')]} />
              </div>
            </>
          ) : (
            <SelectField label={t('search.groupType')} name="groupType" value={form.groupType} onChange={set('groupType')} emptyLabel={t('search.any')} options={(groupTypes.data ?? []).map((code) => ({ value: code.code, label: code.label }))} errors={fieldErrors('groupType')} />
          )}
        </div>
        {needCriteria ? <Alert kind="error">{t('search.needCriteria')}</Alert> : null}
        <div className="actions">
          <Button type="submit">{t('search.submit')}</Button>
          <Button variant="secondary" onClick={() => { setParams(new URLSearchParams()); setForm({ ...formFromParams(new URLSearchParams()), kind: form.kind }); }}>{t('search.clear')}</Button>
        </div>
      </form>

      {isSearching ? (
        <section aria-labelledby="results-title" className="results">
          <h2 id="results-title">
            {t('search.results')}
            {data?.total !== undefined ? <span className="muted"> · {t('search.total', { count: data.total })}</span> : null}
          </h2>
          {!can('pii:reveal') ? <p className="muted">{t('common.masked')}</p> : null}
          {results.isLoading ? <Spinner label={t('app.loading')} /> : null}
          {problem && problem.errors.length === 0 ? <Alert kind="error">{t('common.error', { detail: problem.detail })}</Alert> : null}
          {problem && problem.errors.length > 0 ? <Alert kind="error">{t('common.fixErrors')}</Alert> : null}
          {data ? (
            submitted.kind === 'individual'
              ? <DataTable caption={t('search.results')} columns={individualColumns} rows={data.items as Individual[]} rowKey={(row) => row.id} empty={t('search.noResults')} />
              : <DataTable caption={t('search.results')} columns={groupColumns} rows={data.items as Group[]} rowKey={(row) => row.id} empty={t('search.noResults')} />
          ) : null}
          {data && (page > 0 || data.links.next) ? (
            <nav className="pager" aria-label={t('search.results')}>
              <Button variant="secondary" disabled={page === 0} onClick={() => setCursors(cursors.slice(0, -1))}>{t('common.previous')}</Button>
              <span>{t('common.page', { from: page * 20 + 1, to: page * 20 + data.count })}</span>
              <Button variant="secondary" disabled={!data.links.next} onClick={() => setCursors([...cursors, cursorOf(data.links.next)])}>{t('common.next')}</Button>
            </nav>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
