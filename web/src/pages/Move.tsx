import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type RefObject, useEffect, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiProblem, api, call, type Movement, type Transfer } from '../api/client';
import { forgetBalances } from '../balances';
import { Field, FormAlert, PinField, SelectField } from '../components/Field';
import { Money } from '../components/Money';
import { IdempotencyKeys } from '../idempotency';
import { formatMoney, fromCents, isAmount, normalizeAmount, toCents } from '../money';
import { type FormErrors, toFormErrors } from '../problem-form';
import { useSession } from '../session';
import { useTitle } from '../title';

export type MoveKind = 'deposit' | 'withdraw' | 'transfer';

const titles: Readonly<Record<MoveKind, string>> = {
  deposit: 'Deposit',
  withdraw: 'Withdraw',
  transfer: 'Transfer',
};

interface Draft {
  readonly from: string;
  readonly to: string;
  readonly amount: string;
  readonly memo: string;
  readonly pin: string;
  /** A one-time code, asked for once the API answers STEP_UP_REQUIRED. */
  readonly otp: string;
}

/** A customer's large movement needs a one-time code: asked for, or enrolment first. */
type StepUp = 'none' | 'code' | 'enrol';

type Receipt =
  | { kind: 'movement'; movement: Movement }
  | { kind: 'transfer'; transfer: Transfer }
  // A teller's movement at or over the approval amount: 202, nothing moved until a second person approves.
  | { kind: 'approval'; approvalId: string; status: string };

export function DepositPage() {
  const { accountNo = '' } = useParams();
  return <MoveForm kind="deposit" initialFrom={accountNo} key={`deposit-${accountNo}`} />;
}
export function WithdrawPage() {
  const { accountNo = '' } = useParams();
  return <MoveForm kind="withdraw" initialFrom={accountNo} key={`withdraw-${accountNo}`} />;
}
export function TransferPage() {
  const [search] = useSearchParams();
  const from = search.get('from') ?? '';
  return <MoveForm kind="transfer" initialFrom={from} key={`transfer-${from}`} />;
}

/**
 * Edit → review → confirm → receipt. One Idempotency-Key per reviewed form: every confirm of the
 * same body carries the same key (a double click or a retry replays, never moves twice), and a
 * changed body gets a new one (an edit). The one-time code is not part of the body's identity (the
 * API leaves it out): a retry with a fresh code after a lost answer replays, never moves again.
 */
