import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Secret, TOTP } from 'otpauth';
import { config } from '../shared/config';
import { json } from '../shared/http';
import type { BankContext } from '../shared/middleware/context';
import { bankStack } from '../shared/middleware/stack';
import { runOperation } from '../shared/operations';

/**
 * POST /me/totp: the database makes the secret (pending until confirmed) and hands it over this
 * once; the otpauth library writes the otpauth:// URI an authenticator app scans.
 */
const core = async (_event: APIGatewayProxyEventV2, context: BankContext) => {
  const result = (await runOperation(context, 'SELECT bank_totp_enrol(:ctx)::text', [])) as unknown as {
    body: { secret: string };
    username: string;
  };
  const totp = new TOTP({
    issuer: config().BANK_TOTP_ISSUER,
    label: result.username,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: Secret.fromBase32(result.body.secret),
  });
  return json(201, { secret: result.body.secret, otpauthUri: totp.toString() });
};

export const handler = middy(core).use(bankStack('me.totp.enrol'));
