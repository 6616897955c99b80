import middy from '@middy/core';
import { bankStack } from '../shared/middleware/stack';
import { accountMovementCore } from '../shared/operations';

/** POST /accounts/{accountNo}/deposit: money in; customers give the account PIN. */
export const handler = middy(accountMovementCore('DEPOSIT')).use(bankStack('accounts.deposit'));