function MoveForm({ kind, initialFrom }: { readonly kind: MoveKind; readonly initialFrom: string }) {
  useTitle(titles[kind]);
  const { user } = useSession();
  const customer = user?.role === 'customer';
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>({
    from: initialFrom,
    to: '',
    amount: '',
    memo: '',
    pin: '',
    otp: '',
  });
  const [step, setStep] = useState<'edit' | 'review' | 'done'>('edit');
  const [stepUp, setStepUp] = useState<StepUp>('none');
  const [receipt, setReceipt] = useState<Receipt | undefined>(undefined);
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const clearErrors = () => setErrors({ fields: {} });
  const [keys] = useState(() => new IdempotencyKeys());
  const inFlight = useRef(false);
  // Each step's heading takes the focus, so keyboard and screen-reader users start there.
  const heading = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the step changes, on purpose
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    heading.current?.focus();
  }, [step]);

  const own = useQuery({
    queryKey: ['accounts', 'own'],
    queryFn: () => call(api.GET('/accounts', { params: { query: { limit: '100' } } })),
    enabled: customer,
  });
  const validNo = /^[0-9]{12}$/.test(draft.from);
  const account = useQuery({
    queryKey: ['account', draft.from],
    queryFn: () => call(api.GET('/accounts/{accountNo}', { params: { path: { accountNo: draft.from } } })),
    enabled: validNo,
    retry: false,
  });

  const balance = account.data?.balance;
  const cents = toCents(draft.amount);
  const after =
    balance !== undefined && cents !== undefined && isAmount(draft.amount)
      ? fromCents((toCents(balance) ?? 0n) + (kind === 'deposit' ? cents : -cents))
      : undefined;

  const send = useMutation({
    mutationFn: async (): Promise<Receipt> => {
      const amount = normalizeAmount(draft.amount);
      const otp = draft.otp.trim();
      const extras = {
        ...(draft.memo.trim() ? { memo: draft.memo.trim() } : {}),
        ...(customer ? { pin: draft.pin } : {}),
        ...(customer && stepUp === 'code' && otp ? { otp } : {}),
      };
      if (kind === 'transfer') {
        const body = { fromAccountNo: draft.from, toAccountNo: draft.to.trim(), amount, ...extras };
        const headers = { 'Idempotency-Key': keys.keyFor('/transfers', body) };
        const transfer = await call(api.POST('/transfers', { params: { header: headers }, body }));
        if ('approvalId' in transfer)
          return { kind: 'approval', approvalId: transfer.approvalId, status: transfer.status };
        return { kind: 'transfer', transfer };
      }
      const path = kind === 'deposit' ? '/accounts/{accountNo}/deposit' : '/accounts/{accountNo}/withdraw';
      const body = { amount, ...extras };
      const headers = { 'Idempotency-Key': keys.keyFor(`${path} ${draft.from}`, body) };
      const movement = await call(
        api.POST(path, { params: { path: { accountNo: draft.from }, header: headers }, body }),
      );
      if ('approvalId' in movement)
        return { kind: 'approval', approvalId: movement.approvalId, status: movement.status };
      return { kind: 'movement', movement };
    },
    onSuccess: (result) => {
      clearErrors();
      setReceipt(result);
      setStep('done');
      keys.settled();
      forgetBalances(queryClient);
    },
    onError: (error) => {
      showError(error);
      // A refusal goes back to the form (an edited body gets a new key); an unanswered or failed
      // request stays here, and Confirm retries with the same body, so with the same key (a fresh
      // one-time code, too, keeps the key).
      if (error instanceof ApiProblem && error.status < 500) {
        setStep('edit');
        // A code is good once: a refused request spent it, or it was wrong. Ask for a fresh one.
        setDraft((d) => ({ ...d, otp: '' }));
      }
    },
  });

  function showError(error: unknown) {
    const next = toFormErrors(error);
    if (error instanceof ApiProblem && error.code === 'STEP_UP_REQUIRED') {
      if (error.problem.enrolmentRequired === true) {
        setStepUp('enrol');
        setErrors({
          fields: next.fields,
          form: 'A movement of this size needs a one-time code from an authenticator app, and you have not enrolled one yet.',
        });
      } else {
        setStepUp('code');
        setErrors({
          fields: { ...next.fields, otp: 'Enter the one-time code from your authenticator app.' },
          ...(next.form !== undefined ? { form: next.form } : {}),
        });
      }
      return;
    }
    setErrors(next);
  }

  function edit<K extends keyof Draft>(field: K, value: string) {
    setDraft((d) => ({ ...d, [field]: value }));
  }

  function review(event: FormEvent) {
    event.preventDefault();
    clearErrors();
    setStep('review');
  }

  function confirm(event: FormEvent) {
    event.preventDefault();
    // A second click before React re-renders the disabled button: ignored here, and were it
    // sent, it would carry the same Idempotency-Key and be replayed, not moved again.
    if (inFlight.current) return;
    inFlight.current = true;
    send.mutate(undefined, {
      onSettled: () => {
        inFlight.current = false;
      },
    });
  }

  const title = titles[kind];
  const fromLabel = kind === 'deposit' ? 'To account' : 'From account';
  const fromField = kind === 'transfer' ? 'fromAccountNo' : 'accountNo';

  if (step === 'done' && receipt) {
    return <ReceiptView receipt={receipt} kind={kind} memo={draft.memo.trim()} headingRef={heading} />;
  }

  if (step === 'review') {
    return (
      <section>
        <h1 ref={heading} tabIndex={-1}>
          {title}: review
        </h1>
        <form method="post" onSubmit={confirm}>
          <FormAlert errors={errors} shown={[]} />
          <dl className="review">
            <dt>{fromLabel}</dt>
            <dd>{draft.from}</dd>
            {kind === 'transfer' ? (
              <>
                <dt>To account</dt>
                <dd>{draft.to.trim()}</dd>
              </>
            ) : null}
            <dt>Amount</dt>
            <dd>
              <Money value={normalizeAmount(draft.amount)} />
            </dd>
            {draft.memo.trim() ? (
              <>
                <dt>Memo</dt>
                <dd>{draft.memo.trim()}</dd>
              </>
            ) : null}
            {balance !== undefined ? (
              <>
                <dt>Balance now</dt>
                <dd>
                  <Money value={balance} />
                </dd>
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
          <div className="buttons">
            <button type="submit" disabled={send.isPending}>
              Confirm
            </button>
            <button
              type="button"
              className="secondary"
              disabled={send.isPending}
              onClick={() => setStep('edit')}
            >
              Change
            </button>
          </div>
          {send.isPending ? <p role="status">Sending…</p> : null}
        </form>
      </section>
    );
  }

  const shown = [fromField, 'accountNo', 'fromAccountNo', 'toAccountNo', 'amount', 'memo', 'pin'];
  if (stepUp === 'code') shown.push('otp');
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      <form method="post" onSubmit={review} noValidate>
        <FormAlert errors={errors} shown={shown} />
        {stepUp === 'enrol' ? (
          <p className="notice warn">
            Enrol an authenticator app in <Link to="/settings">Settings</Link> first, then come back and send
            this again.
          </p>
        ) : null}
        {customer ? (
          // One element from the first render on (a select, filled when the accounts arrive), so
          // the focus never sits on an input that is then replaced.
          <SelectField
            label={fromLabel}
            field={fromField}
            errors={errors}
            value={draft.from}
            onChange={(v) => edit('from', v)}
            options={
              own.data
                ? [
                    { value: '', label: 'Choose an account' },
                    ...own.data.items.map((a) => ({
                      value: a.accountNo,
                      label: `${a.name} ${a.accountNo} (${formatMoney(a.balance)})`,
                    })),
                  ]
                : [{ value: draft.from, label: draft.from || 'Loading your accounts…' }]
            }
          />
        ) : (
          <Field
            label={fromLabel}
            field={fromField}
            errors={errors}
            inputMode="numeric"
            autoComplete="off"
            value={draft.from}
            onChange={(e) => edit('from', e.target.value.trim())}
          />
        )}
        <p className="current" aria-live="polite">
          {balance !== undefined ? (
            <>
              Current balance: <Money value={balance} />
              {after !== undefined ? (
                <>
                  {' '}
                  · after this: <Money value={after} className={after.startsWith('-') ? 'debit' : ''} />
                </>
              ) : null}
            </>
          ) : account.isError && validNo ? (
            'No such account, or it is not yours.'
          ) : null}
        </p>
        {kind === 'transfer' ? (
          <Field
            label="To account"
            field="toAccountNo"
            errors={errors}
            inputMode="numeric"
            autoComplete="off"
            value={draft.to}
            onChange={(e) => edit('to', e.target.value)}
          />
        ) : null}
        <Field
          label="Amount"
          field="amount"
          errors={errors}
          inputMode="decimal"
          autoComplete="off"
          value={draft.amount}
          onChange={(e) => edit('amount', e.target.value)}
          hint="For example 125.50"
        />
        <Field
          label="Memo"
          field="memo"
          errors={errors}
          maxLength={80}
          value={draft.memo}
          onChange={(e) => edit('memo', e.target.value)}
        />
        {customer ? (
          <PinField
            label="PIN"
            field="pin"
            errors={errors}
            value={draft.pin}
            onChange={(e) => edit('pin', e.target.value)}
          />
        ) : null}
        {customer && stepUp === 'code' ? (
          <Field
            label="One-time code"
            field="otp"
            errors={errors}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            value={draft.otp}
            onChange={(e) => edit('otp', e.target.value)}
            hint="The 6 digits your authenticator app shows now."
          />
        ) : null}
        <button type="submit">Review</button>
      </form>
    </section>
  );
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'medium' });

