import middy from '@middy/core';
import { bankStack } from '../shared/middleware/stack';
import { accountMovementCore } from '../shared/operations';

/** POST /accounts/{accountNo}/withdraw: money out, never below zero; customers give the PIN. */
export const handler = middy(accountMovementCore('WITHDRAWAL')).use(bankStack('accounts.withdraw'));
