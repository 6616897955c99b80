import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, call, type Entry } from '../api/client';
import { BalanceChart } from '../components/BalanceChart';
import { Field, FormAlert, PinField, pinRule } from '../components/Field';
import { Money } from '../components/Money';
import { Pager, useCursorPages } from '../components/Pager';
import { toFormErrors, useFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

const entryTypes: Readonly<Record<Entry['type'], string>> = {
  DEPOSIT: 'Deposit',
  WITHDRAWAL: 'Withdrawal',
  TRANSFER_IN: 'Transfer in',
  TRANSFER_OUT: 'Transfer out',
};

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** One account: balance, actions, the ledger with its running balance, and the chart. */
export function AccountPage() {
  const { accountNo = '' } = useParams();
  useTitle(`Account ${accountNo}`);
  const { user } = useSession();
  const staff = user?.role !== 'customer';
  const [range, setRange] = useState<{ from?: string; to?: string }>({});
  const [fromInput, setFromInput] = useState('');
  const [toInput, setToInput] = useState('');
  const pages = useCursorPages();

  const account = useQuery({
    queryKey: ['account', accountNo],
    queryFn: () => call(api.GET('/accounts/{accountNo}', { params: { path: { accountNo } } })),
  });
  const history = useQuery({
    queryKey: ['history', accountNo, pages.cursor, range.from, range.to],
    queryFn: () =>
      call(
        api.GET('/accounts/{accountNo}/history', {
          params: {
            path: { accountNo },
            query: {
              limit: '20',
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
              ...range,
            },
          },
        }),
      ),
  });

  function applyRange(event: FormEvent) {
    event.preventDefault();
    pages.reset();
    // Dates are days in the reader's zone: from the start of `from` to the end of `to`.
    const next: { from?: string; to?: string } = {};
    if (fromInput) next.from = new Date(`${fromInput}T00:00:00`).toISOString();
    if (toInput) {
      const end = new Date(`${toInput}T00:00:00`);
      end.setDate(end.getDate() + 1);
      next.to = end.toISOString();
    }
    setRange(next);
  }

  if (account.error) {
    return (
      <section>
        <h1>Account {accountNo}</h1>
        <FormAlert errors={toFormErrors(account.error)} shown={[]} />
      </section>
    );
  }
  const a = account.data;
  const historyErrors = history.error ? toFormErrors(history.error) : { fields: {} };
  return (
    <section>
      <h1>
        {a ? a.name : 'Account'} <span className="account-no">{accountNo}</span>
      </h1>
      {a ? (
        <div className="summary">
          <p className="balance">
            Balance <Money value={a.balance} />
          </p>
          {a.isLocked ? (
            <p className="badge locked" role="status">
              Locked
            </p>
          ) : null}
          <p className="small">Owner id {a.ownerId}</p>
        </div>
      ) : (
        <p role="status">Loading…</p>
      )}
      <nav className="actions" aria-label="Account actions">
        <Link className="button" to={`/accounts/${accountNo}/deposit`}>
          Deposit
        </Link>
        <Link className="button" to={`/accounts/${accountNo}/withdraw`}>
          Withdraw
        </Link>
        <Link className="button" to={`/transfer?from=${accountNo}`}>
          Transfer
        </Link>
      </nav>
      {staff && a ? (
        <div className="columns">
          <LockPanel accountNo={accountNo} locked={a.isLocked} />
          <PinResetPanel accountNo={accountNo} locked={a.isLocked} />
        </div>
      ) : null}

      <h2>History</h2>
      <form method="post" className="inline" onSubmit={applyRange}>
        <Field
          label="From date"
          field="from"
          type="date"
          errors={historyErrors}
          value={fromInput}
          onChange={(e) => setFromInput(e.target.value)}
        />
        <Field
          label="To date"
          field="to"
          type="date"
          errors={historyErrors}
          value={toInput}
          onChange={(e) => setToInput(e.target.value)}
        />
        <button type="submit">Show</button>
      </form>
      <FormAlert errors={historyErrors} shown={['from', 'to']} />
      {history.data && history.data.items.length > 0 ? (
        <>
          <BalanceChart entries={history.data.items} />
          <table className="history">
            <caption className="visually-hidden">Ledger entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Details</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col" className="num">
                  Balance
                </th>
              </tr>
            </thead>
            <tbody>
              {history.data.items.map((e) => {
                const debit = e.type === 'WITHDRAWAL' || e.type === 'TRANSFER_OUT';
                return (
                  <tr key={e.entryId}>
                    <td>{dateTime.format(new Date(e.createdAt))}</td>
                    <td>{entryTypes[e.type]}</td>
                    <td>
                      {e.counterpartyAccountNo ? `${debit ? 'to' : 'from'} ${e.counterpartyAccountNo}` : ''}
                      {e.memo ? <span className="memo"> {e.memo}</span> : null}
                    </td>
                    <td className={`num ${debit ? 'debit' : 'credit'}`}>
                      {debit ? '−' : '+'}
                      <Money value={e.amount} />
                    </td>
                    <td className="num">
                      <Money value={e.balanceAfter} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      ) : history.data ? (
        <p>No entries{range.from || range.to ? ' in this range' : ''}.</p>
      ) : null}
      <Pager
        label="History pages"
        page={pages.page}
        nextCursor={history.data?.nextCursor}
        onNext={pages.next}
        onPrevious={pages.previous}
      />
    </section>
  );
}

function LockPanel({ accountNo, locked }: { readonly accountNo: string; readonly locked: boolean }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  const [errors, setErrors, clearErrors] = useFormErrors();
  const change = useMutation({
    mutationFn: () =>
      locked
        ? call(api.POST('/accounts/{accountNo}/unlock', { params: { path: { accountNo } }, body: {} }))
        : call(api.POST('/accounts/{accountNo}/lock', { params: { path: { accountNo } }, body: { reason } })),
    onSuccess: (account) => {
      clearErrors();
      setReason('');
      queryClient.setQueryData(['account', accountNo], account);
      queryClient.removeQueries({ queryKey: ['accounts'], type: 'inactive' });
      void queryClient.invalidateQueries({ queryKey: ['accounts'] });
    },
    onError: setErrors,
  });
  return (
    <form
      method="post"
      className="panel"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!change.isPending) change.mutate();
      }}
    >
      <h2>{locked ? 'Unlock the account' : 'Lock the account'}</h2>
      <FormAlert errors={errors} shown={['reason']} />
      {locked ? (
        <p>Unlocking also resets the count of wrong PINs.</p>
      ) : (
        <Field
          label="Reason"
          field="reason"
          errors={errors}
          required
          maxLength={200}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          hint="Required: why the account is locked. It goes into the audit log."
        />
      )}
      <button type="submit" disabled={change.isPending}>
        {locked ? 'Unlock' : 'Lock'}
      </button>
      {change.isSuccess ? (
        <p role="status">{change.data.isLocked ? 'The account is locked.' : 'The account is unlocked.'}</p>
      ) : null}
    </form>
  );
}

/** Staff set a new PIN (the customer forgot theirs): no current PIN, no one-time code. */
function PinResetPanel({ accountNo, locked }: { readonly accountNo: string; readonly locked: boolean }) {
  const [newPin, setNewPin] = useState('');
  const [errors, setErrors, clearErrors] = useFormErrors();
  const reset = useMutation({
    mutationFn: () =>
      call(api.POST('/accounts/{accountNo}/pin', { params: { path: { accountNo } }, body: { newPin } })),
    onSuccess: () => {
      clearErrors();
      setNewPin('');
    },
    onError: setErrors,
  });
  return (
    <form
      method="post"
      className="panel"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!reset.isPending) reset.mutate();
      }}
    >
      <h2>Reset the PIN</h2>
      <p>
        For a customer who forgot their PIN. This also resets the count of wrong PINs, but it does not unlock
        a locked account: unlock it separately.
      </p>
      <FormAlert errors={errors} shown={['newPin']} />
      <PinField
        label="New PIN"
        field="newPin"
        errors={errors}
        value={newPin}
        onChange={(e) => setNewPin(e.target.value)}
        hint={pinRule}
      />
      <button type="submit" disabled={reset.isPending}>
        Reset PIN
      </button>
      {reset.isSuccess ? (
        <p role="status" className="notice">
          The PIN is reset and the count of wrong PINs is back to zero.
          {locked ? ' The account is still locked.' : ''}
        </p>
      ) : null}
    </form>
  );
}
