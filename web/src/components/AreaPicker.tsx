import { useId, useState } from 'react';
import { useArea, useAreaChildren, useAreaSearch } from '../api/hooks';
import type { Area } from '../api/types';
import { useT } from '../i18n/i18n';
import { Button } from './fields';

/**
 * Picks an area from the tree (children load when a branch opens) or by typing part of its name.
 * Plain buttons and lists: every step works with Tab, Enter and Space, and says what it does.
 */
export function AreaPicker({ label, value, onChange, errors }: { label: string; value: string; onChange(code: string): void; errors?: string[] | undefined }) {
  const t = useT();
  const id = useId();
  const [isOpen, setOpen] = useState(false);
  const [filter, setFilter] = useState('');
  const selected = useArea(value || undefined);
  const found = useAreaSearch(filter);
  const choose = (code: string) => { onChange(code); setOpen(false); setFilter(''); };
  const hasError = Boolean(errors && errors.length > 0);

  return (
    <div className={`field area-picker${hasError ? ' field--invalid' : ''}`} role="group" aria-labelledby={`${id}-label`}>
      <span id={`${id}-label`} className="field__label">{label}</span>
      <div className="area-picker__value">
        <span id={`${id}-value`}>{value ? `${selected.data?.name ?? value} (${value})` : t('area.all')}</span>
        <Button variant="secondary" aria-expanded={isOpen} aria-controls={`${id}-panel`} aria-describedby={`${id}-value${hasError ? ` ${id}-error` : ''}`} onClick={() => setOpen(!isOpen)}>
          {t('area.pick')}
        </Button>
        {value ? <Button variant="link" onClick={() => onChange('')}>{t('area.clear')}</Button> : null}
      </div>
      {hasError ? <p id={`${id}-error`} className="field__error">{errors!.join(' ')}</p> : null}
      {isOpen ? (
        <div id={`${id}-panel`} className="area-picker__panel">
          <label htmlFor={`${id}-filter`}>{t('search.name')}</label>
          <input id={`${id}-filter`} type="search" value={filter} onChange={(event) => setFilter(event.target.value)} autoComplete="off" />
          {filter.trim().length >= 2 ? (
            <ul className="area-picker__found">
              {(found.data ?? []).map((area) => (
                <li key={area.code}><Button variant="link" onClick={() => choose(area.code)}>{area.name} <span className="muted">({area.kind}, {area.code})</span></Button></li>
              ))}
            </ul>
          ) : (
            <AreaBranch parent={undefined} onChoose={choose} selected={value} label={t('area.tree')} />
          )}
        </div>
      ) : null}
    </div>
  );
}

function AreaBranch({ parent, onChoose, selected, label }: { parent: string | undefined; onChoose(code: string): void; selected: string; label?: string }) {
  const children = useAreaChildren(parent);
  const t = useT();
  if (children.isLoading) return <p className="muted">{t('app.loading')}</p>;
  return (
    <ul className="area-tree" aria-label={label}>
      {(children.data ?? []).map((area) => <AreaNode key={area.code} area={area} onChoose={onChoose} selected={selected} />)}
    </ul>
  );
}

function AreaNode({ area, onChoose, selected }: { area: Area; onChoose(code: string): void; selected: string }) {
  const t = useT();
  const [isExpanded, setExpanded] = useState(false);
  const isLeaf = area.kind === 'village' || area.kind === 'barangay';
  return (
    <li>
      {isLeaf ? <span className="area-tree__spacer" aria-hidden="true" /> : (
        <button type="button" className="area-tree__toggle" aria-expanded={isExpanded} aria-label={t(isExpanded ? 'area.collapse' : 'area.expand', { name: area.name })} onClick={() => setExpanded(!isExpanded)}>
          {isExpanded ? '−' : '+'}
        </button>
      )}
      <button type="button" className="area-tree__choose" aria-pressed={selected === area.code} aria-label={t('area.select', { name: area.name })} onClick={() => onChoose(area.code)}>
        {area.name} <span className="muted">{area.kind}</span>
      </button>
      {isExpanded ? <AreaBranch parent={area.code} onChoose={onChoose} selected={selected} /> : null}
    </li>
  );
}
