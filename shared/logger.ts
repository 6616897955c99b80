import { Logger } from '@aws-lambda-powertools/logger';
import { PrettyLogger } from './log-pretty';

/**
 * One structured JSON logger per function (Powertools). Level from POWERTOOLS_LOG_LEVEL.
 * `BANK_LOG_FORMAT=pretty` (npm start on a terminal) prints the same entries for people.
 */
const Impl = process.env.BANK_LOG_FORMAT === 'pretty' ? PrettyLogger : Logger;
export const logger: Logger = new Impl({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'bank' });
