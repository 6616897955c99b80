import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { GatewayRoute } from '../gateway';
import { LOCAL_ACCOUNT_ID } from './event';

/**
 * The Lambda-side identity of one route's function: fixed for the life of the gateway, like a
 * warm execution environment (one log stream per environment).
 */
export interface FunctionIdentity {
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/** Matches the memory the stack gives every function, so handlers that log it see the deployed value. */
const MEMORY_LIMIT_IN_MB = '512';

export function functionIdentity(route: GatewayRoute, now: Date = new Date()): FunctionIdentity {
  const functionName = `bank-${route.name.replace(/[^A-Za-z0-9]/g, '-')}`;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    functionName,
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    // Lambda's stream name format: date/[version]environment-id.
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
  };
}

/** A fresh context per invocation; the remaining time counts down from the function timeout. */
export function createContext(identity: FunctionIdentity, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const noop = (): void => {};
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: identity.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: identity.invokedFunctionArn,
    memoryLimitInMB: MEMORY_LIMIT_IN_MB,
    awsRequestId: randomUUID(),
    logGroupName: identity.logGroupName,
    logStreamName: identity.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // Deprecated callback-era methods: handlers here are async, so these do nothing.
    done: noop,
    fail: noop,
    succeed: noop,
  };
}
