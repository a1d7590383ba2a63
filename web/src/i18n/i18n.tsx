import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { IntlProvider, useIntl } from 'react-intl';
import { en, type MessageId } from './en';
import { fr } from './fr';

export const catalogues = { en, fr } as const;
export type Locale = keyof typeof catalogues;
export const locales: Array<{ code: Locale; label: string }> = [{ code: 'en', label: 'English' }, { code: 'fr', label: 'Français' }];

const STORAGE_KEY = 'commonweal.locale';

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'fr') return saved;
  return globalThis.navigator?.language?.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

const LocaleContext = createContext<{ locale: Locale; setLocale(locale: Locale): void }>({ locale: 'en', setLocale: () => {} });

/** The message catalogue of the chosen language (kept in localStorage), with its date and number formats. */
export function I18nProvider({ children, locale: fixed }: { children: ReactNode; locale?: Locale }) {
  const [locale, setLocaleState] = useState<Locale>(fixed ?? initialLocale);
  const setLocale = useCallback((next: Locale) => {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
    document.documentElement.lang = next;
    setLocaleState(next);
  }, []);
  const value = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return (
    <LocaleContext.Provider value={value}>
      <IntlProvider locale={locale} defaultLocale="en" messages={catalogues[locale]}>{children}</IntlProvider>
    </LocaleContext.Provider>
  );
}

export const useLocale = () => useContext(LocaleContext);

type Values = Record<string, string | number | Date | null | undefined>;

/** `t('key', values)`, typed by the English catalogue's keys; dates and numbers in the locale's format. */
export function useT() {
  const intl = useIntl();
  return useMemo(() => {
    const t = (id: MessageId, values?: Values) => intl.formatMessage({ id }, values as Record<string, string | number>);
    return Object.assign(t, {
      // A masked birth date is its year alone ("1970"): shown as it is, never as 1 January.
      date: (iso: string | null | undefined) => (!iso ? '—' : /^\d{4}$/.test(iso) ? iso : intl.formatDate(iso.length === 10 ? `${iso}T00:00:00` : iso, { dateStyle: 'medium' })),
      dateTime: (iso: string | null | undefined) => (iso ? intl.formatDate(iso, { dateStyle: 'medium', timeStyle: 'short' }) : '—'),
      number: (value: number) => intl.formatNumber(value),
      money: (value: number, currency: string) => intl.formatNumber(value, { style: 'currency', currency }),
    });
  }, [intl]);
}

/** Whole years between a YYYY-MM-DD birth date and today; from a year alone (masked), the age reached this year. */
export function ageOf(birthDate: string | null | undefined, today = new Date()): number | undefined {
  if (!birthDate || !/^\d{4}(-\d{2}-\d{2})?$/.test(birthDate)) return undefined;
  if (birthDate.length === 4) return today.getFullYear() - Number(birthDate);
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  let age = today.getFullYear() - year;
  if (today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day)) age -= 1;
  return age;
}
