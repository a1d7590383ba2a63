import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, ApiProblem, toProblem, unwrap } from '../api/client';
import { useVocabulary } from '../api/hooks';
import type { Job } from '../api/types';
import { DataTable } from '../components/DataTable';
import { Alert, Button, SelectField, Spinner } from '../components/fields';
import { usePageTitle } from '../components/PageTitle';
import { useT } from '../i18n/i18n';
import { guessField, IMPORT_FIELDS, parseCsvRows, previewFile, type FilePreview } from './file-headers';

const DATE_FORMATS = ['YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY'];
const MAX_SHOWN_PROBLEMS = 200;

interface Problem { row: string; column: string; value: string; reason: string }

async function startImport(file: File, mapping: Record<string, string>, dateFormat: string): Promise<Job> {
  const form = new FormData();
  // The mapping goes before the file, so the server checks it before storing a large file.
  form.append('mappingDocument', JSON.stringify({ columns: mapping, options: { dateFormat } }));
  form.append('file', file, file.name);
  return unwrap<Job>(api.POST('/api/v2/$import', { body: form as never, bodySerializer: (body: unknown) => body as FormData }));
}

/** Upload a CSV/XLSX file, map its columns, follow the job, read and download the per-row report. */
export function ImportPage() {
  const t = useT();
  usePageTitle(t('import.title'));
  const fileId = useId();
  const [file, setFile] = useState<File | undefined>();
  const [preview, setPreview] = useState<FilePreview | undefined>();
  // The user's choices; a column not chosen yet takes its guessed field (once the id types are known).
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [dateFormat, setDateFormat] = useState('YYYY-MM-DD');
  const [readError, setReadError] = useState<string | undefined>();
  const [mappingError, setMappingError] = useState<string | undefined>();
  const idTypes = useVocabulary('id-type');
  const idTypeCodes = (idTypes.data ?? []).map((code) => code.code);
  const mapping: Record<string, string> = Object.fromEntries((preview?.headers ?? []).map((header) => [header, chosen[header] ?? guessField(header, idTypeCodes)]));

  const start = useMutation({ mutationFn: () => startImport(file!, Object.fromEntries(Object.entries(mapping).filter(([, field]) => field !== '')), dateFormat) });
  const jobId = start.data?.id;
  const job = useQuery({
    queryKey: ['job', jobId],
    enabled: Boolean(jobId),
    queryFn: () => unwrap<Job>(api.GET('/api/v2/Job/{id}', { params: { path: { id: jobId! } } })),
    // Live progress: poll while the job waits or runs.
    refetchInterval: (query) => (query.state.data && ['succeeded', 'failed', 'cancelled'].includes(query.state.data.state) ? false : 700),
  });
  const isFinished = job.data?.state === 'succeeded';
  const problemsUrl = jobId ? `/api/v2/$import/${jobId}/problems.csv` : '';
  const problems = useQuery({
    queryKey: ['job', jobId, 'problems'],
    enabled: isFinished,
    queryFn: async () => {
      const response = await fetch(problemsUrl, { credentials: 'same-origin' });
      if (!response.ok) throw toProblem(response.status, await response.json().catch(() => undefined));
      const [, ...rows] = parseCsvRows(await response.text(), MAX_SHOWN_PROBLEMS + 1);
      return rows.filter((row) => row.length >= 4).map(([row = '', column = '', value = '', reason = '']): Problem => ({ row, column, value, reason }));
    },
  });

  const chooseFile = async (chosen: File | undefined) => {
    setFile(chosen);
    setPreview(undefined);
    setReadError(undefined);
    start.reset();
    if (!chosen) return;
    try {
      const read = await previewFile(chosen);
      if (read.headers.length === 0) { setReadError(t('import.noHeaders')); return; }
      setChosen({});
      setPreview(read);
    } catch {
      setReadError(t('import.noHeaders'));
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!Object.values(mapping).some((field) => field.startsWith('identifier:'))) { setMappingError(t('import.needIdentifier')); return; }
    setMappingError(undefined);
    start.mutate();
  };
  const fieldOptions = [
    ...IMPORT_FIELDS.map((field) => ({ value: field, label: field })),
    ...(idTypes.data ?? []).map((code) => ({ value: `identifier:${code.code}`, label: `identifier:${code.code} (${code.label})` })),
  ];
  const startProblem = start.error instanceof ApiProblem ? start.error : undefined;
  const progress = job.data?.progress;

  return (
    <>
      <h1>{t('import.title')}</h1>
      <p className="lead">{t('import.intro')}</p>
      <section className="card" aria-labelledby="import-file">
        <h2 id="import-file">{t('import.step.upload')}</h2>
        <div className="field">
          <label htmlFor={fileId}>{t('import.file')}</label>
          <input id={fileId} type="file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            aria-describedby={readError ? `${fileId}-error` : undefined} aria-invalid={readError ? true : undefined}
            onChange={(event) => void chooseFile(event.target.files?.[0])} />
          {readError ? <p id={`${fileId}-error`} className="field__error">{readError}</p> : null}
        </div>
      </section>

      {preview && !jobId ? (
        <form className="card" onSubmit={submit} noValidate aria-labelledby="import-map">
          <h2 id="import-map">{t('import.step.map')}</h2>
          <table className="table mapping-table">
            <caption className="visually-hidden">{t('import.step.map')}</caption>
            <thead><tr><th scope="col">{t('import.column')}</th><th scope="col">{t('import.sample')}</th><th scope="col">{t('import.field')}</th></tr></thead>
            <tbody>
              {preview.headers.map((header, index) => (
                <tr key={header}>
                  <th scope="row">{header}</th>
                  <td className="muted">{preview.sample[index] ?? ''}</td>
                  <td>
                    <label className="visually-hidden" htmlFor={`map-${index}`}>{`${t('import.field')}: ${header}`}</label>
                    <select id={`map-${index}`} value={mapping[header] ?? ''} onChange={(event) => setChosen({ ...chosen, [header]: event.target.value })}>
                      <option value="">{t('import.skip')}</option>
                      {fieldOptions.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <SelectField label={t('import.dateFormat')} value={dateFormat} onChange={setDateFormat} options={DATE_FORMATS.map((format) => ({ value: format, label: format }))} />
          {mappingError ? <Alert kind="error">{mappingError}</Alert> : null}
          {startProblem ? <Alert kind="error">{t('import.failed', { detail: [startProblem.detail, ...startProblem.errors.map((error) => `${error.path}: ${error.message}`)].join(' ') })}</Alert> : null}
          <div className="actions"><Button type="submit" disabled={start.isPending}>{t('import.start')}</Button></div>
        </form>
      ) : null}

      {jobId ? (
        <section className="card" aria-labelledby="import-progress">
          <h2 id="import-progress">{t('import.step.progress')}</h2>
          {job.data ? (
            <>
              <p role="status">{t('import.state', { state: t(`import.state.${job.data.state}` as 'import.state.queued') })}</p>
              <label htmlFor="import-bar">{progress?.total ? t('import.progress', { done: t.number(progress.done), total: t.number(progress.total) }) : t('import.progressUnknown', { done: t.number(progress?.done ?? 0) })}</label>
              <progress id="import-bar" max={progress?.total ?? undefined} value={progress?.total ? progress.done : undefined} />
            </>
          ) : <Spinner label={t('app.loading')} />}
          {job.data?.state === 'failed' ? <Alert kind="error">{t('import.failed', { detail: String(job.data.error ?? '') })}</Alert> : null}
          {isFinished && job.data?.result ? (
            <>
              <Alert kind="success">{t('import.result', { rows: job.data.result.rows, created: job.data.result.created, updated: job.data.result.updated, rejected: job.data.result.rejected })}</Alert>
              <h3>{t('import.problems')}</h3>
              {problems.data ? (
                <DataTable caption={t('import.problems')} rows={problems.data} rowKey={(row) => `${row.row}-${row.column}-${row.reason}`} empty={t('import.noProblems')} columns={[
                  { key: 'row', header: t('import.col.row'), numeric: true, render: (row) => row.row },
                  { key: 'column', header: t('import.col.column'), render: (row) => row.column || '—' },
                  { key: 'value', header: t('import.col.value'), render: (row) => row.value || '—' },
                  { key: 'reason', header: t('import.col.reason'), render: (row) => row.reason },
                ]} />
              ) : <Spinner label={t('app.loading')} />}
              <div className="actions">
                <a className="button button--secondary" href={problemsUrl} download>{t('import.download')}</a>
                <Button variant="secondary" onClick={() => { start.reset(); setFile(undefined); setPreview(undefined); }}>{t('import.another')}</Button>
              </div>
            </>
          ) : null}
        </section>
      ) : null}
    </>
  );
}
