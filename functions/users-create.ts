import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { hashSecret } from '../shared/auth/passwords';
import { grantFor } from '../shared/auth/policy';
import { p } from '../shared/db/data-api';
import { ForbiddenError } from '../shared/errors';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { principalOf, respond, runOperation } from '../shared/operations';
import type { createUserBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /users: tellers create customers; admins create any role. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const body = context.bank.input.body as z.output<typeof createUserBody>;
  if (grantFor('users.create', principalOf(context).role) === 'customersOnly' && body.role !== 'customer') {
    throw new ForbiddenError('a teller may create customers only');
  }
  return respond(
    await runOperation(context, 'SELECT bank_user_create(:ctx, :username, :hash, :role, :otp)::text', [
      p.text('username', body.username),
      p.text('hash', await hashSecret(body.password)),
      p.text('role', body.role),
      p.text('otp', body.otp),
    ]),
  );
};

export const handler = middy(core).use(bankStack('users.create'));
