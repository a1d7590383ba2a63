import { useEffect, useId, useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, ApiProblem, unwrap } from '../api/client';
import { Alert, Button } from '../components/fields';
import { useT } from '../i18n/i18n';

/** A pause in typing before the expression is checked again. */
const DEBOUNCE_MS = 400;

function useDebounced<T>(value: T, delay: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return debounced;
}

/**
 * An eligibility rule checked live by the rules engine (type errors with line and column, tied to
 * the text box) and a "how many would match" preview, counted by the API within the user's areas.
 */
export function RuleTester({ initial, subject }: { initial: string; subject: 'individual' | 'group' }) {
  const t = useT();
  const id = useId();
  const [expression, setExpression] = useState(initial);
  const checked = useDebounced(expression, DEBOUNCE_MS);
  const validation = useQuery({
    queryKey: ['rule-validate', subject, checked],
    enabled: checked.trim() !== '',
    retry: false,
    queryFn: () => unwrap<{ valid: boolean; type: string }>(api.POST('/api/v2/rules/validate', { body: { expression: checked, subject } })),
  });
  const preview = useMutation({
    mutationFn: (previewed: string) => unwrap<{ count: number }>(api.POST('/api/v2/rules/preview', { body: { expression: previewed, subject } })),
  });
  // A count shown is always the count of the expression in the box.
  const count = preview.data && preview.variables === expression ? preview.data.count : undefined;
  const problem = validation.error instanceof ApiProblem ? validation.error : undefined;
  const problems = (problem?.errors ?? []) as Array<{ message: string; position?: { line: number; column: number } }>;
  const messages = problems.length > 0
    ? problems.map((error) => (error.position ? t('rules.at', { line: error.position.line, column: error.position.column, message: error.message }) : error.message))
    : problem ? [problem.detail] : [];
  const isStale = checked !== expression || validation.isFetching;
  const statusId = `${id}-status`;

  return (
    <div className="rule-tester">
      <div className={`field${messages.length > 0 ? ' field--invalid' : ''}`}>
        <label htmlFor={id}>{t('rules.expression')}</label>
        <p id={`${id}-hint`} className="field__hint">{t('rules.hint')}</p>
        <textarea
          id={id} value={expression} rows={4} spellCheck={false} className="code"
          aria-invalid={messages.length > 0 || undefined} aria-describedby={`${id}-hint ${statusId}`}
          onChange={(event) => setExpression(event.target.value)}
        />
        <div id={statusId} aria-live="polite">
          {isStale ? <p className="muted">{t('rules.checking')}</p>
            : messages.length > 0 ? <p className="field__error">{messages.join(' ')}</p>
              : validation.data ? <p className="rule-tester__ok">{t('rules.valid', { type: validation.data.type })}</p> : null}
        </div>
      </div>
      <div className="actions">
        <Button variant="secondary" onClick={() => preview.mutate(expression)} disabled={preview.isPending || messages.length > 0 || expression.trim() === ''}>{t('rules.preview')}</Button>
        {count !== undefined ? <p role="status">{t('rules.matches', { count })}</p> : null}
      </div>
      {preview.error instanceof ApiProblem && preview.error.errors.length === 0 ? <Alert kind="error">{preview.error.detail}</Alert> : null}
    </div>
  );
}
