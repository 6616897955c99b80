import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { parseAmountMinor } from '../shared/money';
import { moveMoney } from '../shared/operations';
import type { accountParams, movementBody } from '../shared/schemas';

/** POST /accounts/{accountNo}/withdraw: Withdrawal; customers give the account PIN. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { accountNo } = context.bank.input.params as z.output<typeof accountParams>;
  const body = context.bank.input.body as z.output<typeof movementBody>;
  const amountMinor = parseAmountMinor(body.amount);
  return moveMoney(context, {
    action: 'accounts.withdraw',
    pinAccountNo: accountNo,
    pin: body.pin,
    request: { accountNo, amount: body.amount, memo: body.memo },
    details: { accountNo, amount: body.amount },
    sql: "SELECT bank_move(:ctx, 'WITHDRAWAL', :accountNo, :amount::bigint, :memo, :pinVerified, :idemKey, :idemHash)::text",
    params: (pinVerified, idemKey, idemHash) => [
      p.text('accountNo', accountNo),
      p.bigint('amount', amountMinor),
      p.text('memo', body.memo),
      p.bool('pinVerified', pinVerified),
      p.text('idemKey', idemKey),
      p.text('idemHash', idemHash),
    ],
  });
};

export const handler = middy(core).use(bankStack('accounts.withdraw'));
