import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { FormAlert } from '../components/Field';
import { Pager, useCursorPages } from '../components/Pager';
import { toFormErrors } from '../problem-form';
import { useTitle } from '../title';
import { CreateUserForm } from './Customers';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Admin: every user, and a form to create one of any role. */
export function UsersPage() {
  useTitle('Users');
  const queryClient = useQueryClient();
  const pages = useCursorPages();
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
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <tr key={u.id}>
                    <td>{u.username}</td>
                    <td>{u.role}</td>
                    <td className="mono">{u.id}</td>
                    <td>{dateTime.format(new Date(u.createdAt))}</td>
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
