import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { Link } from 'react-router';
import { type Account, api, call, type User } from '../api/client';
import { Field, FormAlert, PinField, pinRule, SelectField } from '../components/Field';
import { EnrolFirst, OtpField, useCredentialErrors, useMe } from '../components/StepUp';
import { useOneAtATime } from '../one-at-a-time';
import { useFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

/** The teller's desk: create a customer, open an account for one (by owner id). */
export function CustomersPage() {
  useTitle('Customers');
  const [owner, setOwner] = useState<User | undefined>(undefined);
  return (
    <section>
      <h1>Customers</h1>
      <div className="columns">
        <FindCustomer onChoose={setOwner} />
        <CreateUserForm
          onCreated={(user) => {
            if (user.role === 'customer') setOwner(user);
          }}
        />
        <OpenAccountForm ownerId={owner?.id ?? ''} key={owner?.id ?? 'none'} />
      </div>
    </section>
  );
}

/**
 * Customers by the start of their username. From a result: open an account for them, see their
 * accounts, or set a new password for one who forgot theirs.
 */
function FindCustomer({ onChoose }: { readonly onChoose: (user: User) => void }) {
  const [prefix, setPrefix] = useState('');
  const [resetFor, setResetFor] = useState<string | undefined>(undefined);
  const [errors, setErrors, clearErrors] = useFormErrors();
  const find = useMutation({
    mutationFn: () =>
      call(
        api.GET('/users', {
          params: {
            query: { limit: '20', role: 'customer', ...(prefix.trim() ? { query: prefix.trim() } : {}) },
          },
        }),
      ),
    onSuccess: () => {
      clearErrors();
      setResetFor(undefined);
    },
    onError: setErrors,
  });
  return (
    <div className="panel">
      <h2>Find a customer</h2>
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          if (!find.isPending) find.mutate();
        }}
      >
        <FormAlert errors={errors} shown={['query']} />
        <Field
          label="Username starts with"
          field="query"
          errors={errors}
          value={prefix}
          onChange={(e) => setPrefix(e.target.value)}
        />
        <button type="submit" disabled={find.isPending}>
          Find
        </button>
      </form>
      {find.data ? (
        find.data.items.length === 0 ? (
          <p role="status">No customer matches.</p>
        ) : (
          <ul className="plain results">
            {find.data.items.map((u) => (
              <li key={u.id}>
                <strong>{u.username}</strong>
                {u.disabled ? ' (disabled)' : ''}
                <div className="buttons">
                  <button type="button" className="secondary" onClick={() => onChoose(u)}>
                    Open an account for {u.username}
                  </button>
                  <Link to={`/accounts?ownerId=${u.id}`}>Accounts of {u.username}</Link>
                  <button
                    type="button"
                    className="secondary"
                    aria-expanded={resetFor === u.id}
                    onClick={() => setResetFor((open) => (open === u.id ? undefined : u.id))}
                  >
                    Reset the password of {u.username}
                  </button>
                </div>
                {resetFor === u.id ? <ResetPasswordForm user={u} /> : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </div>
  );
}

/** A new password set by staff: every session of that customer ends (API.md v1.1). */
function ResetPasswordForm({ user }: { readonly user: User }) {
  const [newPassword, setNewPassword] = useState('');
  const [errors, setErrors, clearErrors] = useFormErrors();
  const reset = useMutation({
    mutationFn: () =>
      call(
        api.POST('/users/{userId}/password', {
          params: { path: { userId: user.id } },
          body: { newPassword },
        }),
      ),
    onSuccess: () => {
      clearErrors();
      setNewPassword('');
    },
    onError: setErrors,
  });
  return (
    <form
      method="post"
      className="subpanel"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!reset.isPending) reset.mutate();
      }}
    >
      <FormAlert errors={errors} shown={['newPassword']} />
      <Field
        label="New password"
        field="newPassword"
        type="password"
        autoComplete="new-password"
        errors={errors}
        value={newPassword}
        onChange={(e) => setNewPassword(e.target.value)}
        hint={`10 to 128 characters. ${user.username} is signed out everywhere; give them the new password in person.`}
      />
      <button type="submit" disabled={reset.isPending}>
        Set the new password
      </button>
      {reset.isSuccess ? (
        <p role="status" className="notice">
          The password of {user.username} is reset, and every session of theirs has ended.
        </p>
      ) : null}
    </form>
  );
}

export function CreateUserForm({ onCreated }: { readonly onCreated?: (user: User) => void }) {
  const { user } = useSession();
  const admin = user?.role === 'admin';
  const me = useMe(admin);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<User['role']>('customer');
  const [otp, setOtp] = useState('');
  const { errors, stepUp, fail, clear } = useCredentialErrors();
  const once = useOneAtATime();
  // An admin creating a teller or an admin gives a one-time code (API.md step-up).
  const staff = role !== 'customer';
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/users', {
          body: { username: username.trim(), password, role, ...(staff && otp ? { otp } : {}) },
        }),
      ),
    onMutate: clear,
    onSuccess: (created) => {
      setUsername('');
      setPassword('');
      onCreated?.(created);
    },
    onError: fail,
    onSettled: () => setOtp(''),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    once(() => create.mutateAsync());
  }
  const askOtp = admin && staff && (stepUp === 'code' || me.data?.totpEnabled === true);
  const titleId = useId();
  return (
    <form method="post" className="panel" onSubmit={submit} noValidate aria-labelledby={titleId}>
      <h2 id={titleId}>{admin ? 'Create a user' : 'Create a customer'}</h2>
      {stepUp === 'enrol' && staff ? (
        <EnrolFirst />
      ) : (
        <FormAlert errors={errors} shown={['username', 'password', 'role', 'otp']} />
      )}
      <Field
        label="Username"
        field="username"
        errors={errors}
        autoComplete="off"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        hint="3 to 32 characters: a-z, 0-9, dot, dash, underscore."
      />
      <Field
        label="Password"
        field="password"
        type="password"
        errors={errors}
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint="10 to 128 characters."
      />
      {admin ? (
        <SelectField
          label="Role"
          field="role"
          errors={errors}
          value={role}
          onChange={(v) => setRole(v === 'teller' || v === 'admin' ? v : 'customer')}
          options={[
            { value: 'customer', label: 'Customer' },
            { value: 'teller', label: 'Teller' },
            { value: 'admin', label: 'Admin' },
          ]}
          hint={staff ? 'A teller or an admin needs a one-time code from your authenticator app.' : undefined}
        />
      ) : null}
      {askOtp ? <OtpField errors={errors} value={otp} onChange={setOtp} /> : null}
      <button type="submit" aria-disabled={create.isPending || undefined}>
        Create
      </button>
      {create.data ? (
        <p role="status" className="notice">
          Created {create.data.role} <strong>{create.data.username}</strong>, id{' '}
          <span className="mono">{create.data.id}</span>.
        </p>
      ) : null}
    </form>
  );
}

