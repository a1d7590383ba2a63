import { useId, type ButtonHTMLAttributes, type ReactNode } from 'react';

/** The ids a control points to with aria-describedby: its hint and its error messages. */
function describedBy(hintId: string | undefined, errorId: string | undefined): string | undefined {
  return [hintId, errorId].filter(Boolean).join(' ') || undefined;
}

interface FieldProps {
  label: string;
  /** Messages for this field (from the API's `errors[]` or local checks); shown under it and read with it. */
  errors?: string[] | undefined;
  hint?: string | undefined;
  required?: boolean;
}

function FieldFrame({ id, label, hint, errors, required, children }: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className={`field${errors && errors.length > 0 ? ' field--invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {required ? <span aria-hidden="true" className="field__required"> *</span> : null}
      </label>
      {hint ? <p id={`${id}-hint`} className="field__hint">{hint}</p> : null}
      {children}
      {errors && errors.length > 0 ? (
        <p id={`${id}-error`} className="field__error">{errors.join(' ')}</p>
      ) : null}
    </div>
  );
}

export function TextField({
  label, errors, hint, required, value, onChange, type = 'text', name, autoComplete, inputMode, min, max, id: givenId,
}: FieldProps & {
  value: string; onChange(value: string): void; type?: 'text' | 'password' | 'date' | 'number' | 'tel' | 'email' | 'search';
  name?: string; autoComplete?: string; inputMode?: 'numeric' | 'tel' | 'text'; min?: number | string; max?: number | string; id?: string;
}) {
  const generated = useId();
  const id = givenId ?? generated;
  const hasError = Boolean(errors && errors.length > 0);
  return (
    <FieldFrame id={id} label={label} hint={hint} errors={errors} required={required}>
      <input
        id={id} name={name} type={type} value={value} autoComplete={autoComplete} inputMode={inputMode} min={min} max={max}
        required={required} aria-required={required || undefined} aria-invalid={hasError || undefined}
        aria-describedby={describedBy(hint ? `${id}-hint` : undefined, hasError ? `${id}-error` : undefined)}
        onChange={(event) => onChange(event.target.value)}
      />
    </FieldFrame>
  );
}

export interface Option { value: string; label: string }

export function SelectField({
  label, errors, hint, required, value, onChange, options, emptyLabel, name, id: givenId,
}: FieldProps & { value: string; onChange(value: string): void; options: Option[]; emptyLabel?: string; name?: string; id?: string }) {
  const generated = useId();
  const id = givenId ?? generated;
  const hasError = Boolean(errors && errors.length > 0);
  return (
    <FieldFrame id={id} label={label} hint={hint} errors={errors} required={required}>
      <select
        id={id} name={name} value={value} required={required} aria-invalid={hasError || undefined}
        aria-describedby={describedBy(hint ? `${id}-hint` : undefined, hasError ? `${id}-error` : undefined)}
        onChange={(event) => onChange(event.target.value)}
      >
        {emptyLabel !== undefined ? <option value="">{emptyLabel}</option> : null}
        {options.map((option) => <option key={option.value} value={option.value}>{option.label}</option>)}
      </select>
    </FieldFrame>
  );
}

export function Button({ variant = 'primary', className, type = 'button', ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: 'primary' | 'secondary' | 'danger' | 'link' }) {
  return <button type={type} className={`button button--${variant}${className ? ` ${className}` : ''}`} {...props} />;
}

/** A message for everyone: `error` is announced at once (role=alert), `success`/`info` politely (role=status). */
export function Alert({ kind, children }: { kind: 'error' | 'success' | 'info'; children: ReactNode }) {
  return <div role={kind === 'error' ? 'alert' : 'status'} className={`alert alert--${kind}`}>{children}</div>;
}

export function Spinner({ label }: { label: string }) {
  return <p role="status" className="spinner">{label}</p>;
}
