import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth/auth';
import { locales, useLocale, useT, type Locale } from '../i18n/i18n';
import { Button } from './fields';

/** The frame of every signed-in page: skip link, header with the user and their roles, navigation. */
export function Layout() {
  const t = useT();
  const { user, can, signOut } = useAuth();
  const { locale, setLocale } = useLocale();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const isFirstPage = useRef(true);
  // After a client-side page change, keyboard and screen-reader users start at the new content.
  useEffect(() => {
    if (isFirstPage.current) { isFirstPage.current = false; return; }
    main.current?.focus();
  }, [pathname]);
  const roleText = (user?.roles ?? []).map(({ role, areas }) => `${role} (${areas.length === 0 ? t('role.everywhere') : t('role.inAreas', { areas: areas.join(', ') })})`).join('; ');
  return (
    <>
      <a className="skip-link" href="#main">{t('app.skip')}</a>
      <header className="app-header">
        <div className="app-header__brand">{t('app.name')}</div>
        <nav aria-label={t('app.nav')} className="app-nav">
          <NavLink to="/" end>{t('nav.search')}</NavLink>
          {can('group:write') && can('individual:write') ? <NavLink to="/register">{t('nav.register')}</NavLink> : null}
          {can('individual:write') ? <NavLink to="/import">{t('nav.import')}</NavLink> : null}
          {can('program:read') ? <NavLink to="/programs">{t('nav.programs')}</NavLink> : null}
        </nav>
        <div className="app-header__user">
          <p className="app-header__name" data-testid="user-name">{t('user.signedInAs', { name: user?.displayName ?? '' })}</p>
          <p className="app-header__roles" data-testid="user-roles">{t('user.roles', { roles: roleText })}</p>
        </div>
        <div className="app-header__tools">
          <label htmlFor="locale" className="visually-hidden">{t('app.language')}</label>
          <select id="locale" value={locale} onChange={(event) => setLocale(event.target.value as Locale)}>
            {locales.map((option) => <option key={option.code} value={option.code} lang={option.code}>{option.label}</option>)}
          </select>
          <Button variant="secondary" onClick={async () => { await signOut(); navigate('/sign-in', { replace: true }); }}>{t('user.signOut')}</Button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="app-main">
        <Outlet />
      </main>
    </>
  );
}
