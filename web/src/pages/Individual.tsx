import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiProblem, unwrap } from '../api/client';
import { useCodeLabel } from '../api/hooks';
import type { Group, Individual } from '../api/types';
import { useAuth } from '../auth/auth';
import { DataTable } from '../components/DataTable';
import { Alert, Button, Spinner } from '../components/fields';
import { usePageTitle } from '../components/PageTitle';
import { ageOf, useT } from '../i18n/i18n';
import { EditIndividualForm } from './EditIndividualForm';
import { AreaName, DeactivateAction, Facts, HistoryTable, IdentifiersTable, Section, useRegistrant } from './profile-parts';

function GroupLink({ id }: { id: string }) {
  const group = useQuery({ queryKey: ['group', id], queryFn: () => unwrap<Group>(api.GET('/api/v2/Group/{ref}', { params: { path: { ref: id } } })).then((data) => ({ data, etag: null })) });
  return <Link to={`/households/${id}`}>{group.data?.data.name ?? id}</Link>;
}

function PersonLink({ id }: { id: string }) {
  const person = useQuery({ queryKey: ['individual', id, 'name'], queryFn: () => unwrap<Individual>(api.GET('/api/v2/Individual/{ref}', { params: { path: { ref: id } } })) });
  return <Link to={`/individuals/${id}`}>{person.data?.name.display ?? id}</Link>;
}

export function IndividualPage() {
  const { id = '' } = useParams();
  const t = useT();
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [isEditing, setEditing] = useState(false);
  const [savedNotice, setSavedNotice] = useState(false);
  const registrant = useRegistrant<Individual>('individual', id);
  usePageTitle(registrant.data?.data.name.display);
  const genderLabel = useCodeLabel('gender');
  const roleLabel = useCodeLabel('membership-role');
  const civilLabel = useCodeLabel('civil-status');
  const relationshipLabel = useCodeLabel('relationship');

  if (registrant.isLoading) return <Spinner label={t('app.loading')} />;
  if (registrant.error) return <Alert kind="error">{registrant.error instanceof ApiProblem && registrant.error.status === 404 ? t('common.notFound') : t('common.error', { detail: registrant.error.message })}</Alert>;
  const { data: person, etag } = registrant.data!;
  const canWrite = can('individual:write') && person.isActive;
  const age = ageOf(person.birthDate);

  return (
    <>
      <p><Link to="/">{t('common.back')}</Link></p>
      <h1>{person.name.display}</h1>
      <p className="lead">{genderLabel(person.gender)}{age !== undefined ? ` · ${t('profile.age')} ${age}` : ''} · {person.isActive ? t('common.active') : t('common.inactive')}</p>
      {!can('pii:reveal') ? <p className="muted">{t('common.masked')}</p> : null}
      {savedNotice ? <Alert kind="success">{t('individual.saved')}</Alert> : null}
      {person.deactivation ? <Alert kind="info">{t('profile.deactivated', { date: t.date(person.deactivation.date), reason: person.deactivation.reason ?? '' })}</Alert> : null}
      {isEditing ? (
        <EditIndividualForm
          person={person} etag={etag}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            setSavedNotice(true);
            void queryClient.invalidateQueries({ queryKey: ['individual', id] });
          }}
        />
      ) : null}
      <div className="profile-grid">
        <Section title={t('profile.summary')} id="summary">
          <Facts items={[
            [t('individual.birthDate'), t.date(person.birthDate)],
            [t('individual.civilStatus'), civilLabel(person.civilStatus)],
            [t('individual.disability'), person.disability ? (person.disability.hasDisability ? `${t('common.yes')} ${person.disability.types.join(', ')}` : t('common.no')) : '—'],
            [t('profile.area'), <AreaName code={person.area} />],
            [t('profile.phones'), person.phones.map((phone) => phone.value).join(', ') || '—'],
            [t('profile.email'), person.email ?? '—'],
            [t('profile.registered'), t.dateTime(person.createdAt)],
            [t('profile.updated'), t.dateTime(person.updatedAt)],
          ]} />
          {canWrite && !isEditing ? (
            <div className="actions">
              <Button onClick={() => { setSavedNotice(false); setEditing(true); }}>{t('common.edit')}</Button>
              <DeactivateAction kind="individual" id={id} />
            </div>
          ) : null}
        </Section>
        <Section title={t('profile.identifiers')} id="identifiers">
          <IdentifiersTable identifiers={person.identifiers} />
        </Section>
      </div>
      <div className="profile-grid">
        <Section title={t('profile.memberships')} id="memberships">
          <DataTable caption={t('profile.memberships')} rows={person.memberships ?? []} rowKey={(row) => row.id} empty={t('common.none')} columns={[
            { key: 'group', header: t('household.title'), render: (row) => (row.group ? <GroupLink id={row.group} /> : '—') },
            { key: 'role', header: t('profile.role'), render: (row) => roleLabel(row.role) },
            { key: 'since', header: t('profile.since'), render: (row) => t.date(row.startDate) },
            { key: 'ended', header: t('profile.ended'), render: (row) => (row.endDate ? t.date(row.endDate) : '—') },
          ]} />
        </Section>
        <Section title={t('profile.relationships')} id="relationships">
          <DataTable caption={t('profile.relationships')} rows={person.relationships ?? []} rowKey={(row) => row.id} empty={t('common.none')} columns={[
            { key: 'target', header: t('profile.target'), render: (row) => <PersonLink id={row.target} /> },
            { key: 'type', header: t('profile.type'), render: (row) => relationshipLabel(row.type) },
            { key: 'since', header: t('profile.since'), render: (row) => t.date(row.startDate) },
          ]} />
        </Section>
      </div>
      <Section title={t('profile.history')} id="history">
        <HistoryTable kind="individual" id={id} />
      </Section>
    </>
  );
}
