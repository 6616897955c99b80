import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useLocation } from 'react-router';
import { api, call, type User } from '../api/client';
import { Field, FormAlert, PinField, pinRule, SelectField } from '../components/Field';
import { EnrolFirst, OtpField, useCredentialErrors, useMe } from '../components/StepUp';
import { TotpQr } from '../components/TotpQr';
import { formatMoney } from '../money';
import { useOneAtATime } from '../one-at-a-time';
import { useSession } from '../session';
import { useTitle } from '../title';

/**
 * Every role's own credentials: the authenticator app (TOTP: enrol with a QR code, turn off),
 * the password, and an account's PIN. High-risk changes ask for a one-time code; without an
 * authenticator the screen says to enrol one first.
 */
export function SettingsPage() {
  useTitle('Settings');
  return (
    <section>
      <h1>Settings</h1>
      <div className="columns">
        <AuthenticatorPanel />
        <PasswordForm />
        <PinForm />
      </div>
    </section>
  );
}

/** Grouped in fours for reading it off the screen into an app. */
function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

function AuthenticatorPanel() {
  const me = useMe();
  const location = useLocation();
  const section = useRef<HTMLElement>(null);
  const [said, setSaid] = useState<string | undefined>(undefined);
  // "Enrol an authenticator in Settings" links here: the focus follows (after the frame's own
  // move to the new screen's content, whose effect runs after this one).
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every navigation on purpose
  useEffect(() => {
    if (location.hash !== '#authenticator') return;
    const timer = window.setTimeout(() => section.current?.focus(), 0);
    return () => window.clearTimeout(timer);
  }, [location.key]);
  function done(message: string) {
    setSaid(message);
    section.current?.focus();
  }
  return (
    <section
      id="authenticator"
      className="panel"
      ref={section}
      tabIndex={-1}
      aria-labelledby="authenticator-title"
    >
      <h2 id="authenticator-title">Authenticator app</h2>
      {said ? (
        <p role="status" className="notice">
          {said}
        </p>
      ) : null}
      {me.data === undefined ? (
        me.error ? (
          <p>Your settings could not be read. Reload the page to try again.</p>
        ) : (
          <p role="status">Loading…</p>
        )
      ) : me.data.totpEnabled ? (
        <>
          <p>
            <span className="badge success">On</span> Signing in and high-risk changes ask for a one-time code
            from your authenticator app.
          </p>
          <DisableTotpForm onDone={() => done('The authenticator is turned off.')} />
        </>
      ) : (
        <EnrolTotp
          onDone={() =>
            done('Your authenticator is enrolled. From now on, signing in asks for a one-time code.')
          }
          onStart={() => setSaid(undefined)}
        />
      )}
    </section>
  );
}

