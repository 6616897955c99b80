import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiProblem, type Approval, api, call, humanMessage, type User } from '../api/client';
import { forgetBalances } from '../balances';
import { Field, FormAlert, SelectField } from '../components/Field';
import { Money } from '../components/Money';
import { Pager, useCursorPages } from '../components/Pager';
import { formatMoney } from '../money';
import { type FormErrors, toFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

/**
 * The maker-checker inbox (API.md v1.1): a teller's movement of at least the approval amount
 * waits here until another teller or an admin approves it (it executes then, with every check
 * made again) or rejects it with a reason. Nobody decides their own.
 */
type Status = Approval['status'];

const statusLabels: Readonly<Record<Status, string>> = {
  pending: 'Pending',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
};
const actionLabels: Readonly<Record<Approval['action'], string>> = {
  'accounts.deposit': 'Deposit',
  'accounts.withdraw': 'Withdrawal',
  'transfers.create': 'Transfer',
};

function isStatus(value: string | null): value is Status {
  return value === 'pending' || value === 'approved' || value === 'rejected' || value === 'expired';
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const DAY_MS = 24 * 60 * 60_000;

/** What the maker asked for, read from the approval's `request` (an object of strings). */
interface Asked {
  readonly accountNo?: string;
  readonly fromAccountNo?: string;
  readonly toAccountNo?: string;
  readonly amount?: string;
  readonly memo?: string;
}
function askedOf(approval: Approval): Asked {
  const r = approval.request;
  const text = (key: string): Partial<Record<string, string>> => {
    const value = r[key];
    return typeof value === 'string' && value !== '' ? { [key]: value } : {};
  };
  return {
    ...text('accountNo'),
    ...text('fromAccountNo'),
    ...text('toAccountNo'),
    ...text('amount'),
    ...text('memo'),
  };
}

/** "Deposit of 60,000.00 into 400000000002", for the notices after a decision. */
function describe(approval: Approval): string {
  const asked = askedOf(approval);
  const amount = asked.amount !== undefined ? ` of ${formatMoney(asked.amount)}` : '';
  switch (approval.action) {
    case 'accounts.deposit':
      return `Deposit${amount} into ${asked.accountNo ?? 'an account'}`;
    case 'accounts.withdraw':
      return `Withdrawal${amount} from ${asked.accountNo ?? 'an account'}`;
    case 'transfers.create':
      return `Transfer${amount} from ${asked.fromAccountNo ?? 'an account'} to ${asked.toAccountNo ?? 'an account'}`;
  }
}

/** The balance the executed movement left, from `result`. */
function balanceAfter(approval: Approval): string | undefined {
  const result = approval.result;
  if (!result) return undefined;
  return 'balanceAfter' in result ? result.balanceAfter : result.fromBalanceAfter;
}

/**
 * A refusal in the words of this screen. The generic messages are written for other forms
 * (CONFLICT there is a taken username), so the codes an approval can meet are said here.
 */
function approvalMessage(error: unknown): string {
  if (error instanceof ApiProblem) {
    switch (error.code) {
      case 'CONFLICT':
        return 'This approval was already decided by someone else, or it has expired.';
      case 'FORBIDDEN':
        return 'You made this request, so another person has to approve or reject it.';
      case 'NOT_FOUND':
        return 'No such approval, or its account no longer exists.';
      case 'INSUFFICIENT_FUNDS':
        return 'Not approved: the balance is lower than the amount. It stays pending.';
      case 'ACCOUNT_LOCKED':
        return 'Not approved: the account is locked. It stays pending; unlock the account first, or reject it.';
      case 'LIMIT_EXCEEDED':
        return 'Not approved: this is over the daily limit for the account. It stays pending.';
    }
  }
  return humanMessage(error);
}
function approvalErrors(error: unknown): FormErrors {
  // Only the schema's own field errors (the reason) go next to a field: the codes that name a
  // field on other forms (amount, username) have no such field here.
  const fields = error instanceof ApiProblem ? error.fieldErrors() : toFormErrors(error).fields;
  return { fields, form: approvalMessage(error) };
}

/** Who a user id is: "you", a username when this role may list users, else the id. */
function useNames(me: User | undefined): (id: string) => ReactNode {
  const admin = me?.role === 'admin';
  // One page of users, for an admin only: a teller may list customers only, and makers and
  // checkers are staff.
  const users = useQuery({
    queryKey: ['usernames'],
    queryFn: () => call(api.GET('/users', { params: { query: { limit: '100' } } })),
    enabled: admin,
    staleTime: 5 * 60_000,
  });
  const byId = new Map((users.data?.items ?? []).map((u) => [u.id, u.username]));
  return (id) => {
    if (id === me?.id) return 'you';
    const name = byId.get(id);
    return name ?? <span className="mono">{id}</span>;
  };
}

export function ApprovalsPage() {
  useTitle('Approvals');
  const { user } = useSession();
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const asked = search.get('status');
  const status: Status = isStatus(asked) ? asked : 'pending';
  const [statusInput, setStatusInput] = useState<Status>(status);
  const pages = useCursorPages();
  const nameOf = useNames(user);
  const [notice, setNotice] = useState<{ readonly refused: boolean; readonly text: string } | undefined>(
    undefined,
  );
  // A decided approval leaves the pending list: the focus goes to what happened to it.
  const noticeRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);

  const list = useQuery({
    queryKey: ['approvals', status, pages.cursor],
    queryFn: () =>
      call(
        api.GET('/approvals', {
          params: { query: { status, limit: '20', ...(pages.cursor ? { cursor: pages.cursor } : {}) } },
        }),
      ),
  });
  const listErrors = list.error ? toFormErrors(list.error) : { fields: {} };

  function refresh() {
    void queryClient.invalidateQueries({ queryKey: ['approvals'] });
    // An approval that executed moved money.
    forgetBalances(queryClient);
  }

  function filter(event: FormEvent) {
    event.preventDefault();
    pages.reset();
    setNotice(undefined);
    setSearch(statusInput === 'pending' ? {} : { status: statusInput });
  }

  return (
    <section>
      <h1>Approvals</h1>
      <p>
        A teller&apos;s deposit, withdrawal or transfer of a large amount waits here for a second person.
        Approving it moves the money then, with every check made again.
      </p>
      <form method="post" className="inline" onSubmit={filter}>
        <SelectField
          label="Status"
          field="status"
          errors={listErrors}
          value={statusInput}
          onChange={(v) => setStatusInput(isStatus(v) ? v : 'pending')}
          options={(['pending', 'approved', 'rejected', 'expired'] as const).map((s) => ({
            value: s,
            label: statusLabels[s],
          }))}
        />
        <button type="submit">Show</button>
      </form>
      <FormAlert errors={listErrors} shown={['status']} />
      {notice ? (
        <div
          ref={noticeRef}
          tabIndex={-1}
          className={notice.refused ? 'alert' : 'notice'}
          role={notice.refused ? 'alert' : 'status'}
        >
          <p>{notice.text}</p>
        </div>
      ) : null}
      {list.isPending ? <p role="status">Loading…</p> : null}
      {list.data ? (
        list.data.items.length === 0 ? (
          <p>No {statusLabels[status].toLowerCase()} approvals.</p>
        ) : (
          <ul className="plain approvals">
            {list.data.items.map((approval) => (
              <li key={approval.approvalId}>
                <ApprovalItem
                  approval={approval}
                  mine={approval.makerId === user?.id}
                  nameOf={nameOf}
                  onDecided={(text) => {
                    setNotice({ refused: false, text });
                    refresh();
                  }}
                  onRefused={(text) => {
                    // Already decided elsewhere: it leaves this list, so the message is said above it.
                    if (text !== undefined) setNotice({ refused: true, text });
                    refresh();
                  }}
                />
              </li>
            ))}
          </ul>
        )
      ) : null}
      <Pager
        label="Approvals pages"
        page={pages.page}
        nextCursor={list.data?.nextCursor}
        onNext={pages.next}
        onPrevious={pages.previous}
      />
    </section>
  );
}

function ApprovalItem({
  approval,
  mine,
  nameOf,
  onDecided,
  onRefused,
}: {
  readonly approval: Approval;
  readonly mine: boolean;
  readonly nameOf: (id: string) => ReactNode;
  readonly onDecided: (text: string) => void;
  readonly onRefused: (gone: string | undefined) => void;
}) {
  const headingId = useId();
  const asked = askedOf(approval);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const path = { params: { path: { approvalId: approval.approvalId } } };

  function refused(error: unknown) {
    const next = approvalErrors(error);
    setErrors(next);
    const gone = error instanceof ApiProblem && error.code === 'CONFLICT';
    onRefused(gone ? `${describe(approval)}: ${next.form ?? ''}` : undefined);
  }
  const approve = useMutation({
    mutationFn: () => call(api.POST('/approvals/{approvalId}/approve', { ...path, body: {} })),
    onSuccess: (done) => {
      setErrors({ fields: {} });
      const after = balanceAfter(done);
      onDecided(
        `Approved: ${describe(done)}.${after !== undefined ? ` Balance after: ${formatMoney(after)}.` : ''}`,
      );
    },
    onError: refused,
  });
  const reject = useMutation({
    mutationFn: () => call(api.POST('/approvals/{approvalId}/reject', { ...path, body: { reason } })),
    onSuccess: (done) => {
      setErrors({ fields: {} });
      onDecided(`Rejected: ${describe(done)}. Nothing moved.`);
    },
    onError: refused,
  });
  const busy = approve.isPending || reject.isPending;
  const after = balanceAfter(approval);

  return (
    <article className="panel approval" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {actionLabels[approval.action]}
        {asked.amount !== undefined ? (
          <>
            {' '}
            of <Money value={asked.amount} />
          </>
        ) : null}
      </h2>
      <dl className="review">
        {approval.action === 'transfers.create' ? (
          <>
            <dt>From account</dt>
            <dd>{asked.fromAccountNo ? <AccountLink accountNo={asked.fromAccountNo} /> : '—'}</dd>
            <dt>To account</dt>
            <dd>{asked.toAccountNo ? <AccountLink accountNo={asked.toAccountNo} /> : '—'}</dd>
          </>
        ) : (
          <>
            <dt>Account</dt>
            <dd>{asked.accountNo ? <AccountLink accountNo={asked.accountNo} /> : '—'}</dd>
          </>
        )}
        <dt>Amount</dt>
        <dd>{asked.amount !== undefined ? <Money value={asked.amount} /> : '—'}</dd>
        {asked.memo !== undefined ? (
          <>
            <dt>Memo</dt>
            <dd>{asked.memo}</dd>
          </>
        ) : null}
        <dt>Made by</dt>
        <dd>{nameOf(approval.makerId)}</dd>
        <dt>Made at</dt>
        <dd>{dateTime.format(new Date(approval.createdAt))}</dd>
        <dt>Status</dt>
        <dd>
          <span className={`badge ${approval.status}`}>{statusLabels[approval.status]}</span>
        </dd>
        {approval.status === 'pending' ? (
          <>
            <dt>Expires</dt>
            <dd>{dateTime.format(new Date(Date.parse(approval.createdAt) + DAY_MS))}</dd>
          </>
        ) : null}
        {approval.checkerId ? (
          <>
            <dt>Decided by</dt>
            <dd>{nameOf(approval.checkerId)}</dd>
          </>
        ) : null}
        {approval.decidedAt ? (
          <>
            <dt>Decided at</dt>
            <dd>{dateTime.format(new Date(approval.decidedAt))}</dd>
          </>
        ) : null}
        {approval.reason ? (
          <>
            <dt>Reason</dt>
            <dd>{approval.reason}</dd>
          </>
        ) : null}
        {after !== undefined ? (
          <>
            <dt>Balance after</dt>
            <dd>
              <Money value={after} />
            </dd>
          </>
        ) : null}
      </dl>
      {approval.status === 'pending' && mine ? (
        <p className="notice waiting">Waiting for another person: nobody approves their own request.</p>
      ) : null}
      {approval.status === 'pending' && !mine ? (
        <>
          <FormAlert errors={errors} shown={['reason']} />
          <div className="decide">
            <form
              method="post"
              onSubmit={(e) => {
                e.preventDefault();
                if (!busy) approve.mutate();
              }}
            >
              <button type="submit" disabled={busy}>
                Approve
              </button>
            </form>
            <form
              method="post"
              className="inline"
              noValidate
              onSubmit={(e) => {
                e.preventDefault();
                if (!busy) reject.mutate();
              }}
            >
              <Field
                label="Reason"
                field="reason"
                errors={errors}
                maxLength={200}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                hint="Needed to reject; kept with the approval and in the audit log."
              />
              <button type="submit" className="secondary" disabled={busy}>
                Reject
              </button>
            </form>
          </div>
          {busy ? <p role="status">Sending…</p> : null}
        </>
      ) : null}
    </article>
  );
}

function AccountLink({ accountNo }: { readonly accountNo: string }) {
  return <Link to={`/accounts/${accountNo}`}>{accountNo}</Link>;
}
