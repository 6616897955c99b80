import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useSession } from '../session';

const links = {
  customer: [
    { to: '/accounts', label: 'Accounts' },
    { to: '/transfer', label: 'Transfer' },
  ],
  teller: [
    { to: '/customers', label: 'Customers' },
    { to: '/accounts', label: 'Accounts' },
    { to: '/transfer', label: 'Transfer' },
    { to: '/approvals', label: 'Approvals' },
  ],
  admin: [
    { to: '/users', label: 'Users' },
    { to: '/audit', label: 'Audit log' },
    { to: '/customers', label: 'Customers' },
    { to: '/accounts', label: 'Accounts' },
    { to: '/transfer', label: 'Transfer' },
    { to: '/approvals', label: 'Approvals' },
  ],
} as const;

/** The frame of every signed-in screen: skip link, navigation, the idle warning. */
export function Layout() {
  const { user, signOut, idleWarning, secondsLeft, stayActive } = useSession();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  // Move focus to the new screen's content for keyboard and screen-reader users.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every navigation on purpose
  useEffect(() => {
    main.current?.focus();
  }, [location.pathname]);
  if (!user) return null;
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Bank console</span>
        <nav aria-label="Main">
          <ul className="nav-list">
            {links[user.role].map((link) => (
              <li key={link.to}>
                <NavLink to={link.to}>{link.label}</NavLink>
              </li>
            ))}
            <li>
              <NavLink to="/settings">Settings</NavLink>
            </li>
          </ul>
        </nav>
        <span className="who">
          {user.username} <span className="role">({user.role})</span>
        </span>
        <button type="button" className="secondary" onClick={() => void signOut('user')}>
          Sign out
        </button>
      </header>
      {idleWarning ? (
        <div className="idle" role="alertdialog" aria-modal="false" aria-labelledby="idle-title">
          <p id="idle-title">You have been idle. You will be signed out in {secondsLeft} seconds.</p>
          <button type="button" onClick={stayActive}>
            Stay signed in
          </button>
        </div>
      ) : null}
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
