import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, call } from '../api/client';
import { Field, FormAlert } from '../components/Field';
import { Money } from '../components/Money';
import { Pager, useCursorPages } from '../components/Pager';
import { toFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

/** A customer's own accounts; for staff, every account or one owner's. */
export function AccountsPage() {
  useTitle('Accounts');
  const { user } = useSession();
  const staff = user?.role !== 'customer';
  const [search] = useSearchParams();
  const [ownerInput, setOwnerInput] = useState(search.get('ownerId') ?? '');
  const [ownerId, setOwnerId] = useState<string | undefined>(search.get('ownerId') ?? undefined);
  const pages = useCursorPages();
  const accounts = useQuery({
    queryKey: ['accounts', ownerId, pages.cursor],
    queryFn: () =>
      call(
        api.GET('/accounts', {
          params: {
            query: {
              limit: '20',
              ...(ownerId ? { ownerId } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      ),
  });
  const errors = accounts.error ? toFormErrors(accounts.error) : { fields: {} };

  function filter(event: FormEvent) {
    event.preventDefault();
    pages.reset();
    setOwnerId(ownerInput.trim() || undefined);
  }

  return (
    <section>
      <h1>{staff ? 'Accounts' : 'Your accounts'}</h1>
      {staff ? (
        <form method="post" className="inline" onSubmit={filter}>
          <Field
            label="Owner id"
            field="ownerId"
            errors={errors}
            value={ownerInput}
            onChange={(e) => setOwnerInput(e.target.value)}
            hint="The customer's user id; empty lists every account."
          />
          <button type="submit">Show</button>
        </form>
      ) : null}
      <FormAlert errors={errors} shown={['ownerId']} />
      {accounts.isPending ? <p role="status">Loading…</p> : null}
      {accounts.data ? (
        accounts.data.items.length === 0 ? (
          <p>No accounts.</p>
        ) : (
          <table>
            <caption className="visually-hidden">Accounts</caption>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Name</th>
                <th scope="col" className="num">
                  Balance
                </th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {accounts.data.items.map((account) => (
                <tr key={account.accountNo}>
                  <td>
                    <Link to={`/accounts/${account.accountNo}`}>{account.accountNo}</Link>
                  </td>
                  <td>{account.name}</td>
                  <td className="num">
                    <Money value={account.balance} />
                  </td>
                  <td>{account.isLocked ? <span className="badge locked">Locked</span> : 'Open'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
      <Pager
        label="Accounts pages"
        page={pages.page}
        nextCursor={accounts.data?.nextCursor}
        onNext={pages.next}
        onPrevious={pages.previous}
      />
    </section>
  );
}
