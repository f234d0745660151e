-- The places with most tickets.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT district, coalesce(township, '') AS township, count(*) AS tickets
FROM latest
GROUP BY district, coalesce(township, '')
ORDER BY tickets DESC, district, township
LIMIT 50
