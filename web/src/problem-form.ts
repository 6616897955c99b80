import { useState } from 'react';
import { ApiProblem, humanMessage } from './api/client';

/** A form's errors from a problem+json answer: a message per field, and one for the form. */
export interface FormErrors {
  readonly fields: Record<string, string>;
  readonly form?: string;
}

/** Refusals that name no path but are about one field. */
const fieldOfCode: Readonly<Record<string, string>> = {
  INVALID_PIN: 'pin',
  INSUFFICIENT_FUNDS: 'amount',
  LIMIT_EXCEEDED: 'amount',
  CONFLICT: 'username',
  OTP_REQUIRED: 'otp',
  INVALID_OTP: 'otp',
};

export function toFormErrors(error: unknown): FormErrors {
  if (error instanceof ApiProblem) {
    const fields = error.fieldErrors();
    const field = fieldOfCode[error.code];
    if (field !== undefined) fields[field] ??= humanMessage(error);
    const unplaced = (error.problem.errors ?? []).length > Object.keys(fields).length;
    return { fields, form: humanMessage(error) + (unplaced ? ' See the messages below.' : '') };
  }
  return { fields: {}, form: humanMessage(error) };
}

export function useFormErrors(): [FormErrors, (error: unknown) => void, () => void] {
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  return [errors, (error) => setErrors(toFormErrors(error)), () => setErrors({ fields: {} })];
}
