import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { type AuditEvent, api, call } from '../api/client';
import { Field, FormAlert, SelectField } from '../components/Field';
import { Pager, useCursorPages } from '../components/Pager';
import { toFormErrors, useFormErrors } from '../problem-form';
import { useTitle } from '../title';

interface Filters {
  readonly actor?: string;
  readonly action?: string;
  readonly outcome?: 'success' | 'denied' | 'failed';
  // API.md v1.1: sent only when the server's document lists them.
  readonly accountNo?: string;
  readonly from?: string;
  readonly to?: string;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const EXPORT_MAX_PAGES = 50;

function auditPage(filters: Filters, cursor: string | undefined, limit: number) {
  return call(
    api.GET('/audit-logs', {
      params: {
        query: {
          limit: String(limit),
          ...(filters as Record<string, string>),
          ...(cursor ? { cursor } : {}),
        },
      },
    }),
  );
}

/** Admin: the audit trail, filtered by the API, and a CSV of the filtered view. */
export function AuditPage() {
  useTitle('Audit log');
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState('');
  const [accountNo, setAccountNo] = useState('');
  const [fromDate, setFromDate] = useState('');
  const [toDate, setToDate] = useState('');
  const [filters, setFilters] = useState<Filters>({});
  const [exporting, setExporting] = useState(false);
  const [exportErrors, setExportErrors, clearExportErrors] = useFormErrors();
  const [download, setDownload] = useState<{ url: string; name: string; rows: number } | undefined>(
    undefined,
  );
  const pages = useCursorPages();
  const events = useQuery({
    queryKey: ['audit', filters, pages.cursor],
    queryFn: () => auditPage(filters, pages.cursor, 50),
  });
  const errors = events.error ? toFormErrors(events.error) : exportErrors;

  function apply(event: FormEvent) {
    event.preventDefault();
    pages.reset();
    setDownload(undefined);
    setFilters({
      ...(actor.trim() ? { actor: actor.trim() } : {}),
      ...(action.trim() ? { action: action.trim() } : {}),
      ...(outcome === 'success' || outcome === 'denied' || outcome === 'failed' ? { outcome } : {}),
      ...(accountNo.trim() ? { accountNo: accountNo.trim() } : {}),
      ...(fromDate ? { from: new Date(`${fromDate}T00:00:00`).toISOString() } : {}),
      ...(toDate ? { to: dayAfter(toDate) } : {}),
    });
  }

  async function exportCsv() {
    setExporting(true);
    clearExportErrors();
    try {
      const rows: AuditEvent[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < EXPORT_MAX_PAGES; i++) {
        const page = await auditPage(filters, cursor, 100);
        rows.push(...page.items);
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      if (download) URL.revokeObjectURL(download.url);
      const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' }));
      setDownload({
        url,
        name: `audit-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.csv`,
        rows: rows.length,
      });
    } catch (error) {
      setExportErrors(error);
    } finally {
      setExporting(false);
    }
  }

  return (
    <section>
      <h1>Audit log</h1>
      <form method="post" className="inline" onSubmit={apply} noValidate>
        <Field
          label="Actor"
          field="actor"
          errors={errors}
          value={actor}
          onChange={(e) => setActor(e.target.value)}
        />
        <Field
          label="Action"
          field="action"
          errors={errors}
          value={action}
          onChange={(e) => setAction(e.target.value)}
          hint="e.g. transfers.create"
        />
        <SelectField
          label="Outcome"
          field="outcome"
          errors={errors}
          value={outcome}
          onChange={setOutcome}
          options={[
            { value: '', label: 'Any' },
            { value: 'success', label: 'Success' },
            { value: 'denied', label: 'Denied' },
            { value: 'failed', label: 'Failed' },
          ]}
        />
        <Field
          label="Account number"
          field="accountNo"
          errors={errors}
          inputMode="numeric"
          value={accountNo}
          onChange={(e) => setAccountNo(e.target.value)}
        />

        <Field
          label="From date"
          field="from"
          type="date"
          errors={errors}
          value={fromDate}
          onChange={(e) => setFromDate(e.target.value)}
        />
        <Field
          label="To date"
          field="to"
          type="date"
          errors={errors}
          value={toDate}
          onChange={(e) => setToDate(e.target.value)}
        />

        <button type="submit">Filter</button>
      </form>
      <FormAlert errors={errors} shown={['actor', 'action', 'outcome', 'accountNo', 'from', 'to']} />
      <div className="buttons">
        <button type="button" className="secondary" onClick={() => void exportCsv()} disabled={exporting}>
          {exporting ? 'Preparing CSV…' : 'Export CSV'}
        </button>
        {download ? (
          <a className="button" href={download.url} download={download.name}>
            Download CSV ({download.rows} events)
          </a>
        ) : null}
      </div>
      {events.data ? (
        <table className="audit">
          <caption className="visually-hidden">Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Details</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {events.data.items.map((e) => (
              <tr key={e.id}>
                <td>{dateTime.format(new Date(e.createdAt))}</td>
                <td>{e.actor}</td>
                <td className="mono">{e.action}</td>
                <td>
                  <span className={`badge ${e.outcome}`}>{e.outcome}</span>
                </td>
                <td className="mono details">{JSON.stringify(e.details)}</td>
                <td className="mono">{e.ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : events.isPending ? (
        <p role="status">Loading…</p>
      ) : null}
      {events.data && events.data.items.length === 0 ? <p>No events match.</p> : null}
      <Pager
        label="Audit pages"
        page={pages.page}
        nextCursor={events.data?.nextCursor}
        onNext={pages.next}
        onPrevious={pages.previous}
      />
    </section>
  );
}

/** The end of a day in the reader's zone: the next day's start (`to` is exclusive). */
function dayAfter(date: string): string {
  const end = new Date(`${date}T00:00:00`);
  end.setDate(end.getDate() + 1);
  return end.toISOString();
}

const columns = [
  'createdAt',
  'actor',
  'action',
  'outcome',
  'details',
  'ip',
  'userAgent',
  'requestId',
  'id',
] as const;

/** RFC 4180 CSV; a cell that a spreadsheet would run as a formula is quoted with a leading '. */
export function toCsv(rows: readonly AuditEvent[]): string {
  const cell = (value: unknown): string => {
    let text =
      value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
