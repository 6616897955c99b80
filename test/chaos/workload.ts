import type { Rng } from './prng';

/**
 * The bank workload (after Jepsen's): clients move money among a few accounts with an
 * Idempotency-Key on every movement, and retry a failed or unanswered request with the same key
 * until it is answered, or give up after a stated bound. Every attempt and its outcome is kept
 * for the checker.
 */
export type OpKind = 'deposit' | 'withdraw' | 'transfer';

export interface Op {
  readonly id: number;
  readonly client: number;
  readonly kind: OpKind;
  /** The actor (teller or customer) whose key this is: keys are scoped per user. */
  readonly userId: string;
  readonly asCustomer: boolean;
  readonly key: string;
  readonly accountNo: string;
  readonly toAccountNo?: string;
  readonly amountMinor: bigint;
  attempts: number;
  /** 'acked': a 2xx; 'refused': a definitive 4xx; 'unknown': gave up without an answer. */
  outcome: 'acked' | 'refused' | 'unknown' | 'pending';
  status?: number;
  code?: string;
  replayed?: boolean;
  /** x-request-id of the answered attempt. */
  requestId?: string;
  /** entryId (deposit, withdrawal) or transferId from the acknowledged answer. */
  resultId?: string;
}

export interface Actor {
  readonly userId: string;
  readonly username: string;
  readonly password: string;
  token: string;
  readonly role: 'teller' | 'customer';
}

export interface AccountRef {
  readonly accountNo: string;
  readonly ownerId: string;
  readonly pin: string;
}

export interface RetryBound {
  /** Attempts per operation, the first included. */
  readonly maxAttempts: number;
  /** Wall time per operation across its attempts. */
  readonly maxMs: number;
  /** One attempt's client-side timeout (longer than the function timeout). */
  readonly attemptTimeoutMs: number;
}

export interface ClientDeps {
  readonly baseUrl: string;
  readonly rng: Rng;
  readonly client: number;
  readonly seed: number;
  readonly tellers: readonly Actor[];
  readonly customers: ReadonlyMap<string, Actor>;
  readonly accounts: readonly AccountRef[];
  readonly bound: RetryBound;
  /** Share of movements made by a customer with the PIN. */
  readonly customerShare: number;
  /** Takes the next operation number, or undefined when the run has made enough. */
  readonly nextOp: () => number | undefined;
  readonly record: (op: Op) => void;
  readonly relogin: (actor: Actor) => Promise<void>;
  /** Counts what the client saw per attempt: 'status 200', 'INTEGRATION_TIMEOUT', 'no answer'... */
  readonly observe: (what: string) => void;
}

const money = (minor: bigint): string => `${minor / 100n}.${(minor % 100n).toString().padStart(2, '0')}`;