function EnrolTotp({ onDone, onStart }: { readonly onDone: () => void; readonly onStart: () => void }) {
  const queryClient = useQueryClient();
  const once = useOneAtATime();
  const [otp, setOtp] = useState('');
  const steps = useRef<HTMLHeadingElement>(null);
  const { errors, fail, clear } = useCredentialErrors({
    CONFLICT: { message: 'An authenticator is already enrolled, or the enrolment ended. Start again.' },
  });
  const enrol = useMutation({
    mutationFn: () => call(api.POST('/me/totp', { body: {} })),
    // The answer is the secret: kept while this screen shows it, never after (the cache would
    // otherwise hold it for minutes once the user has left, enrolled or not).
    gcTime: 0,
    onMutate: onStart,
    onSuccess: () => {
      clear();
      setOtp('');
    },
    onError: (error) => {
      fail(error);
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const confirm = useMutation({
    mutationFn: () => call(api.POST('/me/totp/confirm', { body: { otp } })),
    // Its callbacks close over this screen's render, the secret included: not kept either.
    gcTime: 0,
    onSuccess: (user: User) => {
      clear();
      // Enrolled: the secret has done its work, and goes now.
      enrol.reset();
      queryClient.setQueryData(['me'], user);
      onDone();
    },
    onError: fail,
    onSettled: () => setOtp(''),
  });
  const pending = enrol.data;
  // The instructions replace the button that had the focus (or follow a new secret): focus them.
  useEffect(() => {
    if (pending) steps.current?.focus();
  }, [pending]);
  return (
    <>
      {pending ? null : (
        <>
          <p>
            <span className="badge">Off</span> No authenticator app is enrolled. With one, signing in asks for
            a one-time code from it, and so do high-risk changes such as a new password.
          </p>
          <form
            method="post"
            onSubmit={(e) => {
              e.preventDefault();
              once(() => enrol.mutateAsync());
            }}
          >
            <FormAlert errors={errors} shown={[]} />
            <button type="submit" aria-disabled={enrol.isPending || undefined}>
              Enrol an authenticator
            </button>
          </form>
        </>
      )}
      {pending ? (
        <div className="enrol">
          <h3 ref={steps} tabIndex={-1}>
            Enrol your authenticator app
          </h3>
          <ol>
            <li>
              In your authenticator app, add an account by scanning this QR code:
              <TotpQr uri={pending.otpauthUri} />
            </li>
            <li>
              Or type this secret into the app instead:{' '}
              <code className="secret" data-secret={pending.secret}>
                {groupSecret(pending.secret)}
              </code>
            </li>
            <li>Enter the code the app shows, to prove it works.</li>
          </ol>
          <form
            method="post"
            onSubmit={(e) => {
              e.preventDefault();
              once(() => confirm.mutateAsync());
            }}
            noValidate
          >
            <FormAlert errors={errors} shown={['otp']} />
            <OtpField errors={errors} value={otp} onChange={setOtp} />
            <div className="buttons">
              <button type="submit" aria-disabled={confirm.isPending || undefined}>
                Confirm
              </button>
              <button
                type="button"
                className="secondary"
                aria-disabled={enrol.isPending || undefined}
                onClick={() => {
                  once(() => enrol.mutateAsync());
                }}
              >
                Start again with a new secret
              </button>
            </div>
          </form>
        </div>
      ) : null}
    </>
  );
}

function DisableTotpForm({ onDone }: { readonly onDone: () => void }) {
  const queryClient = useQueryClient();
  const once = useOneAtATime();
  const [otp, setOtp] = useState('');
  const [password, setPassword] = useState('');
  const { errors, fail, clear } = useCredentialErrors({
    UNAUTHENTICATED: { field: 'password', message: 'The password is wrong.' },
  });
  const disable = useMutation({
    mutationFn: () => call(api.POST('/me/totp/disable', { body: { otp, password } })),
    onSuccess: (user: User) => {
      clear();
      setPassword('');
      queryClient.setQueryData(['me'], user);
      onDone();
    },
    onError: fail,
    onSettled: () => setOtp(''),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    once(() => disable.mutateAsync());
  }
  return (
    <form method="post" onSubmit={submit} noValidate aria-labelledby="totp-off-title">
      <h3 id="totp-off-title">Turn the authenticator off</h3>
      <FormAlert errors={errors} shown={['otp', 'password']} />
      <OtpField errors={errors} value={otp} onChange={setOtp} />
      <Field
        label="Password"
        field="password"
        type="password"
        autoComplete="current-password"
        errors={errors}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button type="submit" className="secondary" aria-disabled={disable.isPending || undefined}>
        Turn off the authenticator
      </button>
    </form>
  );
}

function PasswordForm() {
  const me = useMe();
  const once = useOneAtATime();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [otp, setOtp] = useState('');
  const { errors, stepUp, fail, clear } = useCredentialErrors({
    UNAUTHENTICATED: { field: 'currentPassword', message: 'The current password is wrong.' },
  });
  const change = useMutation({
    mutationFn: () =>
      call(api.POST('/me/password', { body: { currentPassword, newPassword, ...(otp ? { otp } : {}) } })),
    onMutate: clear,
    onSuccess: () => {
      setCurrent('');
      setNew('');
    },
    onError: fail,
    onSettled: () => setOtp(''),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    once(() => change.mutateAsync());
  }
  const askOtp = stepUp === 'code' || me.data?.totpEnabled === true;
  return (
    <form method="post" className="panel" onSubmit={submit} noValidate aria-labelledby="password-title">
      <h2 id="password-title">Change your password</h2>
      {stepUp === 'enrol' ? (
        <EnrolFirst />
      ) : (
        <FormAlert errors={errors} shown={['currentPassword', 'newPassword', 'otp']} />
      )}
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
      {askOtp ? <OtpField errors={errors} value={otp} onChange={setOtp} /> : null}
      <button type="submit" aria-disabled={change.isPending || undefined}>
        Change password
      </button>
      {change.isSuccess ? (
        <p role="status" className="notice">
          Your password is changed. Your other sessions have ended.
        </p>
      ) : null}
    </form>
  );
}

function PinForm() {
  const { user } = useSession();
  const customer = user?.role === 'customer';
  const me = useMe();
  const own = useQuery({
    queryKey: ['accounts', 'own'],
    queryFn: () => call(api.GET('/accounts', { params: { query: { limit: '100' } } })),
    enabled: customer,
  });
  const once = useOneAtATime();
  const [typed, setTyped] = useState('');
  const [currentPin, setCurrentPin] = useState('');
  const [newPin, setNewPin] = useState('');
  const [otp, setOtp] = useState('');
  const { errors, stepUp, fail, show, clear } = useCredentialErrors({
    INVALID_PIN: { field: 'currentPin' },
    NOT_FOUND: { field: 'accountNo' },
  });
  const [changed, setChanged] = useState<string | undefined>(undefined);
  // A customer picks one of their own accounts (the first until they choose); staff type a number.
  const accountNo = customer ? typed || (own.data?.items[0]?.accountNo ?? '') : typed.trim();
  const change = useMutation({
    mutationFn: () =>
      call(
        api.POST('/accounts/{accountNo}/pin', {
          params: { path: { accountNo } },
          body: customer ? { currentPin, newPin, ...(otp ? { otp } : {}) } : { newPin },
        }),
      ),
    onMutate: () => {
      clear();
      setChanged(undefined);
    },
    onSuccess: () => {
      setChanged(accountNo);
      setCurrentPin('');
      setNewPin('');
    },
    onError: fail,
    onSettled: () => setOtp(''),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!accountNo) {
      const message = customer ? 'Choose an account.' : 'Enter the account number.';
      show({ fields: { accountNo: message }, form: message });
      return;
    }
    once(() => change.mutateAsync());
  }
  const askOtp = customer && (stepUp === 'code' || me.data?.totpEnabled === true);
  return (
    <form method="post" className="panel" onSubmit={submit} noValidate aria-labelledby="pin-title">
      <h2 id="pin-title">Change an account's PIN</h2>
      {stepUp === 'enrol' ? (
        <EnrolFirst />
      ) : (
        <FormAlert errors={errors} shown={['accountNo', 'currentPin', 'newPin', 'otp']} />
      )}
      {customer ? (
        <SelectField
          label="Account"
          field="accountNo"
          errors={errors}
          value={accountNo}
          onChange={setTyped}
          options={
            own.data
              ? own.data.items.length > 0
                ? own.data.items.map((a) => ({
                    value: a.accountNo,
                    label: `${a.name} ${a.accountNo} (${formatMoney(a.balance)})`,
                  }))
                : [{ value: '', label: 'You have no accounts' }]
              : [{ value: accountNo, label: 'Loading your accounts…' }]
          }
        />
      ) : (
        <Field
          label="Account number"
          field="accountNo"
          inputMode="numeric"
          autoComplete="off"
          errors={errors}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
        />
      )}
      {customer ? (
        <PinField
          label="Current PIN"
          field="currentPin"
          errors={errors}
          value={currentPin}
          onChange={(e) => setCurrentPin(e.target.value)}
        />
      ) : null}
      <PinField
        label="New PIN"
        field="newPin"
        errors={errors}
        value={newPin}
        onChange={(e) => setNewPin(e.target.value)}
        hint={pinRule}
      />
      {askOtp ? <OtpField errors={errors} value={otp} onChange={setOtp} /> : null}
      <button type="submit" aria-disabled={change.isPending || undefined}>
        Change PIN
      </button>
      {changed ? (
        <p role="status" className="notice">
          The PIN of account {changed} is changed.
        </p>
      ) : null}
    </form>
  );
}
