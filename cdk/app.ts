import { App } from 'aws-cdk-lib';
import { BankStack, settingsFromContext } from './bank-stack';

/**
 * `npx cdk synth` / `npm run deploy` / `npm run deploy:localstack` (cdk.json runs this with tsx).
 * The stack is environment-agnostic: synth needs no credentials and no network (no context
 * lookups), and deploy goes to the account and region of the CLI's profile.
 */
const app = new App();
const settings = settingsFromContext(app.node);

new BankStack(app, settings.stackName, {
  settings,
  description:
    'Secure serverless bank: HTTP API, Lambda, Aurora PostgreSQL (Data API), Object Lock audit bucket',
});

app.synth();
