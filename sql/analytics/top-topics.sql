-- The topics with most tickets, with the share the caller (or unit) reports unresolved.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT topic, count(*) AS tickets,
  sum(CASE WHEN resolved = false THEN 1 ELSE 0 END) AS unresolved
FROM latest
GROUP BY topic
ORDER BY tickets DESC, topic
LIMIT 50
