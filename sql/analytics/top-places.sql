-- The places with most tickets.
SELECT district, coalesce(township, '') AS township, count(*) AS tickets
FROM latest
GROUP BY district, coalesce(township, '')
ORDER BY tickets DESC, district, township
LIMIT 50
