import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BadRequestException,
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  ExecuteStatementCommand,
  type Field,
  InternalServerErrorException,
  RDSDataClient,
  RDSDataServiceException,
  RollbackTransactionCommand,
  type SqlParameter,
  TransactionNotFoundException,
  type TypeHint,
  UnsupportedResultException,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataApiServer, type DbCredentials, startDataApiServer } from '../../local/data-api/server';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

const RESOURCE_ARN = 'arn:aws:rds:us-east-1:000000000000:cluster:bank-local';
const MASTER_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:test-master';
const CUSTOMER_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:test-customer';
const WRONG_PASSWORD_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:test-wrong-password';
const BROKEN_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:test-broken-store';
const UNKNOWN_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:nobody';

const master = { resourceArn: RESOURCE_ARN, secretArn: MASTER_SECRET } as const;

let db: TestDatabase;
let server: DataApiServer;
let client: RDSDataClient;
const extraServers: DataApiServer[] = [];
const extraClients: RDSDataClient[] = [];

function resolveSecret(secretArn: string): DbCredentials | undefined {
  switch (secretArn) {
    case MASTER_SECRET:
      return db.superuser;
    case CUSTOMER_SECRET:
      return db.roles.bank_customer;
    case WRONG_PASSWORD_SECRET:
      return { username: db.roles.bank_teller.username, password: 'not-the-password-of-bank-teller' };
    case BROKEN_SECRET:
      throw new Error('secret store offline');
    default:
      return undefined;
  }
}

