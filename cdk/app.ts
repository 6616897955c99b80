import { App, Validations } from 'aws-cdk-lib';
import { BankStack, settingsFromContext } from './bank-stack';
import { nagPacks } from './nag';

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

// The security review's packs (cdk-nag 3, CDK policy validation): `cdk synth` and `cdk deploy`
// stop on any finding that is not acknowledged on its construct (npm run nag lists them).
Validations.of(app).addPlugins(...nagPacks(app));

app.synth();
