-- 一人多诉: callers (by salted hash) with at least :min tickets.
SELECT caller_key, count(*) AS tickets, count(DISTINCT topic) AS topics,
  min(created_day) AS first_day, max(created_day) AS last_day
FROM latest
WHERE caller_key IS NOT NULL
GROUP BY caller_key
HAVING count(*) >= :min
ORDER BY tickets DESC, caller_key
