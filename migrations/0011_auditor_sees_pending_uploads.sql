-- The verifier tells a batch that is sealed but not yet uploaded (the sealer uploads it first on
-- its next run) from one missing from the bucket. The read-only auditor role sees which batch
-- numbers wait, never their bodies.
GRANT SELECT (batch_no) ON seal_uploads TO bank_auditor;
