import { Navigate } from 'react-router';
import { useSession } from '../session';

/** Each role's first screen. */
export function HomePage() {
  const { user } = useSession();
  if (!user) return <Navigate to="/login" replace />;
  const start = { customer: '/accounts', teller: '/customers', admin: '/users' } as const;
  return <Navigate to={start[user.role]} replace />;
}

export function NotFoundPage() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no such page in the console.</p>
    </section>
  );
}
