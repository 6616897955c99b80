import { type FormEvent, useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiProblem, api, call, type LoginResponse } from '../api/client';
import { Field, FormAlert } from '../components/Field';
import { useFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

const reasons = {
  user: 'You signed out.',
  idle: 'You were signed out after 15 idle minutes.',
  expired: 'Your session ended. Sign in again.',
} as const;

export function LoginPage() {
  useTitle('Sign in');
  const { user, signIn, signedOutBecause } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [needsOtp, setNeedsOtp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors, clearErrors] = useFormErrors();
  const from = (location.state as { from?: string } | null)?.from;

  if (user) return <Navigate to={from ?? '/'} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    clearErrors();
    try {
      // `otp` is API.md v1.1: sent only once the server has asked for it.
      const body: { username: string; password: string } = needsOtp
        ? ({ username, password, otp } as { username: string; password: string })
        : { username, password };
      const login: LoginResponse = await call(api.POST('/auth/login', { body }));
      signIn(login);
      navigate(from ?? '/', { replace: true });
    } catch (error) {
      if (error instanceof ApiProblem && error.code === 'OTP_REQUIRED') setNeedsOtp(true);
      setErrors(error);
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
      <form method="post" onSubmit={submit} noValidate>
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
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <p className="small">
        <a href="/docs/">API reference</a>
      </p>
    </main>
  );
}
