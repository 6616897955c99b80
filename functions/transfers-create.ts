import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { parseAmountMinor } from '../shared/money';
import { moveMoney } from '../shared/operations';
import type { transferBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /transfers: from an account (a customer's own, with its PIN) to any existing account. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const body = context.bank.input.body as z.output<typeof transferBody>;
  const amountMinor = parseAmountMinor(body.amount);
  return moveMoney(context, {
    action: 'transfers.create',
    pin: body.pin,
    otp: body.otp,
    request: {
      fromAccountNo: body.fromAccountNo,
      toAccountNo: body.toAccountNo,
      amount: body.amount,
      memo: body.memo,
    },
    sql: 'SELECT bank_transfer(:ctx, :from, :to, :amount::bigint, :memo, :pin, :otp, :idemKey, :idemHash)::text',
    params: (pin, otp, idemKey, idemHash) => [
      p.text('from', body.fromAccountNo),
      p.text('to', body.toAccountNo),
      p.bigint('amount', amountMinor),
      p.text('memo', body.memo),
      p.text('pin', pin),
      p.text('otp', otp),
      p.text('idemKey', idemKey),
      p.text('idemHash', idemHash),
    ],
  });
};

export const handler = middy(core).use(bankStack('transfers.create'));
