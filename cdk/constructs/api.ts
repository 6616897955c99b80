import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { isPublic } from '../../shared/auth/policy';
import { acknowledge } from '../nag';
import { pascalCase } from './database';
import type { RouteFunction } from './functions';

export interface BankApiProps {
  readonly routes: readonly RouteFunction[];
  /** Steady-state requests per second across the stage. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** The browser origin allowed by CORS (e.g. `https://bank.example.com`); none: no CORS at all. */
  readonly webOrigin?: string;
  readonly logRetention: logs.RetentionDays;
  /** The bank's key: encrypts the access log group. */
  readonly key: kms.IKey;
}

/** One JSON line per request in the access log group. */
export const accessLogFields = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  routeKey: '$context.routeKey',
  status: '$context.status',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  responseLatency: '$context.responseLatency',
  responseLength: '$context.responseLength',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  requestTime: '$context.requestTime',
  protocol: '$context.protocol',
  error: '$context.error.message',
  integrationError: '$context.integrationErrorMessage',
} as const;

const methodOf = { GET: apigw.HttpMethod.GET, POST: apigw.HttpMethod.POST } as const;

/**
 * The HTTP API: one route per manifest entry (functions/routes.ts, the list the local gateway
 * serves too), each integrated with its own function (payload format 2.0); the `$default` stage
 * with throttling and JSON access logs; CORS only for a configured web origin.
 */
export class BankApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BankApiProps) {
    super(scope, id);
    if (props.webOrigin !== undefined && !/^https?:\/\/[^/\s*]+$/.test(props.webOrigin)) {
      throw new Error(
        `webOrigin must be a scheme and host without a path or wildcard, got ${props.webOrigin}`,
      );
    }

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Secure bank API',
      createDefaultStage: false,
      corsPreflight:
        props.webOrigin === undefined
          ? undefined
          : {
              allowOrigins: [props.webOrigin],
              allowMethods: [
                apigw.CorsHttpMethod.GET,
                apigw.CorsHttpMethod.POST,
                apigw.CorsHttpMethod.OPTIONS,
              ],
              allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
              exposeHeaders: ['x-request-id', 'idempotent-replayed', 'retry-after'],
              allowCredentials: false,
              maxAge: Duration.hours(1),
            },
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      encryptionKey: props.key,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
    });

    for (const { route, fn } of props.routes) {
      const [httpRoute] = this.httpApi.addRoutes({
        path: route.path,
        methods: [methodOf[route.method]],
        integration: new HttpLambdaIntegration(`${pascalCase(route.name)}Integration`, fn, {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        }),
      });
      if (httpRoute === undefined) throw new Error(`no route created for ${route.name}`);
      acknowledge(
        httpRoute,
        'AwsSolutions-APIG4',
        isPublic(route.name)
          ? `${route.method} ${route.path} is public by design (${route.name}: health check, the OpenAPI document, or the login that issues tokens); the login is rate-limited per user and per address in the database.`
          : `${route.method} ${route.path}: the function verifies the bearer token (HS256, iss, aud, exp, explicit algorithm list) before anything else, and its role must be allowed the route by the RBAC policy (shared/auth/policy.ts) and, again, by the database role's grants. An HTTP API JWT authorizer accepts only asymmetric (JWKS) tokens, and a Lambda authorizer would add a second cold start and invocation to every request for the same check.`,
      );
    }
  }

  /** The base URL clients call (no trailing slash). */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
