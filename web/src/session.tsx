import { useQueryClient } from '@tanstack/react-query';
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { api, type LoginResponse, setToken, type User, whenUnauthenticated } from './api/client';

/**
 * The signed-in user. The access token lives in this module's memory only: a reload signs out.
 * While the user is active the token is refreshed (POST /auth/refresh); after 15 idle minutes the console signs out, with a warning one minute before.
 */
export const IDLE_LIMIT_MS = 15 * 60_000;
export const IDLE_WARNING_MS = 60_000;
/** Refresh when the token has less than this left and the user did something since the last one. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const TICK_MS = 5_000;

export type SignOutReason = 'user' | 'idle' | 'expired';

interface Session {
  readonly user: User | undefined;
  readonly signedOutBecause: SignOutReason | undefined;
  /**
   * Where to go after signing in as `username`: the screen asked for before, but only when no one
   * else was signed in since (after A signs out, B starts on B's own first screen, not on A's).
   */
  returnTo(from: string | undefined, username: string): string;
  readonly idleWarning: boolean;
  readonly secondsLeft: number;
  signIn(login: LoginResponse): void;
  signOut(reason: SignOutReason): Promise<void>;
  stayActive(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

export function SessionProvider({ children }: { readonly children: ReactNode }) {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<User | undefined>(undefined);
  const [signedOutBecause, setSignedOutBecause] = useState<SignOutReason | undefined>(undefined);
  const signedIn = useRef<string | undefined>(undefined);
  const previousUsername = useRef<string | undefined>(undefined);
  const [idleWarning, setIdleWarning] = useState(false);
  const [secondsLeft, setSecondsLeft] = useState(0);
  const lastActivity = useRef(Date.now());
  const activeSinceRefresh = useRef(false);
  const expiresAt = useRef(0);
  const refreshing = useRef(false);

  const drop = useCallback(
    (reason: SignOutReason) => {
      setToken(undefined);
      previousUsername.current = signedIn.current ?? previousUsername.current;
      signedIn.current = undefined;
      setUser(undefined);
      setIdleWarning(false);
      setSignedOutBecause(reason);
      queryClient.clear();
    },
    [queryClient],
  );

  const signOut = useCallback(
    async (reason: SignOutReason) => {
      // Best effort: the session ends on the server when it can; the token is dropped regardless.
      try {
        await api.POST('/auth/logout', { body: {} });
      } catch {
        // Offline or refused: the token is dropped below either way.
      }
      drop(reason);
    },
    [drop],
  );

  const signIn = useCallback((login: LoginResponse) => {
    signedIn.current = login.user.username;
    setToken(login.accessToken);
    expiresAt.current = Date.now() + login.expiresIn * 1000;
    lastActivity.current = Date.now();
    activeSinceRefresh.current = false;
    setSignedOutBecause(undefined);
    setUser(login.user);
  }, []);

  const stayActive = useCallback(() => {
    lastActivity.current = Date.now();
    activeSinceRefresh.current = true;
    setIdleWarning(false);
  }, []);

  useEffect(() => {
    whenUnauthenticated(() => drop('expired'));
  }, [drop]);

  useEffect(() => {
    if (!user) return;
    const onActivity = () => {
      // While the warning shows, only its button keeps the session (a stray key press does not).
      if (Date.now() - lastActivity.current >= IDLE_LIMIT_MS - IDLE_WARNING_MS) return;
      lastActivity.current = Date.now();
      activeSinceRefresh.current = true;
    };
    const events = ['pointerdown', 'keydown', 'scroll', 'touchstart'] as const;
    for (const e of events) window.addEventListener(e, onActivity, { passive: true });
    const timer = window.setInterval(() => {
      const idle = Date.now() - lastActivity.current;
      if (idle >= IDLE_LIMIT_MS) {
        void signOut('idle');
        return;
      }
      const warn = idle >= IDLE_LIMIT_MS - IDLE_WARNING_MS;
      setIdleWarning(warn);
      setSecondsLeft(Math.max(0, Math.ceil((IDLE_LIMIT_MS - idle) / 1000)));
      const left = expiresAt.current - Date.now();
      if (!warn && activeSinceRefresh.current && left < REFRESH_MARGIN_MS && !refreshing.current) {
        refreshing.current = true;
        void refresh()
          .then((next) => {
            if (next) {
              setToken(next.accessToken);
              expiresAt.current = Date.now() + next.expiresIn * 1000;
              activeSinceRefresh.current = false;
            }
          })
          .finally(() => {
            refreshing.current = false;
          });
      }
    }, TICK_MS);
    return () => {
      for (const e of events) window.removeEventListener(e, onActivity);
      window.clearInterval(timer);
    };
  }, [user, signOut]);

  const returnTo = useCallback(
    (from: string | undefined, username: string) =>
      from !== undefined && (previousUsername.current ?? username) === username ? from : '/',
    [],
  );

  const value = useMemo<Session>(
    () => ({ user, signedOutBecause, idleWarning, secondsLeft, signIn, signOut, stayActive, returnTo }),
    [user, signedOutBecause, idleWarning, secondsLeft, signIn, signOut, stayActive, returnTo],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** POST /auth/refresh, failing soft: undefined when refused or unanswered (the idle rules still apply). */
async function refresh(): Promise<LoginResponse | undefined> {
  try {
    const { data } = await api.POST('/auth/refresh', { body: {} });
    return data;
  } catch {
    return undefined;
  }
}
