import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiProblem, api, authHeader, call, type Problem, type User } from '../api/client';
import { useCapabilities } from '../capabilities';
import { Field, FormAlert } from '../components/Field';
import { Pager, useCursorPages } from '../components/Pager';
import { toFormErrors, useFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';
import { CreateUserForm } from './Customers';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Admin: every user, and a form to create one of any role. */
export function UsersPage() {
  useTitle('Users');
  const queryClient = useQueryClient();
  const pages = useCursorPages();
  const { user: me } = useSession();
  // Disabling and enabling users is API.md v1.1, shown once the server lists the routes.
  const manageable = useCapabilities().has('POST', '/users/{userId}/disable');
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
      <div className="columns">
        <CreateUserForm onCreated={() => void queryClient.invalidateQueries({ queryKey: ['users'] })} />
        <div>
          {users.error ? <FormAlert errors={toFormErrors(users.error)} shown={[]} /> : null}
          {users.data ? (
            <table>
              <caption>Users, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Id</th>
                  <th scope="col">Created</th>
                  {manageable ? <th scope="col">Access</th> : null}
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <tr key={u.id}>
                    <td>{u.username}</td>
                    <td>{u.role}</td>
                    <td className="mono">{u.id}</td>
                    <td>{dateTime.format(new Date(u.createdAt))}</td>
                    {manageable ? (
                      <td>
                        <UserAccess user={u} self={u.id === me?.id} />
                      </td>
                    ) : null}
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
 * Disable (with a reason) or enable a user: `POST /users/{userId}/disable|enable` (API.md v1.1).
 * Not in the generated types until the server has the routes, so sent by hand here.
 */
function UserAccess({ user, self }: { readonly user: User; readonly self: boolean }) {
  const queryClient = useQueryClient();
  const disabled = (user as User & { disabled?: boolean }).disabled === true;
  const [reason, setReason] = useState('');
  const [errors, setErrors, clearErrors] = useFormErrors();
  const change = useMutation({
    mutationFn: async () => {
      const response = await fetch(
        `/users/${encodeURIComponent(user.id)}/${disabled ? 'enable' : 'disable'}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authHeader() },
          body: JSON.stringify(disabled ? {} : { reason: reason.trim() }),
        },
      );
      if (!response.ok)
        throw new ApiProblem(response.status, (await response.json().catch(() => ({}))) as Partial<Problem>);
    },
    onSuccess: () => {
      clearErrors();
      setReason('');
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
    onError: setErrors,
  });
  if (self) return <span className="small">You</span>;
  return (
    <form
      method="post"
      className="inline compact"
      onSubmit={(e) => {
        e.preventDefault();
        if (!change.isPending) change.mutate();
      }}
    >
      <FormAlert errors={errors} shown={['reason']} />
      {disabled ? null : (
        <Field
          label="Reason"
          field="reason"
          errors={errors}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      )}
      <button type="submit" className="secondary" disabled={change.isPending}>
        {disabled ? `Enable ${user.username}` : `Disable ${user.username}`}
      </button>
    </form>
  );
}
