import { type InputHTMLAttributes, type ReactNode, useId } from 'react';
import type { FormErrors } from '../problem-form';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  readonly label: string;
  /** The API's field name, whose error is shown here. */
  readonly field: string;
  readonly errors: FormErrors;
  readonly hint?: ReactNode;
}

/**
 * What an input and a select share: the id, the API's error for this field, and the hint and the
 * error beneath the control, which name it (aria-describedby).
 */
function useNotes(field: string, errors: FormErrors, hint: ReactNode) {
  const id = useId();
  const error = errors.fields[field];
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return {
    id,
    control: {
      id,
      name: field,
      'aria-invalid': error ? true : undefined,
      'aria-describedby': described || undefined,
    },
    notes: (
      <>
        {hint ? (
          <p className="hint" id={`${id}-hint`}>
            {hint}
          </p>
        ) : null}
        {error ? (
          <p className="error" id={`${id}-error`}>
            {error}
          </p>
        ) : null}
      </>
    ),
  };
}

/** A labelled input; the label is its accessible name, the API's error for it sits beside it. */
export function Field({ label, field, errors, hint, ...input }: FieldProps) {
  const { id, control, notes } = useNotes(field, errors, hint);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input {...control} {...input} />
      {notes}
    </div>
  );
}

/** What the API asks of a new PIN (API.md), said where one is chosen. */
export const pinRule = '4 to 6 digits, not all the same and not a straight run like 1234.';

/** A PIN: masked, digits, at most six, never offered for autofill. */
export function PinField(props: Omit<FieldProps, 'type' | 'inputMode' | 'autoComplete' | 'maxLength'>) {
  return <Field type="password" inputMode="numeric" autoComplete="off" maxLength={6} {...props} />;
}

interface SelectProps {
  readonly label: string;
  readonly field: string;
  readonly errors: FormErrors;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly options: ReadonlyArray<{ value: string; label: string }>;
  readonly hint?: ReactNode;
}

export function SelectField({ label, field, errors, value, onChange, options, hint }: SelectProps) {
  const { id, control, notes } = useNotes(field, errors, hint);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select {...control} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {notes}
    </div>
  );
}

/** The form's own message, plus any field error no input on this form shows. */
export function FormAlert({
  errors,
  shown,
}: {
  readonly errors: FormErrors;
  readonly shown: readonly string[];
}) {
  const others = Object.entries(errors.fields).filter(([field]) => !shown.includes(field));
  if (!errors.form && others.length === 0) return null;
  return (
    <div className="alert" role="alert">
      {errors.form ? <p>{errors.form}</p> : null}
      {others.length > 0 ? (
        <ul>
          {others.map(([field, message]) => (
            <li key={field}>{message}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
