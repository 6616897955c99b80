import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { totpConfirmBody } from '../shared/schemas';
import type * as z from '../shared/zod';

/** POST /me/totp/confirm: a first code proves the authenticator; login and step-up use it from now on. */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const body = context.bank.input.body as z.output<typeof totpConfirmBody>;
  return respond(
    await runOperation(context, 'SELECT bank_totp_confirm(:ctx, :otp)::text', [p.text('otp', body.otp)]),
  );
};

export const handler = middy(core).use(bankStack('me.totp.confirm'));
