-- 一人多诉: callers (by salted hash) with at least :min tickets.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT caller_key, count(*) AS tickets, count(DISTINCT topic) AS topics,
  min(created_day) AS first_day, max(created_day) AS last_day
FROM latest
WHERE caller_key IS NOT NULL
GROUP BY caller_key
HAVING count(*) >= :min
ORDER BY tickets DESC, caller_key
