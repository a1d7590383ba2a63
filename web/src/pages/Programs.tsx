import { Link, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { api, ApiProblem, unwrap } from '../api/client';
import type { Program, ProgramFigures, SearchResult } from '../api/types';
import { DataTable } from '../components/DataTable';
import { usePageTitle } from '../components/PageTitle';
import { Alert, Spinner } from '../components/fields';
import { useT } from '../i18n/i18n';
import { RuleTester } from './RuleTester';
import { Facts, Section } from './profile-parts';

export function ProgramsPage() {
  const t = useT();
  usePageTitle(t('programs.title'));
  const programs = useQuery({
    queryKey: ['programs'],
    queryFn: () => unwrap<SearchResult<Program>>(api.GET('/api/v2/Program', { params: { query: { _count: 100 } as never } })),
  });
  return (
    <>
      <h1>{t('programs.title')}</h1>
      <p className="lead">{t('programs.intro')}</p>
      {programs.isLoading ? <Spinner label={t('app.loading')} /> : null}
      {programs.error ? <Alert kind="error">{t('common.error', { detail: programs.error.message })}</Alert> : null}
      {programs.data ? (
        <DataTable caption={t('programs.title')} rows={programs.data.items} rowKey={(row) => row.id} empty={t('programs.none')} columns={[
          { key: 'name', header: t('search.col.name'), render: (row) => <Link to={`/programs/${row.id}`}>{row.name}</Link> },
          { key: 'code', header: t('programs.code'), render: (row) => row.code },
          { key: 'state', header: t('common.status'), render: (row) => row.state },
          { key: 'target', header: t('programs.target'), render: (row) => t(row.targetType === 'group' ? 'search.kind.group' : 'search.kind.individual') },
          { key: 'balance', header: t('programs.balance'), numeric: true, render: (row) => t.money(Number(row.funds.balance), row.currency) },
        ]} />
      ) : null}
    </>
  );
}

/** A bar as wide as its share of the largest value; the number itself is always written beside it. */
function Bar({ value, max }: { value: number; max: number }) {
  const width = max > 0 ? Math.round((value / max) * 100) : 0;
  return <span className="bar" aria-hidden="true"><span className="bar__fill" ref={(element) => { if (element) element.style.width = `${width}%`; }} /></span>;
}

export function ProgramPage() {
  const { ref = '' } = useParams();
  const t = useT();
  const program = useQuery({ queryKey: ['program', ref], queryFn: () => unwrap<Program>(api.GET('/api/v2/Program/{ref}', { params: { path: { ref } } })) });
  const figures = useQuery({ queryKey: ['program', ref, 'figures'], queryFn: () => unwrap<ProgramFigures>(api.GET('/api/v2/Program/{ref}/$figures', { params: { path: { ref } } })) });
  usePageTitle(program.data?.name);
  if (program.isLoading) return <Spinner label={t('app.loading')} />;
  if (program.error) return <Alert kind="error">{program.error instanceof ApiProblem && program.error.status === 404 ? t('common.notFound') : t('common.error', { detail: program.error.message })}</Alert>;
  const data = program.data!;
  const money = (amount: string) => t.money(Number(amount), data.currency);
  const states = Object.entries(figures.data?.memberships ?? {});
  const maxArea = Math.max(0, ...(figures.data?.enrolledByArea ?? []).map((row) => row.count));
  const maxCycle = Math.max(0, ...(figures.data?.cycles ?? []).map((row) => Number(row.planned)));

  return (
    <>
      <p><Link to="/programs">{t('common.back')}</Link></p>
      <h1>{data.name}</h1>
      <p className="lead">{data.code} · {data.state} · {t(data.targetType === 'group' ? 'search.kind.group' : 'search.kind.individual')}</p>
      <div className="profile-grid">
        <Section title={t('profile.summary')} id="summary">
          <Facts items={[
            [t('programs.deposited'), money(data.funds.deposited)],
            [t('programs.committed'), money(data.funds.committed)],
            [t('programs.balance'), money(data.funds.balance)],
            [t('programs.cashFormula'), data.cashFormula ? <code>{data.cashFormula}</code> : '—'],
          ]} />
          {data.description ? <p>{data.description}</p> : null}
        </Section>
        <Section title={t('programs.memberships')} id="memberships">
          <DataTable caption={t('programs.memberships')} rows={states} rowKey={([state]) => state} empty={t('common.none')} columns={[
            { key: 'state', header: t('common.status'), render: ([state]) => state },
            { key: 'count', header: t('programs.count'), numeric: true, render: ([, count]) => t.number(count) },
          ]} />
        </Section>
      </div>
      <Section title={t('programs.eligibility')} id="eligibility">
        <RuleTester initial={data.eligibilityRule} subject={data.targetType} />
      </Section>
      <div className="profile-grid">
        <Section title={t('programs.byArea')} id="by-area">
          <DataTable caption={t('programs.byArea')} rows={figures.data?.enrolledByArea ?? []} rowKey={(row) => row.area ?? '-'} empty={t('common.none')} columns={[
            { key: 'area', header: t('profile.area'), render: (row) => row.area ?? '—' },
            { key: 'count', header: t('programs.count'), numeric: true, render: (row) => t.number(row.count) },
            { key: 'bar', header: '', render: (row) => <Bar value={row.count} max={maxArea} /> },
          ]} />
        </Section>
        <Section title={t('programs.cycles')} id="cycles">
          <DataTable caption={t('programs.cycles')} rows={figures.data?.cycles ?? []} rowKey={(row) => row.id} empty={t('common.none')} columns={[
            { key: 'name', header: t('search.col.name'), render: (row) => `${row.sequence}. ${row.name}` },
            { key: 'state', header: t('common.status'), render: (row) => row.state },
            { key: 'planned', header: t('programs.planned'), numeric: true, render: (row) => money(row.planned) },
            { key: 'paid', header: t('programs.paid'), numeric: true, render: (row) => money(row.paid) },
            { key: 'bar', header: '', render: (row) => <Bar value={Number(row.paid)} max={maxCycle} /> },
          ]} />
        </Section>
      </div>
    </>
  );
}