function OpenAccountForm({ ownerId: initialOwner }: { readonly ownerId: string }) {
  const [ownerId, setOwnerId] = useState(initialOwner);
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [opened, setOpened] = useState<Account | undefined>(undefined);
  const [errors, setErrors, clearErrors] = useFormErrors();
  const open = useMutation({
    mutationFn: () =>
      call(api.POST('/accounts', { body: { ownerId: ownerId.trim(), name: name.trim(), pin } })),
    onSuccess: (account) => {
      clearErrors();
      setOpened(account);
      setName('');
      setPin('');
    },
    onError: setErrors,
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!open.isPending) open.mutate();
  }
  return (
    <form method="post" className="panel" onSubmit={submit} noValidate>
      <h2>Open an account</h2>
      <FormAlert errors={errors} shown={['ownerId', 'name', 'pin']} />
      <Field
        label="Owner id"
        field="ownerId"
        errors={errors}
        autoComplete="off"
        value={ownerId}
        onChange={(e) => setOwnerId(e.target.value)}
        hint="The customer's user id."
      />
      <Field
        label="Account name"
        field="name"
        errors={errors}
        autoComplete="off"
        maxLength={80}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <PinField
        label="PIN"
        field="pin"
        errors={errors}
        value={pin}
        onChange={(e) => setPin(e.target.value)}
        hint={pinRule}
      />
      <button type="submit" disabled={open.isPending}>
        Open account
      </button>
      {opened ? (
        <p role="status" className="notice">
          Opened <Link to={`/accounts/${opened.accountNo}`}>{opened.accountNo}</Link> ({opened.name}).
        </p>
      ) : null}
    </form>
  );
}
