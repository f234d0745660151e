-- 异动 input: tickets per topic × place × day, for the day examined and its baseline weeks.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT topic, district, coalesce(township, '') AS township, created_day AS day, count(*) AS tickets
FROM latest
GROUP BY topic, district, coalesce(township, ''), created_day
