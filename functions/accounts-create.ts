import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { createAccountBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /accounts: a teller or admin opens an account, with its PIN, for a customer. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const body = context.bank.input.body as z.output<typeof createAccountBody>;
  return respond(
    await runOperation(context, 'SELECT bank_account_create(:ctx, :ownerId, :name, :pin)::text', [
      p.uuid('ownerId', body.ownerId),
      p.text('name', body.name),
      // The PIN is hashed by the database (bank_pin_hash), in the form it verifies.
      p.text('pin', body.pin),
    ]),
  );
};

export const handler = middy(core).use(bankStack('accounts.create'));
