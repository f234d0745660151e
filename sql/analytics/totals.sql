-- The month's totals for the report's headline.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT count(*) AS tickets,
  sum(CASE WHEN status = 'closed' OR status = 'merged' THEN 1 ELSE 0 END) AS closed,
  sum(CASE WHEN resolved = false THEN 1 ELSE 0 END) AS unresolved
FROM latest
