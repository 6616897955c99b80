import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import { ValidationError } from '../shared/errors';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { noContent, principalOf, runOperation } from '../shared/operations';
import type { accountParams, pinChangeBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/**
 * POST /accounts/{accountNo}/pin. A customer (own account) gives the current PIN and a TOTP
 * code, both judged by the database under the account's row lock; a teller or admin sets it
 * without either. The wrong-PIN count starts again; a lock stays.
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { accountNo } = context.bank.input.params as z.output<typeof accountParams>;
  const body = context.bank.input.body as z.output<typeof pinChangeBody>;
  const customer = principalOf(context).role === 'customer';
  if (customer && body.currentPin === undefined) {
    throw new ValidationError('a customer must give the current PIN', [
      { path: 'body.currentPin', message: 'is required' },
    ]);
  }
  if (!customer && body.currentPin !== undefined) {
    throw new ValidationError('tellers and admins set a PIN without the current one', [
      { path: 'body.currentPin', message: 'is not allowed for your role' },
    ]);
  }
  await runOperation(context, 'SELECT bank_account_pin(:ctx, :accountNo, :currentPin, :newPin, :otp)::text', [
    p.text('accountNo', accountNo),
    p.text('currentPin', body.currentPin),
    p.text('newPin', body.newPin),
    p.text('otp', body.otp),
  ]);
  return noContent();
};

export const handler = middy(core).use(bankStack('accounts.pin'));
