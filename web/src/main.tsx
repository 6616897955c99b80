import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Navigate, Outlet, useLocation } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { ApiProblem, type Role } from './api/client';
import { Layout } from './components/Layout';
import { AccountPage } from './pages/Account';
import { AccountsPage } from './pages/Accounts';
import { HomePage, NotFoundPage } from './pages/Home';
import { LoginPage } from './pages/Login';
import { DepositPage, TransferPage, WithdrawPage } from './pages/Move';
import { SessionProvider, useSession } from './session';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal is an answer; only unanswered requests are worth retrying.
      retry: (count, error) => !(error instanceof ApiProblem) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

/** Signed-in screens only; the rest go to the sign-in page and come back after. */
function RequireUser() {
  const { user } = useSession();
  const location = useLocation();
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

function RoleOnly({ roles }: { readonly roles: readonly Role[] }) {
  const { user } = useSession();
  if (!user || !roles.includes(user.role)) return <Navigate to="/" replace />;
  return <Outlet />;
}

function Root() {
  return (
    <SessionProvider>
      <Outlet />
    </SessionProvider>
  );
}

const router = createBrowserRouter(
  [
    {
      element: <Root />,
      // Shown while a lazily loaded screen arrives on the first page load.
      hydrateFallbackElement: <p role="status">Loading…</p>,
      children: [
        { path: '/login', element: <LoginPage /> },
        {
          element: <RequireUser />,
          children: [
            {
              element: <Layout />,
              children: [
                { index: true, element: <HomePage /> },
                { path: 'accounts', element: <AccountsPage /> },
                { path: 'accounts/:accountNo', element: <AccountPage /> },
                { path: 'accounts/:accountNo/deposit', element: <DepositPage /> },
                { path: 'accounts/:accountNo/withdraw', element: <WithdrawPage /> },
                { path: 'transfer', element: <TransferPage /> },
                // Staff screens load on first use: a customer's browser never fetches them. A role
                // that has no such screen is sent to its own first screen (the API refuses it anyway).
                {
                  element: <RoleOnly roles={['teller', 'admin']} />,
                  children: [
                    {
                      path: 'customers',
                      lazy: async () => ({ Component: (await import('./pages/Customers')).CustomersPage }),
                    },
                    {
                      path: 'approvals',
                      lazy: async () => ({ Component: (await import('./pages/Approvals')).ApprovalsPage }),
                    },
                  ],
                },
                {
                  element: <RoleOnly roles={['admin']} />,
                  children: [
                    {
                      path: 'users',
                      lazy: async () => ({ Component: (await import('./pages/Users')).UsersPage }),
                    },
                    {
                      path: 'audit',
                      lazy: async () => ({ Component: (await import('./pages/Audit')).AuditPage }),
                    },
                  ],
                },
                {
                  path: 'settings',
                  lazy: async () => ({ Component: (await import('./pages/Settings')).SettingsPage }),
                },
                { path: '*', element: <NotFoundPage /> },
              ],
            },
          ],
        },
      ],
    },
  ],
  { basename: '/console' },
);

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </StrictMode>,
  );
}