function ReceiptView({
  receipt,
  kind,
  memo,
  headingRef,
}: {
  readonly receipt: Receipt;
  readonly kind: MoveKind;
  readonly memo: string;
  readonly headingRef: RefObject<HTMLHeadingElement | null>;
}) {
  if (receipt.kind === 'approval') {
    return (
      <section className="receipt">
        <h1 ref={headingRef} tabIndex={-1}>
          Waiting for approval
        </h1>
        <p role="status" className="notice">
          {titles[kind]} of this size waits for a second person: approval{' '}
          <span className="mono">{receipt.approvalId}</span> is {receipt.status}. Nothing has moved yet.
        </p>
        <div className="buttons no-print">
          <Link className="button" to="/approvals">
            Open the approvals inbox
          </Link>
        </div>
      </section>
    );
  }
  const accountNo = receipt.kind === 'transfer' ? receipt.transfer.fromAccountNo : receipt.movement.accountNo;
  return (
    <section className="receipt">
      <h1 ref={headingRef} tabIndex={-1}>
        Receipt
      </h1>
      <p role="status" className="notice">
        {titles[kind]} done.
      </p>
      <dl className="review">
        {receipt.kind === 'transfer' ? (
          <>
            <dt>Transfer</dt>
            <dd className="mono">{receipt.transfer.transferId}</dd>
            <dt>From account</dt>
            <dd>{receipt.transfer.fromAccountNo}</dd>
            <dt>To account</dt>
            <dd>{receipt.transfer.toAccountNo}</dd>
            <dt>Amount</dt>
            <dd>
              <Money value={receipt.transfer.amount} />
            </dd>
            <dt>Balance after</dt>
            <dd>
              <Money value={receipt.transfer.fromBalanceAfter} />
            </dd>
            <dt>Time</dt>
            <dd>{when.format(new Date(receipt.transfer.createdAt))}</dd>
          </>
        ) : (
          <>
            <dt>Entry</dt>
            <dd className="mono">{receipt.movement.entryId}</dd>
            <dt>Account</dt>
            <dd>{receipt.movement.accountNo}</dd>
            <dt>Type</dt>
            <dd>{receipt.movement.type === 'DEPOSIT' ? 'Deposit' : 'Withdrawal'}</dd>
            <dt>Amount</dt>
            <dd>
              <Money value={receipt.movement.amount} />
            </dd>
            <dt>Balance after</dt>
            <dd>
              <Money value={receipt.movement.balanceAfter} />
            </dd>
            <dt>Time</dt>
            <dd>{when.format(new Date(receipt.movement.createdAt))}</dd>
          </>
        )}
        {memo ? (
          <>
            <dt>Memo</dt>
            <dd>{memo}</dd>
          </>
        ) : null}
      </dl>
      <div className="buttons no-print">
        <button type="button" onClick={() => window.print()}>
          Print receipt
        </button>
        <Link className="button secondary" to={`/accounts/${accountNo}`}>
          Back to the account
        </Link>
      </div>
    </section>
  );
}
