import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiProblem, api, call, type LoginResponse } from '../api/client';
import { Field, FormAlert } from '../components/Field';
import { useCredentialErrors } from '../components/StepUp';
import { useOneAtATime } from '../one-at-a-time';
import { toFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

const reasons = {
  user: 'You signed out.',
  idle: 'You were signed out after 15 idle minutes.',
  expired: 'Your session ended. Sign in again.',
} as const;

export function LoginPage() {
  useTitle('Sign in');
  const { user, signIn, signedOutBecause, returnTo } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [needsOtp, setNeedsOtp] = useState(false);
  const [busy, setBusy] = useState(false);
  const { errors, fail, show, clear } = useCredentialErrors();
  const form = useRef<HTMLFormElement>(null);
  const once = useOneAtATime();
  const from = (location.state as { from?: string } | null)?.from;

  // The code field appears when the API asks for it: the focus goes there.
  useEffect(() => {
    if (needsOtp) form.current?.querySelector<HTMLInputElement>('input[name="otp"]')?.focus();
  }, [needsOtp]);

  if (user) return <Navigate to={returnTo(from, user.username)} replace />;

  function submit(event: FormEvent) {
    event.preventDefault();
    once(signInNow);
  }

  async function signInNow() {
    setBusy(true);
    clear();
    try {
      // The one-time code is sent once the API has asked for it (401 OTP_REQUIRED).
      const body = needsOtp ? { username, password, otp: otp.trim() } : { username, password };
      const login: LoginResponse = await call(api.POST('/auth/login', { body }));
      signIn(login);
      navigate(returnTo(from, login.user.username), { replace: true });
    } catch (error) {
      if (error instanceof ApiProblem && error.code === 'OTP_REQUIRED') setNeedsOtp(true);
      if (needsOtp && error instanceof ApiProblem && error.code === 'UNAUTHENTICATED') {
        // The API does not say which was wrong; after it asked for a code, most likely the code.
        const out = toFormErrors(error);
        show({
          fields: {
            ...out.fields,
            otp: 'The one-time code is wrong or was already used (or the password is wrong). Enter the next code.',
          },
          form: 'Wrong password or one-time code.',
        });
        setOtp('');
      } else {
        fail(error);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="login" tabIndex={-1}>
      <h1>Sign in to the bank</h1>
      {signedOutBecause && !errors.form ? (
        <p className="notice" role="status">
          {reasons[signedOutBecause]}
        </p>
      ) : null}
      <form method="post" ref={form} onSubmit={submit} noValidate>
        <FormAlert errors={errors} shown={['username', 'password', 'otp']} />
        <Field
          label="Username"
          field="username"
          errors={errors}
          autoComplete="username"
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <Field
          label="Password"
          field="password"
          type="password"
          errors={errors}
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {needsOtp ? (
          <Field
            label="One-time code"
            field="otp"
            errors={errors}
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            required
            value={otp}
            onChange={(e) => setOtp(e.target.value)}
          />
        ) : null}
        <button type="submit" aria-disabled={busy || undefined}>
          Sign in
        </button>
      </form>
      <p className="small">
        <a href="/docs/">API reference</a>
      </p>
    </main>
  );
}
