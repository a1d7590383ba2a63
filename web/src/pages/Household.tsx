import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiProblem, unwrap } from '../api/client';
import { useCodeLabel, useVocabulary } from '../api/hooks';
import type { Group, Individual, Membership, SearchResult } from '../api/types';
import { useAuth } from '../auth/auth';
import { DataTable } from '../components/DataTable';
import { Alert, Button, SelectField, Spinner, TextField } from '../components/fields';
import { usePageTitle } from '../components/PageTitle';
import { ageOf, useT } from '../i18n/i18n';
import { AreaName, DeactivateAction, Facts, HistoryTable, IdentifiersTable, Section, useRegistrant } from './profile-parts';

interface MemberRow { membership: Membership; person: Individual | undefined }

function useMembers(groupId: string, withHistory: boolean) {
  const memberships = useQuery({
    queryKey: ['group', groupId, 'members', withHistory],
    queryFn: async () => (await unwrap<{ items: Membership[] }>(api.GET('/api/v2/Group/{ref}/members', { params: { path: { ref: groupId }, query: { history: withHistory } } }))).items,
  });
  // Names and ages of the current members in one search; an ended member is looked up on its own.
  const people = useQuery({
    queryKey: ['group', groupId, 'people'],
    queryFn: async () => (await unwrap<SearchResult<Individual>>(api.GET('/api/v2/Individual', { params: { query: { group: groupId, _count: '100' } } }))).items,
  });
  const rows: MemberRow[] = (memberships.data ?? []).map((membership) => ({ membership, person: people.data?.find((person) => person.id === membership.individual) }));
  return { rows, isLoading: memberships.isLoading || people.isLoading, error: memberships.error ?? people.error };
}

function PersonName({ row }: { row: MemberRow }) {
  const lookup = useQuery({
    queryKey: ['individual', row.membership.individual, 'name'],
    enabled: !row.person && Boolean(row.membership.individual),
    queryFn: () => unwrap<Individual>(api.GET('/api/v2/Individual/{ref}', { params: { path: { ref: row.membership.individual! } } })),
  });
  const person = row.person ?? lookup.data;
  return <Link to={`/individuals/${row.membership.individual}`}>{person?.name.display ?? row.membership.individual}</Link>;
}

export function HouseholdPage() {
  const { id = '' } = useParams();
  const t = useT();
  const { can } = useAuth();
  const [showEnded, setShowEnded] = useState(false);
  const group = useRegistrant<Group>('group', id);
  usePageTitle(group.data?.data.name);
  const members = useMembers(id, showEnded);
  const roleLabel = useCodeLabel('membership-role');
  const groupTypeLabel = useCodeLabel('group-type');
  const canWrite = can('group:write');

  if (group.isLoading) return <Spinner label={t('app.loading')} />;
  if (group.error) return <Alert kind="error">{group.error instanceof ApiProblem && group.error.status === 404 ? t('common.notFound') : t('common.error', { detail: group.error.message })}</Alert>;
  const household = group.data!.data;

  return (
    <>
      <p><Link to="/">{t('common.back')}</Link></p>
      <h1>{household.name}</h1>
      <p className="lead">
        {groupTypeLabel(household.groupType)} · {t('household.size', { count: household.size })} · {household.isActive ? t('common.active') : t('common.inactive')}
      </p>
      {household.deactivation ? <Alert kind="info">{t('profile.deactivated', { date: t.date(household.deactivation.date), reason: household.deactivation.reason ?? '' })}</Alert> : null}
      <div className="profile-grid">
        <Section title={t('profile.summary')} id="summary">
          <Facts items={[
            [t('profile.area'), <AreaName code={household.area} />],
            [t('profile.address'), household.addresses.map((address) => [...(address.line ?? []), address.city, address.district].filter(Boolean).join(', ')).join(' / ') || '—'],
            [t('profile.phones'), household.phones.map((phone) => phone.value).join(', ') || '—'],
            [t('profile.income'), household.income ? t.money(household.income.monthly, household.income.currency) : '—'],
            [t('profile.registered'), t.dateTime(household.createdAt)],
            [t('profile.updated'), t.dateTime(household.updatedAt)],
          ]} />
          {canWrite && household.isActive ? <DeactivateAction kind="group" id={id} /> : null}
        </Section>
        <Section title={t('profile.identifiers')} id="identifiers">
          <IdentifiersTable identifiers={household.identifiers} />
        </Section>
      </div>
      <Section title={t('profile.members')} id="members">
        <label className="checkbox">
          <input type="checkbox" checked={showEnded} onChange={(event) => setShowEnded(event.target.checked)} /> {t('profile.showEnded')}
        </label>
        {members.isLoading ? <Spinner label={t('app.loading')} /> : null}
        {members.error ? <Alert kind="error">{t('common.error', { detail: members.error.message })}</Alert> : null}
        <DataTable caption={t('profile.members')} rows={members.rows} rowKey={(row) => row.membership.id} columns={[
          { key: 'name', header: t('search.col.name'), render: (row) => <PersonName row={row} /> },
          { key: 'role', header: t('profile.role'), render: (row) => roleLabel(row.membership.role) },
          { key: 'age', header: t('profile.age'), numeric: true, render: (row) => ageOf(row.person?.birthDate) ?? '—' },
          { key: 'since', header: t('profile.since'), render: (row) => t.date(row.membership.startDate) },
          { key: 'ended', header: t('profile.ended'), render: (row) => (row.membership.endDate ? `${t.date(row.membership.endDate)}${row.membership.endReason ? ` (${row.membership.endReason})` : ''}` : '—') },
          ...(canWrite && household.isActive ? [{ key: 'actions', header: t('common.actions'), render: (row: MemberRow) => (row.membership.isActive ? <MemberActions groupId={id} row={row} isHead={household.head === row.membership.individual} /> : null) }] : []),
        ]} />
        {canWrite && household.isActive ? <AddMember groupId={id} /> : null}
        <p className="muted">{t('profile.notLater')}</p>
      </Section>
      <Section title={t('profile.history')} id="history">
        <HistoryTable kind="group" id={id} />
      </Section>
    </>
  );
}

