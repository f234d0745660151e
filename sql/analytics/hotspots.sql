-- 高频: places (township, or the district where none is known) and topics with most tickets.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT district, coalesce(township, '') AS township, topic, count(*) AS tickets,
  sum(CASE WHEN resolved = false THEN 1 ELSE 0 END) AS unresolved,
  sum(CASE WHEN status = 'closed' OR status = 'merged' THEN 0 ELSE 1 END) AS open
FROM latest
GROUP BY district, coalesce(township, ''), topic
ORDER BY tickets DESC, district, township, topic
LIMIT 50