function planOp(deps: ClientDeps, id: number): { op: Op; path: string; body: Record<string, unknown> } {
  const { rng, accounts } = deps;
  const roll = rng.next();
  const kind: OpKind = roll < 0.35 ? 'deposit' : roll < 0.55 ? 'withdraw' : 'transfer';
  const from = rng.pick(accounts);
  let to = rng.pick(accounts);
  while (kind === 'transfer' && to.accountNo === from.accountNo) to = rng.pick(accounts);
  const asCustomer = rng.chance(deps.customerShare);
  const customer = deps.customers.get(from.ownerId);
  const actor = asCustomer && customer ? customer : rng.pick(deps.tellers);
  // Deposits a little larger than debits, so most debits find money and some do not.
  const amountMinor = BigInt(kind === 'deposit' ? rng.int(100, 30_000) : rng.int(100, 20_000));
  const key = `chaos-${deps.seed}-${id}`;
  const body: Record<string, unknown> =
    kind === 'transfer'
      ? { fromAccountNo: from.accountNo, toAccountNo: to.accountNo, amount: money(amountMinor) }
      : { amount: money(amountMinor) };
  if (actor.role === 'customer') body.pin = from.pin;
  const path = kind === 'transfer' ? '/transfers' : `/accounts/${from.accountNo}/${kind}`;
  const op: Op = {
    id,
    client: deps.client,
    kind,
    userId: actor.userId,
    asCustomer: actor.role === 'customer',
    key,
    accountNo: from.accountNo,
    ...(kind === 'transfer' ? { toAccountNo: to.accountNo } : {}),
    amountMinor,
    attempts: 0,
    outcome: 'pending',
  };
  return { op, path, body };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One client: operations one after another until the run has made enough. */
export async function runClient(deps: ClientDeps): Promise<void> {
  for (let id = deps.nextOp(); id !== undefined; id = deps.nextOp()) {
    const { op, path, body } = planOp(deps, id);
    const actor =
      op.asCustomer && deps.customers.get(op.userId)
        ? deps.customers.get(op.userId)
        : deps.tellers.find((t) => t.userId === op.userId);
    if (!actor) throw new Error(`no actor ${op.userId}`);
    const started = Date.now();
    const payload = JSON.stringify(body);
    while (op.outcome === 'pending') {
      if (op.attempts >= deps.bound.maxAttempts || Date.now() - started > deps.bound.maxMs) {
        op.outcome = 'unknown';
        break;
      }
      op.attempts += 1;
      let response: Response;
      let text: string;
      try {
        response = await fetch(`${deps.baseUrl}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${actor.token}`,
            'content-type': 'application/json',
            'idempotency-key': op.key,
          },
          body: payload,
          signal: AbortSignal.timeout(deps.bound.attemptTimeoutMs),
        });
        text = await response.text();
      } catch {
        deps.observe('no answer');
        // No answer (connection refused or cut, or our own timeout): the same request again.
        await sleep(deps.rng.int(100, 600));
        continue;
      }
      deps.observe(
        response.status === 503 && text.includes('INTEGRATION_TIMEOUT')
          ? 'function timeout (503)'
          : `status ${response.status}`,
      );
      if (response.status === 401) {
        // A token past its 15 minutes in a long run; not an answer about the movement.
        await deps.relogin(actor).catch(() => undefined);
        continue;
      }
      if (response.status >= 500) {
        await sleep(deps.rng.int(50, 400));
        continue;
      }
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = {};
      }
      op.status = response.status;
      op.requestId = response.headers.get('x-request-id') ?? undefined;
      if (response.status >= 200 && response.status < 300) {
        op.outcome = 'acked';
        op.replayed = response.headers.get('idempotent-replayed') === 'true';
        const resultId = parsed.entryId ?? parsed.transferId;
        if (typeof resultId === 'string') op.resultId = resultId;
      } else {
        op.outcome = 'refused';
        if (typeof parsed.code === 'string') op.code = parsed.code;
      }
    }
    deps.record(op);
    if (op.code === 'ACCOUNT_LOCKED') await unlock(deps, [op.accountNo, op.toAccountNo]);
  }
}

/**
 * Lost answers after a PIN check was reserved count as wrong PINs after a minute, and enough of
 * them lock an account; a teller unlocks it, as the bank would, so the run keeps moving money.
 * Unlocking is idempotent in effect, so it is simply retried a few times.
 */
async function unlock(deps: ClientDeps, accountNos: readonly (string | undefined)[]): Promise<void> {
  const teller = deps.rng.pick(deps.tellers);
  for (const accountNo of accountNos) {
    if (!accountNo) continue;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        const response = await fetch(`${deps.baseUrl}/accounts/${accountNo}/unlock`, {
          method: 'POST',
          headers: { authorization: `Bearer ${teller.token}`, 'content-type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(deps.bound.attemptTimeoutMs),
        });
        await response.text();
        if (response.status < 500) {
          deps.observe(`unlock ${response.status}`);
          break;
        }
      } catch {
        // Retried below.
      }
      await sleep(deps.rng.int(100, 500));
    }
  }
}