function useGroupChange(groupId: string) {
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries({ queryKey: ['group', groupId] });
    void queryClient.invalidateQueries({ queryKey: ['individual'] });
  };
}

function MemberActions({ groupId, row, isHead }: { groupId: string; row: MemberRow; isHead: boolean }) {
  const t = useT();
  const refresh = useGroupChange(groupId);
  const [isEnding, setEnding] = useState(false);
  const [reason, setReason] = useState('');
  const individual = row.membership.individual!;
  const name = row.person?.name.display ?? individual;
  const changeHead = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v2/Group/{ref}/$change-head', { params: { path: { ref: groupId } }, body: { individual } })),
    onSuccess: refresh,
  });
  const end = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v2/Group/{ref}/members/{individual}/$end', { params: { path: { ref: groupId, individual } }, body: { reason } })),
    onSuccess: () => { setEnding(false); refresh(); },
  });
  const problem = [changeHead.error, end.error].find((error) => error instanceof ApiProblem) as ApiProblem | undefined;
  if (isEnding) {
    return (
      <form className="inline-form" noValidate onSubmit={(event: FormEvent) => { event.preventDefault(); end.mutate(); }}>
        <TextField label={t('household.endReason')} value={reason} onChange={setReason} required errors={problem?.messagesFor('/reason')} />
        <div className="actions">
          <Button type="submit" variant="danger" disabled={end.isPending}>{t('household.endMember')}</Button>
          <Button variant="secondary" onClick={() => setEnding(false)}>{t('common.cancel')}</Button>
        </div>
      </form>
    );
  }
  return (
    <div className="row-actions">
      {!isHead ? <Button variant="secondary" aria-label={`${t('household.changeHead')}: ${name}`} onClick={() => changeHead.mutate()} disabled={changeHead.isPending}>{t('household.changeHead')}</Button> : null}
      <Button variant="secondary" aria-label={`${t('household.endMember')}: ${name}`} onClick={() => setEnding(true)}>{t('household.endMember')}</Button>
      {problem && problem.errors.length === 0 ? <Alert kind="error">{problem.detail}</Alert> : null}
    </div>
  );
}

function AddMember({ groupId }: { groupId: string }) {
  const t = useT();
  const refresh = useGroupChange(groupId);
  const roles = useVocabulary('membership-role');
  const [isOpen, setOpen] = useState(false);
  const [individual, setIndividual] = useState('');
  const [role, setRole] = useState('');
  const add = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v2/Group/{ref}/members', { params: { path: { ref: groupId } }, body: { individual, role } })),
    onSuccess: () => { setOpen(false); setIndividual(''); setRole(''); refresh(); },
  });
  const problem = add.error instanceof ApiProblem ? add.error : undefined;
  if (!isOpen) {
    return (
      <>
        {add.isSuccess ? <Alert kind="success">{t('household.memberAdded')}</Alert> : null}
        <Button onClick={() => setOpen(true)}>{t('household.addMember')}</Button>
      </>
    );
  }
  return (
    <form className="inline-form" noValidate onSubmit={(event: FormEvent) => { event.preventDefault(); add.mutate(); }}>
      <h3>{t('household.addMember')}</h3>
      <div className="grid">
        <TextField label={t('household.memberRef')} value={individual} onChange={setIndividual} required errors={problem?.messagesFor('/individual')} />
        <SelectField label={t('household.memberRole')} value={role} onChange={setRole} required emptyLabel="" options={(roles.data ?? []).map((code) => ({ value: code.code, label: code.label }))} errors={problem?.messagesFor('/role')} />
      </div>
      {problem && problem.errors.length === 0 ? <Alert kind="error">{problem.detail}</Alert> : null}
      <div className="actions">
        <Button type="submit" disabled={add.isPending}>{t('household.addMember')}</Button>
        <Button variant="secondary" onClick={() => setOpen(false)}>{t('common.cancel')}</Button>
      </div>
    </form>
  );
}
