import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { p } from '../shared/db/data-api';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { respond, runOperation } from '../shared/operations';
import type { transferParams } from '../shared/schemas';
import type * as z from '../shared/zod';

/** GET /transfers/{transferId}: a customer's when either side is their own (else 404). */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const { transferId } = context.bank.input.params as z.output<typeof transferParams>;
  return respond(
    await runOperation(context, 'SELECT bank_transfer_get(:ctx, :transferId)::text', [
      p.uuid('transferId', transferId),
    ]),
  );
};

export const handler = middy(core).use(bankStack('transfers.get'));
