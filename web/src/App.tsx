import type { ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { useAuth } from './auth/auth';
import { Layout } from './components/Layout';
import { Alert, Spinner } from './components/fields';
import { useT } from './i18n/i18n';
import { SignInPage } from './pages/SignIn';
import { SearchPage } from './pages/Search';
import { HouseholdPage } from './pages/Household';
import { IndividualPage } from './pages/Individual';
import { RegisterPage } from './pages/Register';
import { ImportPage } from './pages/Import';
import { ProgramPage, ProgramsPage } from './pages/Programs';

function RequireUser({ children }: { children: ReactNode }) {
  const { user, isLoading } = useAuth();
  const location = useLocation();
  const t = useT();
  if (isLoading) return <Spinner label={t('app.loading')} />;
  if (!user) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  return children;
}

function RequirePermission({ permissions, children }: { permissions: string[]; children: ReactNode }) {
  const { can } = useAuth();
  const t = useT();
  return permissions.every(can) ? children : <Alert kind="error">{t('notAllowed')}</Alert>;
}

/** Client routes; the server answers each of them with index.html (src/modules/web/web.routes.ts). */
export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignInPage />} />
      <Route element={<RequireUser><Layout /></RequireUser>}>
        <Route index element={<SearchPage />} />
        <Route path="households/:id" element={<HouseholdPage />} />
        <Route path="individuals/:id" element={<IndividualPage />} />
        <Route path="register" element={<RequirePermission permissions={['group:write', 'individual:write']}><RegisterPage /></RequirePermission>} />
        <Route path="import" element={<RequirePermission permissions={['individual:write']}><ImportPage /></RequirePermission>} />
        <Route path="programs" element={<RequirePermission permissions={['program:read']}><ProgramsPage /></RequirePermission>} />
        <Route path="programs/:ref" element={<RequirePermission permissions={['program:read']}><ProgramPage /></RequirePermission>} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Route>
    </Routes>
  );
}
