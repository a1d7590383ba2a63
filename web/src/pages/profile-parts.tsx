import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiProblem, unwrap, unwrapWithEtag } from '../api/client';
import { useArea } from '../api/hooks';
import type { Group, HistoryEntry, Identifier, Individual } from '../api/types';
import { DataTable } from '../components/DataTable';
import { Alert, Button, TextField } from '../components/fields';
import { useT } from '../i18n/i18n';

export type Kind = 'individual' | 'group';

export function useRegistrant<T extends Individual | Group>(kind: Kind, id: string) {
  return useQuery({
    queryKey: [kind, id],
    queryFn: () => (kind === 'individual'
      ? unwrapWithEtag<T>(api.GET('/api/v2/Individual/{ref}', { params: { path: { ref: id } } }))
      : unwrapWithEtag<T>(api.GET('/api/v2/Group/{ref}', { params: { path: { ref: id } } }))),
  });
}

export function useHistory(kind: Kind, id: string) {
  return useQuery({
    queryKey: [kind, id, 'history'],
    queryFn: async () => (await unwrap<{ items: HistoryEntry[] }>(kind === 'individual'
      ? api.GET('/api/v2/Individual/{ref}/_history', { params: { path: { ref: id } } })
      : api.GET('/api/v2/Group/{ref}/_history', { params: { path: { ref: id } } }))).items,
  });
}

export function Section({ title, children, id }: { title: string; children: ReactNode; id: string }) {
  return (
    <section aria-labelledby={id} className="card">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** Definition list of label → value pairs. */
export function Facts({ items }: { items: Array<[string, ReactNode]> }) {
  return (
    <dl className="facts">
      {items.map(([label, value]) => (
        <div key={label}><dt>{label}</dt><dd>{value ?? '—'}</dd></div>
      ))}
    </dl>
  );
}

export function AreaName({ code }: { code: string | null }) {
  const area = useArea(code);
  if (!code) return <>—</>;
  const ancestors = area.data?.ancestors?.map((ancestor) => ancestor.name) ?? [];
  return <>{area.data ? [...ancestors, area.data.name].join(' › ') : code} <span className="muted">({code})</span></>;
}

export function IdentifiersTable({ identifiers }: { identifiers: Identifier[] }) {
  const t = useT();
  return (
    <DataTable caption={t('profile.identifiers')} rows={identifiers} rowKey={(row) => `${row.type}|${row.value}`} empty={t('common.none')} columns={[
      { key: 'type', header: t('profile.type'), render: (row) => row.type },
      { key: 'value', header: t('search.identifier'), render: (row) => row.value },
      { key: 'valid', header: t('common.status'), render: (row) => (row.isValid ? t('profile.valid') : `${t('profile.invalid')}${row.invalidReason ? `: ${row.invalidReason}` : ''}`) },
    ]} />
  );
}

/** The fields an audit entry changed: keys whose value differs between before and after. */
export function changedFields(entry: HistoryEntry): string[] {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => key !== 'version' && JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .sort();
}

export function HistoryTable({ kind, id }: { kind: Kind; id: string }) {
  const t = useT();
  const history = useHistory(kind, id);
  if (history.isLoading) return <p className="muted">{t('app.loading')}</p>;
  if (history.error) return <Alert kind="error">{t('common.error', { detail: history.error.message })}</Alert>;
  const rows = [...(history.data ?? [])].reverse();
  return (
    <DataTable caption={t('profile.history')} rows={rows} rowKey={(row) => `${row.occurredAt}-${row.action}-${row.requestId ?? ''}`} empty={t('profile.historyEmpty')} columns={[
      { key: 'when', header: t('profile.history.when'), render: (row) => t.dateTime(row.occurredAt) },
      { key: 'actor', header: t('profile.history.actor'), render: (row) => row.actor.id },
      { key: 'what', header: t('profile.history.what'), render: (row) => t('profile.history.fields', { action: row.action, fields: changedFields(row).join(', ') || '—' }) },
    ]} />
  );
}

/** "Deactivate with a reason": an inline form behind a button, for individuals and groups alike. */
export function DeactivateAction({ kind, id }: { kind: Kind; id: string }) {
  const t = useT();
  const queryClient = useQueryClient();
  const [isOpen, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const deactivate = useMutation({
    mutationFn: () => unwrap(kind === 'individual'
      ? api.POST('/api/v2/Individual/{ref}/$deactivate', { params: { path: { ref: id } }, body: { reason } })
      : api.POST('/api/v2/Group/{ref}/$deactivate', { params: { path: { ref: id } }, body: { reason } })),
    onSuccess: () => { setOpen(false); void queryClient.invalidateQueries({ queryKey: [kind, id] }); },
  });
  const problem = deactivate.error instanceof ApiProblem ? deactivate.error : undefined;
  const submit = (event: FormEvent) => { event.preventDefault(); deactivate.mutate(); };
  if (!isOpen) {
    return (
      <>
        {deactivate.isSuccess ? <Alert kind="success">{t('household.deactivated')}</Alert> : null}
        <Button variant="danger" onClick={() => setOpen(true)}>{t('household.deactivate')}</Button>
      </>
    );
  }
  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <TextField label={t('household.deactivateReason')} value={reason} onChange={setReason} required errors={problem?.messagesFor('/reason')} />
      {problem && problem.errors.length === 0 ? <Alert kind="error">{problem.detail}</Alert> : null}
      <div className="actions">
        <Button type="submit" variant="danger" disabled={deactivate.isPending}>{t('household.deactivate')}</Button>
        <Button variant="secondary" onClick={() => setOpen(false)}>{t('common.cancel')}</Button>
      </div>
    </form>
  );
}