function clientFor(target: DataApiServer, maxAttempts?: number): RDSDataClient {
  const created = new RDSDataClient({
    endpoint: target.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
  extraClients.push(created);
  return created;
}

async function startServer(overrides: { transactionIdleTimeoutMs?: number } = {}): Promise<DataApiServer> {
  const started = await startDataApiServer({
    pg: db.pg,
    resolveSecret,
    resourceArn: RESOURCE_ARN,
    defaultDatabase: db.name,
    ...overrides,
  });
  extraServers.push(started);
  return started;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

function execute(sql: string, extra: { parameters?: SqlParameter[]; transactionId?: string } = {}) {
  return client.send(new ExecuteStatementCommand({ ...master, sql, ...extra }));
}

async function countRows(table: string, via: RDSDataClient = client): Promise<number | undefined> {
  const result = await via.send(
    new ExecuteStatementCommand({ ...master, sql: `SELECT count(*)::int4 FROM ${table}` }),
  );
  return result.records?.[0]?.[0]?.longValue;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startDataApiServer({
    pg: db.pg,
    resolveSecret,
    resourceArn: RESOURCE_ARN,
    defaultDatabase: db.name,
  });
  client = clientFor(server);
});

afterAll(async () => {
  for (const c of extraClients) c.destroy();
  await Promise.all(extraServers.map((s) => s.close()));
  await server?.close();
  await db?.drop();
});

interface TypeCase {
  readonly column: string;
  readonly sqlType: string;
  readonly typeName: string;
  readonly literal: string;
  readonly expected: Field;
}

/** One column per PostgreSQL type, with the Field the Aurora PostgreSQL Data API answers for it. */
const TYPE_CASES: readonly TypeCase[] = [
  {
    column: 'c_int2',
    sqlType: 'int2',
    typeName: 'int2',
    literal: "'-32768'",
    expected: { longValue: -32768 },
  },
  {
    column: 'c_int4',
    sqlType: 'int4',
    typeName: 'int4',
    literal: "'2147483647'",
    expected: { longValue: 2147483647 },
  },
  {
    column: 'c_int8',
    sqlType: 'int8',
    typeName: 'int8',
    literal: "'9007199254740991'",
    expected: { longValue: 9007199254740991 },
  },
  // Beyond 2^53 Aurora still answers longValue, and a JSON number cannot carry it exactly: the SDK hands
  // back the nearest double (longReturnType STRING gives the exact digits; see below).
  {
    column: 'c_int8_big',
    sqlType: 'int8',
    typeName: 'int8',
    literal: "'9223372036854775807'",
    expected: { longValue: 2 ** 63 },
  },
  {
    column: 'c_numeric',
    sqlType: 'numeric',
    typeName: 'numeric',
    literal: "'123456789012345678901234.567890'",
    expected: { stringValue: '123456789012345678901234.567890' },
  },
  {
    column: 'c_float8',
    sqlType: 'float8',
    typeName: 'float8',
    literal: "'6.02214076e23'",
    expected: { doubleValue: 6.02214076e23 },
  },
  { column: 'c_bool', sqlType: 'bool', typeName: 'bool', literal: 'true', expected: { booleanValue: true } },
  {
    column: 'c_text',
    sqlType: 'text',
    typeName: 'text',
    literal: "'naïve – text'",
    expected: { stringValue: 'naïve – text' },
  },
  {
    column: 'c_varchar',
    sqlType: 'varchar(20)',
    typeName: 'varchar',
    literal: "'short'",
    expected: { stringValue: 'short' },
  },
  {
    column: 'c_uuid',
    sqlType: 'uuid',
    typeName: 'uuid',
    literal: "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    expected: { stringValue: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
  },
  {
    column: 'c_date',
    sqlType: 'date',
    typeName: 'date',
    literal: "'2024-02-29'",
    expected: { stringValue: '2024-02-29' },
  },
  {
    column: 'c_time',
    sqlType: 'time',
    typeName: 'time',
    literal: "'13:45:30.123456'",
    expected: { stringValue: '13:45:30.123456' },
  },
  {
    column: 'c_timestamp',
    sqlType: 'timestamp',
    typeName: 'timestamp',
    literal: "'2024-02-29 13:45:30.5'",
    expected: { stringValue: '2024-02-29 13:45:30.5' },
  },
  // Written at +05, read back in UTC (across midnight) without an offset.
  {
    column: 'c_timestamptz',
    sqlType: 'timestamptz',
    typeName: 'timestamptz',
    literal: "'2024-02-29 03:15:00.25+05'",
    expected: { stringValue: '2024-02-28 22:15:00.25' },
  },
  {
    column: 'c_json',
    sqlType: 'json',
    typeName: 'json',
    literal: `'{"b": 1,  "a": [true]}'`,
    expected: { stringValue: '{"b": 1,  "a": [true]}' },
  },
  {
    column: 'c_jsonb',
    sqlType: 'jsonb',
    typeName: 'jsonb',
    literal: `'{"b": 1,  "a": [true]}'`,
    expected: { stringValue: '{"a": [true], "b": 1}' },
  },
  {
    column: 'c_bytea',
    sqlType: 'bytea',
    typeName: 'bytea',
    literal: "'\\x00ff10'",
    expected: { blobValue: new Uint8Array([0, 255, 16]) },
  },
  {
    column: 'c_text_array',
    sqlType: 'text[]',
    typeName: '_text',
    literal: `ARRAY['a', NULL, 'b c', 'say "hi"', 'NULL']`,
    expected: { arrayValue: { stringValues: ['a', null, 'b c', 'say "hi"', 'NULL'] } },
  },
  {
    column: 'c_int4_array',
    sqlType: 'int4[]',
    typeName: '_int4',
    literal: `'{1,-2,NULL}'`,
    expected: { arrayValue: { longValues: [1, -2, null] } },
  },
];

describe('ExecuteStatement', () => {
  beforeAll(async () => {
    const columns = TYPE_CASES.map((c) => `${c.column} ${c.sqlType}`).join(', ');
    await execute(`CREATE TABLE type_zoo (id int PRIMARY KEY, ${columns})`);
    await execute(
      `INSERT INTO type_zoo (id, ${TYPE_CASES.map((c) => c.column).join(', ')}) ` +
        `VALUES (1, ${TYPE_CASES.map((c) => c.literal).join(', ')})`,
    );
    await execute('INSERT INTO type_zoo (id) VALUES (2)');
  });

  it.each(TYPE_CASES)('returns $sqlType as Aurora does, and NULL as isNull', async (typeCase) => {
    // Prepare: row 1 holds the value, row 2 NULL (beforeAll).
    // Act
    const result = await client.send(
      new ExecuteStatementCommand({
        ...master,
        sql: `SELECT ${typeCase.column} FROM type_zoo ORDER BY id`,
        includeResultMetadata: true,
      }),
    );
    // Assess
    expect(result.records).toEqual([[typeCase.expected], [{ isNull: true }]]);
    expect(result.columnMetadata?.map((c) => c.typeName)).toEqual([typeCase.typeName]);
    expect(result.numberOfRecordsUpdated).toBe(0);
    expect(result.generatedFields).toEqual([]);
  });

  it('binds each parameter kind with the type Aurora gives it', async () => {
    // Act
    const result = await execute(
      'SELECT pg_typeof(:s)::text, pg_typeof(:l)::text, pg_typeof(:d)::text, pg_typeof(:b)::text, ' +
        'pg_typeof(:blob)::text, :s AS s, :l AS l, :d AS d, :b AS b, :blob AS blob, :nothing::int4 AS nothing',
      {
        parameters: [
          { name: 's', value: { stringValue: 'text value' } },
          { name: 'l', value: { longValue: 9007199254740991 } },
          { name: 'd', value: { doubleValue: 2.5 } },
          { name: 'b', value: { booleanValue: false } },
          { name: 'blob', value: { blobValue: new Uint8Array([1, 2, 3]) } },
          { name: 'nothing', value: { isNull: true } },
        ],
      },
    );
    // Assess
    expect(result.records).toEqual([
      [
        { stringValue: 'text' },
        { stringValue: 'bigint' },
        { stringValue: 'double precision' },
        { stringValue: 'boolean' },
        { stringValue: 'bytea' },
        { stringValue: 'text value' },
        { longValue: 9007199254740991 },
        { doubleValue: 2.5 },
        { booleanValue: false },
        { blobValue: new Uint8Array([1, 2, 3]) },
        { isNull: true },
      ],
    ]);
  });

  describe('typeHint', () => {
    beforeAll(async () => {
      await execute(
        'CREATE TABLE hint_zoo (id serial PRIMARY KEY, c_decimal numeric(40, 10), c_timestamp timestamp, ' +
          'c_date date, c_time time, c_uuid uuid, c_json jsonb)',
      );
    });

    const HINT_CASES: readonly { hint: TypeHint; column: string; input: string; stored: string }[] = [
      {
        hint: 'DECIMAL',
        column: 'c_decimal',
        input: '12345678901234567890.1234567891',
        stored: '12345678901234567890.1234567891',
      },
      {
        hint: 'TIMESTAMP',
        column: 'c_timestamp',
        input: '2024-03-01 10:20:30.123',
        stored: '2024-03-01 10:20:30.123',
      },
      { hint: 'DATE', column: 'c_date', input: '2024-03-01', stored: '2024-03-01' },
      { hint: 'TIME', column: 'c_time', input: '10:20:30', stored: '10:20:30' },
      {
        hint: 'UUID',
        column: 'c_uuid',
        input: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
        stored: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      },
      { hint: 'JSON', column: 'c_json', input: '{"n":1,"k":"v"}', stored: '{"k": "v", "n": 1}' },
    ];

    it.each(HINT_CASES)(
      '$hint: a stringValue is stored into a $column column',
      async ({ hint, column, input, stored }) => {
        // Act
        const result = await execute(`INSERT INTO hint_zoo (${column}) VALUES (:v) RETURNING ${column}`, {
          parameters: [{ name: 'v', value: { stringValue: input }, typeHint: hint }],
        });
        // Assess
        expect(result.records).toEqual([[{ stringValue: stored }]]);
        expect(result.numberOfRecordsUpdated).toBe(1);
      },
    );

    it('without a typeHint a stringValue is text, which a uuid column refuses (as on Aurora)', async () => {
      // Act
      const error = await rejectionOf(
        execute('INSERT INTO hint_zoo (c_uuid) VALUES (:v)', {
          parameters: [{ name: 'v', value: { stringValue: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' } }],
        }),
      );
      // Assess
      expect(error).toBeInstanceOf(DatabaseErrorException);
      expect(error).toHaveProperty(
        'message',
        'ERROR: column "c_uuid" is of type uuid but expression is of type text\n' +
          '  Hint: You will need to rewrite or cast the expression.\n' +
          '  Position: 39; SQLState: 42804',
      );
    });

    it('a NULL with a typeHint is a typed NULL', async () => {
      // Act
      const result = await execute('SELECT pg_typeof(:v)::text, :v IS NULL', {
        parameters: [{ name: 'v', value: { isNull: true }, typeHint: 'TIMESTAMP' }],
      });
      // Assess
      expect(result.records).toEqual([
        [{ stringValue: 'timestamp without time zone' }, { booleanValue: true }],
      ]);
    });
  });

  it('leaves :name alone inside literals, quoted identifiers, dollar quotes, comments and :: casts', async () => {
    // Prepare: every ":missing" below would be an unbound parameter if it were read as one.
    const sql = [
      "SELECT ':missing' AS literal,",
      "       E'it''s \\' :missing' AS escaped,",
      '       $$ :missing $$ AS dollar,',
      '       $body$ :missing $body$ AS tagged,',
      '       :n::int + 1 AS cast_after_parameter,',
      "       '7'::int AS plain_cast,",
      '       1 AS "label:missing" -- :missing',
      '/* :missing /* nested :missing */ still comment :missing */',
    ].join('\n');
    // Act
    const result = await client.send(
      new ExecuteStatementCommand({
        ...master,
        sql,
        parameters: [{ name: 'n', value: { stringValue: '41' } }],
        includeResultMetadata: true,
      }),
    );
    // Assess
    expect(result.records).toEqual([
      [
        { stringValue: ':missing' },
        { stringValue: "it's ' :missing" },
        { stringValue: ' :missing ' },
        { stringValue: ' :missing ' },
        { longValue: 42 },
        { longValue: 7 },
        { longValue: 1 },
      ],
    ]);
    expect(result.columnMetadata?.map((c) => c.label)).toEqual([
      'literal',
      'escaped',
      'dollar',
      'tagged',
      'cast_after_parameter',
      'plain_cast',
      'label:missing',
    ]);
  });

  it('binds a name used twice to one value', async () => {
    // Act
    const result = await execute('SELECT :x::int4 + :x::int4', {
      parameters: [{ name: 'x', value: { longValue: 21 } }],
    });
    // Assess
    expect(result.records).toEqual([[{ longValue: 42 }]]);
  });

  it('describes table columns and expressions in columnMetadata', async () => {
    // Prepare
    await execute('CREATE TABLE meta_t (id serial PRIMARY KEY, amount numeric(12, 2) NOT NULL, note text)');
    // Act
    const result = await client.send(
      new ExecuteStatementCommand({
        ...master,
        sql: 'SELECT id, amount, note, 1 + 1 AS two FROM meta_t',
        includeResultMetadata: true,
      }),
    );
    // Assess
    expect(result.records).toEqual([]);
    expect(
      result.columnMetadata?.map((c) => ({
        name: c.name,
        label: c.label,
        typeName: c.typeName,
        type: c.type,
        tableName: c.tableName,
        nullable: c.nullable,
        isAutoIncrement: c.isAutoIncrement,
        precision: c.precision,
        scale: c.scale,
      })),
    ).toEqual([
      {
        name: 'id',
        label: 'id',
        typeName: 'int4',
        type: 4,
        tableName: 'meta_t',
        nullable: 0,
        isAutoIncrement: true,
        precision: 10,
        scale: 0,
      },
      {
        name: 'amount',
        label: 'amount',
        typeName: 'numeric',
        type: 2,
        tableName: 'meta_t',
        nullable: 0,
        isAutoIncrement: false,
        precision: 12,
        scale: 2,
      },
      {
        name: 'note',
        label: 'note',
        typeName: 'text',
        type: 12,
        tableName: 'meta_t',
        nullable: 1,
        isAutoIncrement: false,
        precision: 2147483647,
        scale: 0,
      },
      {
        name: 'two',
        label: 'two',
        typeName: 'int4',
        type: 4,
        tableName: '',
        nullable: 2,
        isAutoIncrement: false,
        precision: 10,
        scale: 0,
      },
    ]);
  });

  it('formatRecordsAs JSON returns formattedRecords and no records or metadata', async () => {
    // Act
    const result = await client.send(
      new ExecuteStatementCommand({
        ...master,
        sql:
          "SELECT 42 AS i, 2.50::numeric AS n, 1.5::float8 AS f, true AS b, NULL::text AS z, 'x' AS s, " +
          "'{1,2}'::int4[] AS a, '2024-01-01 00:00:00+05'::timestamptz AS ts",
        formatRecordsAs: 'JSON',
        includeResultMetadata: true,
      }),
    );
    // Assess
    expect(result.formattedRecords).toBe(
      '[{"i":42,"n":"2.50","f":1.5,"b":true,"z":null,"s":"x","a":[1,2],"ts":"2023-12-31 19:00:00"}]',
    );
    expect(result.records).toBeUndefined();
    expect(result.columnMetadata).toBeUndefined();
  });

  it('resultSetOptions: longReturnType STRING and decimalReturnType DOUBLE_OR_LONG', async () => {
    // Act
    const result = await client.send(
      new ExecuteStatementCommand({
        ...master,
        sql: "SELECT '9223372036854775807'::int8, 2.5::numeric, 10::numeric",
        resultSetOptions: { longReturnType: 'STRING', decimalReturnType: 'DOUBLE_OR_LONG' },
      }),
    );
    // Assess
    expect(result.records).toEqual([
      [{ stringValue: '9223372036854775807' }, { doubleValue: 2.5 }, { longValue: 10 }],
    ]);
  });

  it('reports rows changed in numberOfRecordsUpdated, with no records for DML', async () => {
    // Prepare
    await execute('CREATE TABLE counted (id int PRIMARY KEY, flag bool NOT NULL DEFAULT false)');
    await execute('INSERT INTO counted (id) SELECT generate_series(1, 5)');
    // Act
    const result = await execute('UPDATE counted SET flag = true WHERE id <= 3');
    // Assess
    expect(result.numberOfRecordsUpdated).toBe(3);
    expect(result.records).toBeUndefined();
    expect(result.generatedFields).toEqual([]);
  });

  it("runs as the secret's PostgreSQL role, on the database the call names", async () => {
    // Act
    const asCustomer = await client.send(
      new ExecuteStatementCommand({
        ...master,
        secretArn: CUSTOMER_SECRET,
        sql: 'SELECT current_user::text',
      }),
    );
    const onOtherDatabase = await client.send(
      new ExecuteStatementCommand({
        ...master,
        database: 'postgres',
        sql: 'SELECT current_database()::text',
      }),
    );
    const denied = await rejectionOf(
      client.send(
        new ExecuteStatementCommand({
          ...master,
          secretArn: CUSTOMER_SECRET,
          sql: 'CREATE TABLE nope (x int)',
        }),
      ),
    );
    // Assess
    expect(asCustomer.records).toEqual([[{ stringValue: 'bank_customer' }]]);
    expect(onOtherDatabase.records).toEqual([[{ stringValue: 'postgres' }]]);
    expect(denied).toBeInstanceOf(DatabaseErrorException);
    expect(denied).toHaveProperty(
      'message',
      'ERROR: permission denied for schema public\n  Position: 14; SQLState: 42501',
    );
  });
});

describe('BatchExecuteStatement', () => {
  beforeAll(async () => {
    await execute('CREATE TABLE batch_t (id int PRIMARY KEY, label text NOT NULL)');
  });

  it('runs the statement once per parameter set', async () => {
    // Prepare
    const parameterSets = [1, 2, 3, 4, 5].map((id) => [
      { name: 'id', value: { longValue: id } },
      { name: 'label', value: { stringValue: `row ${id}` } },
    ]);
    // Act
    const result = await client.send(
      new BatchExecuteStatementCommand({
        ...master,
        sql: 'INSERT INTO batch_t (id, label) VALUES (:id, :label)',
        parameterSets,
      }),
    );
    // Assess
    expect(result.updateResults).toEqual(parameterSets.map(() => ({ generatedFields: [] })));
    const rows = await execute('SELECT id, label FROM batch_t ORDER BY id');
    expect(rows.records).toEqual(
      [1, 2, 3, 4, 5].map((id) => [{ longValue: id }, { stringValue: `row ${id}` }]),
    );
  });

  it('applies nothing when one parameter set fails', async () => {
    // Prepare: id 10 appears twice.
    const parameterSets = [10, 11, 10].map((id) => [
      { name: 'id', value: { longValue: id } },
      { name: 'label', value: { stringValue: 'dup' } },
    ]);
    // Act
    const error = await rejectionOf(
      client.send(
        new BatchExecuteStatementCommand({
          ...master,
          sql: 'INSERT INTO batch_t (id, label) VALUES (:id, :label)',
          parameterSets,
        }),
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error).toHaveProperty(
      'message',
      'ERROR: duplicate key value violates unique constraint "batch_t_pkey"\n  Detail: Key (id)=(10) already exists.; SQLState: 23505',
    );
    const remaining = await execute('SELECT count(*)::int4 FROM batch_t WHERE id >= 10');
    expect(remaining.records).toEqual([[{ longValue: 0 }]]);
  });
});

describe('transactions', () => {
  beforeAll(async () => {
    await execute('CREATE TABLE tx_t (id int PRIMARY KEY)');
  });

  const begin = async (via: RDSDataClient = client): Promise<string> => {
    const { transactionId } = await via.send(new BeginTransactionCommand(master));
    if (transactionId === undefined) throw new Error('BeginTransaction returned no transactionId');
    return transactionId;
  };

  it("keeps a transaction's writes invisible to other sessions until commit", async () => {
    // Prepare
    const transactionId = await begin();
    await execute('INSERT INTO tx_t (id) VALUES (1)', { transactionId });
    // Act
    const before = await countRows('tx_t WHERE id = 1');
    const insideTransaction = await execute('SELECT count(*)::int4 FROM tx_t WHERE id = 1', {
      transactionId,
    });
    const commit = await client.send(new CommitTransactionCommand({ ...master, transactionId }));
    const after = await countRows('tx_t WHERE id = 1');
    // Assess
    expect(transactionId).toMatch(/^[A-Za-z0-9+/]{48}$/);
    expect(before).toBe(0);
    expect(insideTransaction.records).toEqual([[{ longValue: 1 }]]);
    expect(commit.transactionStatus).toBe('Transaction Committed');
    expect(after).toBe(1);
  });

  it('discards the writes of a rolled back transaction', async () => {
    // Prepare
    const transactionId = await begin();
    await execute('INSERT INTO tx_t (id) VALUES (2)', { transactionId });
    // Act
    const rollback = await client.send(new RollbackTransactionCommand({ ...master, transactionId }));
    // Assess
    expect(rollback.transactionStatus).toBe('Rollback Complete');
    expect(await countRows('tx_t WHERE id = 2')).toBe(0);
  });

  it('runs BatchExecuteStatement inside the transaction', async () => {
    // Prepare
    const transactionId = await begin();
    // Act
    await client.send(
      new BatchExecuteStatementCommand({
        ...master,
        sql: 'INSERT INTO tx_t (id) VALUES (:id)',
        parameterSets: [
          [{ name: 'id', value: { longValue: 30 } }],
          [{ name: 'id', value: { longValue: 31 } }],
        ],
        transactionId,
      }),
    );
    const beforeCommit = await countRows('tx_t WHERE id IN (30, 31)');
    await client.send(new CommitTransactionCommand({ ...master, transactionId }));
    // Assess
    expect(beforeCommit).toBe(0);
    expect(await countRows('tx_t WHERE id IN (30, 31)')).toBe(2);
  });

  it('answers TransactionNotFoundException for an unknown transaction id', async () => {
    // Prepare
    const transactionId = 'bm8tc3VjaC10cmFuc2FjdGlvbi1pZC1hdC1hbGwtYW55d2hlcmU=';
    // Act
    const onExecute = await rejectionOf(execute('SELECT 1', { transactionId }));
    const onCommit = await rejectionOf(
      client.send(new CommitTransactionCommand({ ...master, transactionId })),
    );
    // Assess
    expect(onExecute).toBeInstanceOf(TransactionNotFoundException);
    expect(onExecute).toHaveProperty('message', `Transaction ${transactionId} is not found`);
    expect(onExecute).toHaveProperty('$metadata.httpStatusCode', 404);
    expect(onCommit).toBeInstanceOf(TransactionNotFoundException);
  });

  it('answers TransactionNotFoundException for a committed transaction used again', async () => {
    // Prepare
    const transactionId = await begin();
    await client.send(new CommitTransactionCommand({ ...master, transactionId }));
    // Act
    const onExecute = await rejectionOf(execute('SELECT 1', { transactionId }));
    const onRollback = await rejectionOf(
      client.send(new RollbackTransactionCommand({ ...master, transactionId })),
    );
    // Assess
    expect(onExecute).toBeInstanceOf(TransactionNotFoundException);
    expect(onRollback).toBeInstanceOf(TransactionNotFoundException);
  });

  it('binds a transaction to the secret that began it', async () => {
    // Prepare
    const transactionId = await begin();
    // Act
    const error = await rejectionOf(
      client.send(
        new ExecuteStatementCommand({
          ...master,
          secretArn: CUSTOMER_SECRET,
          sql: 'SELECT 1',
          transactionId,
        }),
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(TransactionNotFoundException);
    await client.send(new RollbackTransactionCommand({ ...master, transactionId }));
  });

  it('binds a transaction to the database it began on', async () => {
    // Prepare
    const transactionId = await begin();
    // Act
    const error = await rejectionOf(
      client.send(
        new ExecuteStatementCommand({ ...master, database: 'postgres', sql: 'SELECT 1', transactionId }),
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error).toHaveProperty(
      'message',
      `Transaction ${transactionId} was started on database ${db.name}, not postgres`,
    );
    await client.send(new RollbackTransactionCommand({ ...master, transactionId }));
  });

  it('refuses a second call while the transaction is still running a query', async () => {
    // Prepare
    const transactionId = await begin();
    const slow = execute('SELECT pg_sleep(0.5)', { transactionId });
    await delay(100);
    // Act
    const error = await rejectionOf(execute('SELECT 1', { transactionId }));
    // Assess: AWS documents this answer as DatabaseErrorException for Aurora Serverless v2.
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error).toHaveProperty('message', 'Transaction is still running a query');
    await slow;
    const commit = await client.send(new CommitTransactionCommand({ ...master, transactionId }));
    expect(commit.transactionStatus).toBe('Transaction Committed');
  });

  it('keeps the transaction aborted after a SQL error, until rollback', async () => {
    // Prepare
    const transactionId = await begin();
    await execute('INSERT INTO tx_t (id) VALUES (40)', { transactionId });
    await rejectionOf(execute('SELECT * FROM no_such_table', { transactionId }));
    // Act
    const next = await rejectionOf(execute('SELECT 1', { transactionId }));
    const rollback = await client.send(new RollbackTransactionCommand({ ...master, transactionId }));
    // Assess
    expect(next).toBeInstanceOf(DatabaseErrorException);
    expect(next).toHaveProperty(
      'message',
      'ERROR: current transaction is aborted, commands ignored until end of transaction block; SQLState: 25P02',
    );
    expect(rollback.transactionStatus).toBe('Rollback Complete');
    expect(await countRows('tx_t WHERE id = 40')).toBe(0);
  });

  it('refuses to commit an aborted transaction, and ends it', async () => {
    // Prepare
    const transactionId = await begin();
    await execute('INSERT INTO tx_t (id) VALUES (41)', { transactionId });
    await rejectionOf(execute('SELEC 1', { transactionId }));
    // Act
    const commit = await rejectionOf(client.send(new CommitTransactionCommand({ ...master, transactionId })));
    const afterwards = await rejectionOf(execute('SELECT 1', { transactionId }));
    // Assess
    expect(commit).toBeInstanceOf(DatabaseErrorException);
    expect((commit as Error).message).toMatch(/; SQLState: 25P02$/);
    expect(afterwards).toBeInstanceOf(TransactionNotFoundException);
    expect(await countRows('tx_t WHERE id = 41')).toBe(0);
  });

  it('rolls back and forgets a transaction left idle past the timeout', async () => {
    // Prepare
    const quick = await startServer({ transactionIdleTimeoutMs: 300 });
    const quickClient = clientFor(quick);
    const transactionId = await begin(quickClient);
    await quickClient.send(
      new ExecuteStatementCommand({ ...master, sql: 'INSERT INTO tx_t (id) VALUES (50)', transactionId }),
    );
    // Act
    await delay(800);
    const error = await rejectionOf(
      quickClient.send(new ExecuteStatementCommand({ ...master, sql: 'SELECT 1', transactionId })),
    );
    // Assess
    expect(error).toBeInstanceOf(TransactionNotFoundException);
    expect(await countRows('tx_t WHERE id = 50')).toBe(0);
  });
});

describe('errors', () => {
  it('answers DatabaseErrorException with the SQLSTATE for a syntax error', async () => {
    // Act
    const error = await rejectionOf(execute('SELEC 1'));
    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error).toHaveProperty(
      'message',
      'ERROR: syntax error at or near "SELEC"\n  Position: 1; SQLState: 42601',
    );
    expect(error).toHaveProperty('$metadata.httpStatusCode', 400);
  });

  it('answers DatabaseErrorException with the SQLSTATE for a missing table', async () => {
    // Act
    const error = await rejectionOf(execute('SELECT * FROM no_such_table'));
    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error).toHaveProperty(
      'message',
      'ERROR: relation "no_such_table" does not exist\n  Position: 15; SQLState: 42P01',
    );
  });

  it('answers BadRequestException for an unknown secret ARN', async () => {
    // Act
    const error = await rejectionOf(
      client.send(new ExecuteStatementCommand({ ...master, secretArn: UNKNOWN_SECRET, sql: 'SELECT 1' })),
    );
    // Assess
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error).toHaveProperty(
      'message',
      `Error fetching secret ${UNKNOWN_SECRET} : Secrets Manager can't find the specified secret.`,
    );
  });

  it('answers BadRequestException for another resourceArn', async () => {
    // Prepare
    const otherCluster = 'arn:aws:rds:us-east-1:000000000000:cluster:someone-else';
    // Act
    const error = await rejectionOf(
      client.send(new ExecuteStatementCommand({ ...master, resourceArn: otherCluster, sql: 'SELECT 1' })),
    );
    // Assess
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error).toHaveProperty('message', `Invalid resource ARN: ${otherCluster}`);
  });

  it("answers DatabaseErrorException when PostgreSQL refuses the secret's password", async () => {
    // Act
    const error = await rejectionOf(
      client.send(
        new ExecuteStatementCommand({ ...master, secretArn: WRONG_PASSWORD_SECRET, sql: 'SELECT 1' }),
      ),
    );
    // Assess
    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error).toHaveProperty(
      'message',
      'FATAL: password authentication failed for user "bank_teller"; SQLState: 28P01',
    );
  });

  it('answers InternalServerErrorException for an unexpected failure', async () => {
    // Prepare: no retries, the SDK would otherwise retry a 500 twice.
    const once = clientFor(server, 1);
    // Act
    const error = await rejectionOf(
      once.send(new ExecuteStatementCommand({ ...master, secretArn: BROKEN_SECRET, sql: 'SELECT 1' })),
    );
    // Assess
    expect(error).toBeInstanceOf(InternalServerErrorException);
    expect(error).toHaveProperty('message', 'An internal error occurred: secret store offline');
    expect(error).toHaveProperty('$metadata.httpStatusCode', 500);
  });

  it.each([
    {
      case: 'a parameter missing from the call',
      sql: 'SELECT :id',
      parameters: [],
      message: 'No value specified for parameter: id',
    },
    {
      case: 'a parameter the SQL does not use',
      sql: 'SELECT 1',
      parameters: [{ name: 'extra', value: { longValue: 1 } }],
      message: 'Parameter extra is not used in the SQL statement',
    },
    {
      case: 'an array parameter',
      sql: 'SELECT :ids',
      parameters: [{ name: 'ids', value: { arrayValue: { longValues: [1, 2] } } }],
      message: 'Array parameters are not supported (parameter ids)',
    },
  ] satisfies { case: string; sql: string; parameters: SqlParameter[]; message: string }[])(
    'answers BadRequestException for $case',
    async ({ sql, parameters, message }) => {
      // Act
      const error = await rejectionOf(execute(sql, { parameters }));
      // Assess
      expect(error).toBeInstanceOf(BadRequestException);
      expect(error).toHaveProperty('message', message);
    },
  );

  it('answers ValidationException for several statements in one call (Aurora Serverless v2)', async () => {
    // Act
    const error = await rejectionOf(execute('SELECT 1; SELECT 2'));
    // Assess
    expect(error).toBeInstanceOf(RDSDataServiceException);
    expect(error).toHaveProperty('name', 'ValidationException');
    expect(error).toHaveProperty('message', "Multistatements aren't supported.");
  });

  it('accepts one statement with a trailing semicolon', async () => {
    // Act
    const result = await execute('SELECT 1; -- done');
    // Assess
    expect(result.records).toEqual([[{ longValue: 1 }]]);
  });

  it('answers ValidationException for the schema parameter (Aurora Serverless v2)', async () => {
    // Act
    const error = await rejectionOf(
      client.send(new ExecuteStatementCommand({ ...master, schema: 'public', sql: 'SELECT 1' })),
    );
    // Assess
    expect(error).toHaveProperty('name', 'ValidationException');
    expect(error).toHaveProperty('message', "The schema parameter isn't supported");
  });

  it('refuses a result over the response size limit', async () => {
    // Prepare: about 2 MB of text against the default 1 MiB.
    const sql = "SELECT repeat('x', 1000) FROM generate_series(1, 2000)";
    // Act
    const error = await rejectionOf(execute(sql));
    // Assess
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error).toHaveProperty('message', 'Database returned more than the allowed response size limit');
  });

  it('answers UnsupportedResultException for types Aurora v2 cannot return', async () => {
    // Act
    const money = await rejectionOf(execute('SELECT 12.5::money'));
    const matrix = await rejectionOf(execute("SELECT '{{1,2},{3,4}}'::int4[]"));
    // Assess
    expect(money).toBeInstanceOf(UnsupportedResultException);
    expect(money).toHaveProperty('message', 'The result contains the unsupported data type money');
    expect(matrix).toBeInstanceOf(UnsupportedResultException);
    expect(matrix).toHaveProperty('message', 'The result contains the unsupported data type _int4');
  });
});

describe('HTTP edges (raw requests: the SDK never sends these)', () => {
  const post = (path: string, body: string) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('answers UnknownOperationException (404) for an unknown path', async () => {
    // Act
    const response = await post('/ExecuteSql', '{}');
    // Assess
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.json()).toEqual({ message: 'No operation at POST /ExecuteSql' });
  });

  it('answers BadRequestException for malformed JSON', async () => {
    // Act
    const response = await post('/Execute', '{"sql": ');
    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(await response.json()).toEqual({ message: 'The request body is not valid JSON' });
  });

  it('refuses a body over 4 MiB with 413', async () => {
    // Act
    const response = await post('/Execute', ' '.repeat(4 * 1024 * 1024 + 1));
    // Assess
    expect(response.status).toBe(413);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(await response.json()).toEqual({ message: 'Request size exceeds the 4 MiB limit' });
  });

  it('survives a client that disconnects mid-request', async () => {
    // Prepare
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /Execute HTTP/1.1\r\nHost: localhost\r\nContent-Length: 500\r\n\r\n{"sql":');
    // Act
    socket.destroy();
    await delay(50);
    const result = await execute('SELECT 1');
    // Assess
    expect(result.records).toEqual([[{ longValue: 1 }]]);
  });
});

describe('server lifecycle', () => {
  it('counts calls per operation, and resets', async () => {
    // Prepare
    const counted = await startServer();
    const countedClient = clientFor(counted);
    // Act
    const { transactionId } = await countedClient.send(new BeginTransactionCommand(master));
    await countedClient.send(new ExecuteStatementCommand({ ...master, sql: 'SELECT 1', transactionId }));
    await countedClient.send(new ExecuteStatementCommand({ ...master, sql: 'SELECT 2', transactionId }));
    await countedClient.send(new RollbackTransactionCommand({ ...master, transactionId }));
    const seen = { ...counted.stats.calls };
    counted.stats.reset();
    // Assess
    expect(seen).toEqual({
      ExecuteStatement: 2,
      BatchExecuteStatement: 0,
      BeginTransaction: 1,
      CommitTransaction: 0,
      RollbackTransaction: 1,
    });
    expect(counted.stats.calls).toEqual({
      ExecuteStatement: 0,
      BatchExecuteStatement: 0,
      BeginTransaction: 0,
      CommitTransaction: 0,
      RollbackTransaction: 0,
    });
  });

  it('close() rolls back open transactions, ends its connections and stops listening', async () => {
    // Prepare
    await execute('CREATE TABLE close_t (id int)');
    const closing = await startServer();
    const closingClient = clientFor(closing);
    const { transactionId } = await closingClient.send(new BeginTransactionCommand(master));
    await closingClient.send(
      new ExecuteStatementCommand({ ...master, sql: 'INSERT INTO close_t VALUES (1)', transactionId }),
    );
    // Act
    await closing.close();
    await closing.close();
    // Assess: a backend leaves pg_stat_activity a moment after its client's Terminate message
    // (asynchronously), so the count is polled for up to 2 s rather than read once.
    const sessionsOf = () =>
      execute('SELECT count(*)::int4 FROM pg_stat_activity WHERE application_name = :name', {
        parameters: [{ name: 'name', value: { stringValue: `rds-data-api-local:${closing.port}` } }],
      });
    let sessions = await sessionsOf();
    for (let waitedMs = 0; waitedMs < 2_000 && sessions.records?.[0]?.[0]?.longValue !== 0; waitedMs += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      sessions = await sessionsOf();
    }
    expect(sessions.records).toEqual([[{ longValue: 0 }]]);
    expect(await countRows('close_t')).toBe(0);
    await expect(fetch(`${closing.url}/Execute`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
