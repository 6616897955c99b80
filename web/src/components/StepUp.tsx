import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiProblem, api, call, humanMessage } from '../api/client';
import { type FormErrors, toFormErrors } from '../problem-form';
import { Field } from './Field';

/** The signed-in user as the server has it now (`totpEnabled` changes after the sign-in). */
export function useMe(enabled = true) {
  return useQuery({ queryKey: ['me'], queryFn: () => call(api.GET('/me')), enabled });
}

/** 403 STEP_UP_REQUIRED with `enrolmentRequired`: a code is needed, and the caller has no authenticator. */
export function isEnrolmentRequired(error: unknown): boolean {
  return (
    error instanceof ApiProblem &&
    error.code === 'STEP_UP_REQUIRED' &&
    error.problem.enrolmentRequired === true
  );
}

/** Where, and in which words, one form shows a refusal that means something particular to it. */
export type Placements = Readonly<Record<string, { readonly field?: string; readonly message?: string }>>;

export type StepUp = 'none' | 'code' | 'enrol';

/**
 * A credential form's errors: the API's field errors by field, `placements` for refusals that
 * this form words or places itself (a wrong current password, a wrong current PIN), and the
 * step-up state: `code` once the API asks for a one-time code, `enrol` when the user must
 * enrol an authenticator before any code can help.
 */
export function useCredentialErrors(placements: Placements = {}) {
  const queryClient = useQueryClient();
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });
  const [stepUp, setStepUp] = useState<StepUp>('none');
  function fail(error: unknown): void {
    if (isEnrolmentRequired(error)) {
      setStepUp('enrol');
      setErrors({ fields: {} });
      // What the console knew of the enrolment was out of date (reset by an admin, say).
      void queryClient.invalidateQueries({ queryKey: ['me'] });
      return;
    }
    const out = toFormErrors(error);
    if (error instanceof ApiProblem) {
      if (error.code === 'STEP_UP_REQUIRED') {
        setStepUp('code');
        out.fields.otp ??= 'Enter the code your authenticator app shows now.';
      }
      if (error.code === 'INVALID_OTP') setStepUp('code');
      const place = placements[error.code];
      if (place) {
        const message = place.message ?? humanMessage(error);
        const fields = error.fieldErrors();
        if (place.field) fields[place.field] = message;
        setErrors({ fields, form: message });
        if (error.status === 401) {
          // A wrong password leaves the session; GET /me says whether it is still there.
          void queryClient.invalidateQueries({ queryKey: ['me'] });
        }
        return;
      }
    }
    setErrors(out);
  }
  function show(shown: FormErrors): void {
    setErrors(shown);
  }
  /** Before a new attempt: no errors; a form that asked for a code keeps asking. */
  function clear(): void {
    setErrors({ fields: {} });
    setStepUp((was) => (was === 'code' ? 'code' : 'none'));
  }
  return { errors, stepUp, fail, show, clear };
}

/** The one-time code a high-risk change asks for. */
export function OtpField(props: {
  readonly errors: FormErrors;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly label?: string;
}) {
  return (
    <Field
      label={props.label ?? 'One-time code'}
      field="otp"
      inputMode="numeric"
      autoComplete="one-time-code"
      maxLength={6}
      errors={props.errors}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value.trim())}
      hint="The 6-digit code your authenticator app shows now."
    />
  );
}

/**
 * Said instead of asking for a code the user cannot have: enrol an authenticator first. On the
 * settings screen itself the link moves the focus to the authenticator section.
 */
export function EnrolFirst() {
  return (
    <div className="alert" role="alert">
      <p>
        This needs a one-time code from an authenticator app, and you have not enrolled one yet.{' '}
        <Link to="/settings#authenticator">Enrol an authenticator in Settings</Link> first, then try again.
      </p>
    </div>
  );
}
