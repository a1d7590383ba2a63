import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth/auth';
import { Alert, Button, TextField } from '../components/fields';
import { usePageTitle } from '../components/PageTitle';
import { locales, useLocale, useT, type Locale } from '../i18n/i18n';

export function SignInPage() {
  const t = useT();
  usePageTitle(t('signIn.title'));
  const { user, signIn, hasSignedOut } = useAuth();
  const { locale, setLocale } = useLocale();
  const navigate = useNavigate();
  const location = useLocation() as { state?: { from?: string } };
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [isBusy, setBusy] = useState(false);
  if (user) return <Navigate to={location.state?.from ?? '/'} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!username || !password) { setError(t('signIn.required')); return; }
    setBusy(true);
    setError(undefined);
    try {
      await signIn(username, password);
      navigate(location.state?.from ?? '/', { replace: true });
    } catch {
      setError(t('signIn.failed'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <div className="sign-in__card">
        <p className="app-header__brand">{t('app.name')}</p>
        <h1>{t('signIn.title')}</h1>
        <p>{t('signIn.intro')}</p>
        {hasSignedOut ? <Alert kind="info">{t('signIn.signedOut')}</Alert> : null}
        {error ? <Alert kind="error">{error}</Alert> : null}
        <form onSubmit={submit} noValidate>
          <TextField label={t('signIn.username')} name="username" value={username} onChange={setUsername} autoComplete="username" required />
          <TextField label={t('signIn.password')} name="password" type="password" value={password} onChange={setPassword} autoComplete="current-password" required />
          <Button type="submit" disabled={isBusy}>{t('signIn.submit')}</Button>
        </form>
        <label htmlFor="locale" className="visually-hidden">{t('app.language')}</label>
        <select id="locale" className="sign-in__locale" value={locale} onChange={(event) => setLocale(event.target.value as Locale)}>
          {locales.map((option) => <option key={option.code} value={option.code} lang={option.code}>{option.label}</option>)}
        </select>
      </div>
    </main>
  );
}
