import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray tracing (Powertools). Active only inside Lambda (AWS_EXECUTION_ENV set) with
 * POWERTOOLS_TRACE_ENABLED not false: locally, in tests and in the benchmarks every call is a
 * no-op, so no X-Ray daemon is needed. In Lambda the function's segment gets a cold-start
 * annotation and the handler's errors; the functions run with active tracing (cdk/).
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'bank' });
