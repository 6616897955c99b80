import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiProblem, authHeader, type Problem } from '../api/client';
import { useCapabilities } from '../capabilities';
import { Field, FormAlert } from '../components/Field';
import { useFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

/**
 * Change password and change an account's PIN: API.md v1.1 routes, each shown only once the
 * server's document lists it. Not in the generated types until then, so sent by hand here.
 */
async function post(path: string, body: unknown): Promise<void> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeader() },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as Partial<Problem>;
    throw new ApiProblem(response.status, problem);
  }
}

export function SettingsPage() {
  useTitle('Settings');
  const caps = useCapabilities();
  const password = caps.has('POST', '/me/password');
  const pin = caps.has('POST', '/accounts/{accountNo}/pin');
  return (
    <section>
      <h1>Settings</h1>
      {!password && !pin ? <p>Nothing to change here on this server yet.</p> : null}
      <div className="columns">
        {password ? <PasswordForm /> : null}
        {pin ? <PinForm /> : null}
      </div>
    </section>
  );
}

function PasswordForm() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [otp, setOtp] = useState('');
  const [needsOtp, setNeedsOtp] = useState(false);
  const [errors, setErrors, clearErrors] = useFormErrors();
  const change = useMutation({
    mutationFn: () => post('/me/password', { currentPassword, newPassword, ...(otp ? { otp } : {}) }),
    onSuccess: () => {
      clearErrors();
      setCurrent('');
      setNew('');
      setOtp('');
    },
    onError: (error) => {
      if (error instanceof ApiProblem && error.code === 'STEP_UP_REQUIRED') setNeedsOtp(true);
      setErrors(error);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!change.isPending) change.mutate();
  }
  return (
    <form method="post" className="panel" onSubmit={submit} noValidate>
      <h2>Change your password</h2>
      <FormAlert errors={errors} shown={['currentPassword', 'newPassword', 'otp']} />
      <Field
        label="Current password"
        field="currentPassword"
        type="password"
        autoComplete="current-password"
        errors={errors}
        value={currentPassword}
        onChange={(e) => setCurrent(e.target.value)}
      />
      <Field
        label="New password"
        field="newPassword"
        type="password"
        autoComplete="new-password"
        errors={errors}
        value={newPassword}
        onChange={(e) => setNew(e.target.value)}
        hint="10 to 128 characters. Your other sessions end."
      />
      {needsOtp ? <OtpField errors={errors} value={otp} onChange={setOtp} /> : null}
      <button type="submit" disabled={change.isPending}>
        Change password
      </button>
      {change.isSuccess ? <p role="status">Your password is changed.</p> : null}
    </form>
  );
}

function PinForm() {
  const { user } = useSession();
  const customer = user?.role === 'customer';
  const [accountNo, setAccountNo] = useState('');
  const [currentPin, setCurrentPin] = useState('');
  const [newPin, setNewPin] = useState('');
  const [otp, setOtp] = useState('');
  const [needsOtp, setNeedsOtp] = useState(false);
  const [errors, setErrors, clearErrors] = useFormErrors();
  const change = useMutation({
    mutationFn: () =>
      post(
        `/accounts/${encodeURIComponent(accountNo.trim())}/pin`,
        customer ? { currentPin, newPin, ...(otp ? { otp } : {}) } : { newPin },
      ),
    onSuccess: () => {
      clearErrors();
      setCurrentPin('');
      setNewPin('');
      setOtp('');
    },
    onError: (error) => {
      if (error instanceof ApiProblem && error.code === 'STEP_UP_REQUIRED') setNeedsOtp(true);
      setErrors(error);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!change.isPending) change.mutate();
  }
  return (
    <form method="post" className="panel" onSubmit={submit} noValidate>
      <h2>Change an account's PIN</h2>
      <FormAlert errors={errors} shown={['accountNo', 'currentPin', 'newPin', 'otp']} />
      <Field
        label="Account number"
        field="accountNo"
        inputMode="numeric"
        errors={errors}
        value={accountNo}
        onChange={(e) => setAccountNo(e.target.value)}
      />
      {customer ? (
        <Field
          label="Current PIN"
          field="currentPin"
          type="password"
          inputMode="numeric"
          autoComplete="off"
          errors={errors}
          value={currentPin}
          onChange={(e) => setCurrentPin(e.target.value)}
        />
      ) : null}
      <Field
        label="New PIN"
        field="newPin"
        type="password"
        inputMode="numeric"
        autoComplete="off"
        errors={errors}
        value={newPin}
        onChange={(e) => setNewPin(e.target.value)}
        hint="4 to 6 digits, not all the same and not a straight run."
      />
      {needsOtp ? <OtpField errors={errors} value={otp} onChange={setOtp} /> : null}
      <button type="submit" disabled={change.isPending}>
        Change PIN
      </button>
      {change.isSuccess ? <p role="status">The PIN is changed.</p> : null}
    </form>
  );
}

/** The one-time code both forms ask for once the API answers that the change needs one. */
function OtpField(props: {
  readonly errors: Parameters<typeof Field>[0]['errors'];
  readonly value: string;
  readonly onChange: (value: string) => void;
}) {
  return (
    <Field
      label="One-time code"
      field="otp"
      inputMode="numeric"
      autoComplete="one-time-code"
      errors={props.errors}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value)}
    />
  );
}
