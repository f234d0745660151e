-- 高频: places (township, or the district where none is known) and topics with most tickets.
SELECT district, coalesce(township, '') AS township, topic, count(*) AS tickets,
  sum(CASE WHEN resolved = false THEN 1 ELSE 0 END) AS unresolved,
  sum(CASE WHEN status = 'closed' OR status = 'merged' THEN 0 ELSE 1 END) AS open
FROM latest
GROUP BY district, coalesce(township, ''), topic
ORDER BY tickets DESC, district, township, topic
LIMIT 50
