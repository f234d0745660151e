-- The month's totals for the report's headline.
SELECT count(*) AS tickets,
  sum(CASE WHEN status = 'closed' OR status = 'merged' THEN 1 ELSE 0 END) AS closed,
  sum(CASE WHEN resolved = false THEN 1 ELSE 0 END) AS unresolved
FROM latest
