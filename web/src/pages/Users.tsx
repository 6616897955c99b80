import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { api, call, type User } from '../api/client';
import { Field, FormAlert } from '../components/Field';
import { Pager, useCursorPages } from '../components/Pager';
import { useCredentialErrors } from '../components/StepUp';
import { useOneAtATime } from '../one-at-a-time';
import { toFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';
import { CreateUserForm } from './Customers';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

/**
 * Admin: every user with their state (disabled, authenticator), a form to create one of any
 * role, and per user (not oneself: that is Settings) disable or enable, a new password, and
 * removing a lost authenticator.
 */
export function UsersPage() {
  useTitle('Users');
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const { user: me } = useSession();
  const users = useQuery({
    queryKey: ['users', pages.cursor],
    queryFn: () =>
      call(
        api.GET('/users', {
          params: { query: { limit: '50', ...(pages.cursor ? { cursor: pages.cursor } : {}) } },
        }),
      ),
  });
  return (
    <section>
      <h1>Users</h1>
      <div className="users-layout">
        <CreateUserForm onCreated={() => void queryClient.invalidateQueries({ queryKey: ['users'] })} />
        <div>
          {users.error ? <FormAlert errors={toFormErrors(users.error)} shown={[]} /> : null}
          {users.data ? (
            <table className="users">
              <caption>Users, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Authenticator</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <tr key={u.id}>
                    <th scope="row">{u.username}</th>
                    <td>{u.role}</td>
                    <td>
                      {u.disabled ? <span className="badge denied">Disabled</span> : <span>Active</span>}
                    </td>
                    <td>{u.totpEnabled ? <span className="badge success">On</span> : <span>Off</span>}</td>
                    <td className="nowrap">{dateTime.format(new Date(u.createdAt))}</td>
                    <td>
                      {u.id === me?.id ? (
                        <span className="small">
                          You: see <Link to="/settings">Settings</Link>
                        </span>
                      ) : (
                        <UserActions user={u} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p role="status">Loading…</p>
          )}
          <Pager
            label="User pages"
            page={pages.page}
            nextCursor={users.data?.nextCursor}
            onNext={pages.next}
            onPrevious={pages.previous}
          />
        </div>
      </div>
    </section>
  );
}

/**
 * One user's actions behind a disclosure (a summary is a button to the keyboard and to screen
 * readers). Its forms exist only while it is open, so the page has one set of labels at a time.
 */
function UserActions({ user }: { readonly user: User }) {
  const [open, setOpen] = useState(false);
  const [said, setSaid] = useState<string | undefined>(undefined);
  return (
    <details className="user-actions" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Manage {user.username}</summary>
      {open ? (
        <div className="user-actions-body">
          <p className="small">
            Id <span className="mono">{user.id}</span>
          </p>
          {said ? (
            <p role="status" className="notice">
              {said}
            </p>
          ) : null}
          <AccessForm user={user} say={setSaid} />
          <PasswordResetForm user={user} say={setSaid} />
          <TotpResetForm user={user} say={setSaid} />
        </div>
      ) : null}
    </details>
  );
}

interface ActionProps {
  readonly user: User;
  /** What the last action did (shown above the forms), or nothing while a new one is under way. */
  readonly say: (message: string | undefined) => void;
}

/** After a change, the list shows the user's new state (it is read again). */
function useUserAction<T>(send: () => Promise<T>, say: ActionProps['say'], onDone: () => void) {
  const queryClient = useQueryClient();
  const credential = useCredentialErrors();
  const once = useOneAtATime();
  const mutation = useMutation({
    mutationFn: send,
    onMutate: () => {
      credential.clear();
      say(undefined);
    },
    onSuccess: () => {
      onDone();
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
    onError: credential.fail,
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    once(() => mutation.mutateAsync());
  }
  return { errors: credential.errors, pending: mutation.isPending, submit };
}

/** Disable (with a reason: every session ends, the login is refused) or enable again. */
function AccessForm({ user, say }: ActionProps) {
  const [reason, setReason] = useState('');
  const userId = user.id;
  const action = useUserAction(
    () =>
      user.disabled
        ? call(api.POST('/users/{userId}/enable', { params: { path: { userId } }, body: {} }))
        : call(
            api.POST('/users/{userId}/disable', {
              params: { path: { userId } },
              body: { reason: reason.trim() },
            }),
          ),
    say,
    () => {
      say(
        user.disabled
          ? `${user.username} may sign in again.`
          : `${user.username} is disabled: their sessions ended and sign-in is refused.`,
      );
      setReason('');
    },
  );
  const title = `${user.disabled ? 'Enable' : 'Disable'} ${user.username}`;
  const titleId = `access-${user.id}`;
  return (
    <form method="post" className="subform" onSubmit={action.submit} noValidate aria-labelledby={titleId}>
      <h3 id={titleId}>{title}</h3>
      <FormAlert errors={action.errors} shown={['reason']} />
      {user.disabled ? (
        <p className="small">Sign-in is refused until an admin enables the user.</p>
      ) : (
        <Field
          label="Reason"
          field="reason"
          errors={action.errors}
          autoComplete="off"
          maxLength={200}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          hint="Kept in the audit log."
        />
      )}
      <button type="submit" className="secondary" aria-disabled={action.pending || undefined}>
        {title}
      </button>
    </form>
  );
}

/** A new password chosen by the admin (every session of the user ends). */
function PasswordResetForm({ user, say }: ActionProps) {
  const [newPassword, setNewPassword] = useState('');
  const userId = user.id;
  const action = useUserAction(
    () => call(api.POST('/users/{userId}/password', { params: { path: { userId } }, body: { newPassword } })),
    say,
    () => {
      say(`${user.username} has a new password; their sessions ended.`);
      setNewPassword('');
    },
  );
  const titleId = `password-${user.id}`;
  return (
    <form method="post" className="subform" onSubmit={action.submit} noValidate aria-labelledby={titleId}>
      <h3 id={titleId}>Reset the password of {user.username}</h3>
      <FormAlert errors={action.errors} shown={['newPassword']} />
      <Field
        label="New password"
        field="newPassword"
        type="password"
        autoComplete="new-password"
        errors={action.errors}
        value={newPassword}
        onChange={(e) => setNewPassword(e.target.value)}
        hint="10 to 128 characters. Tell the user in person."
      />
      <button type="submit" className="secondary" aria-disabled={action.pending || undefined}>
        Reset password
      </button>
    </form>
  );
}

/** Removes the user's authenticator (a lost phone): they sign in with the password, then enrol again. */
function TotpResetForm({ user, say }: ActionProps) {
  const [reason, setReason] = useState('');
  const userId = user.id;
  const action = useUserAction(
    () =>
      call(
        api.POST('/users/{userId}/totp/reset', {
          params: { path: { userId } },
          body: { reason: reason.trim() },
        }),
      ),
    say,
    () => {
      say(`The authenticator of ${user.username} is removed; they can enrol a new one.`);
      setReason('');
    },
  );
  const titleId = `totp-${user.id}`;
  return (
    <form method="post" className="subform" onSubmit={action.submit} noValidate aria-labelledby={titleId}>
      <h3 id={titleId}>Reset the authenticator of {user.username}</h3>
      <FormAlert errors={action.errors} shown={['reason']} />
      {user.totpEnabled ? null : <p className="small">No authenticator is enrolled now.</p>}
      <Field
        label="Reason"
        field="reason"
        errors={action.errors}
        autoComplete="off"
        maxLength={200}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        hint="Kept in the audit log."
      />
      <button type="submit" className="secondary" aria-disabled={action.pending || undefined}>
        Reset authenticator
      </button>
    </form>
  );
}
