-- The submission register as `bcf submissions` lists it: every sign-off and submission, oldest first.
-- Reads submission_register. $hwb and $fund_year filter (NULL = all).
SELECT id, event, hwb, return_kind, period, fund_year, workbook, run_id, figures_sha256, file_sha256,
       signed_off_by, signed_off_role, signed_off_on, signed_off_at, narrative, signoff_id, sent_at, transport,
       recipient, message_id, replaces, resend, prefect_flow_run_id
FROM submission_register
WHERE ($hwb IS NULL OR hwb = $hwb) AND ($fund_year IS NULL OR fund_year = $fund_year)
ORDER BY coalesce(sent_at, signed_off_at), id
