-- The topics with most tickets, with the share the caller (or unit) reports unresolved.
SELECT topic, count(*) AS tickets,
  sum(CASE WHEN resolved = false THEN 1 ELSE 0 END) AS unresolved
FROM latest
GROUP BY topic
ORDER BY tickets DESC, topic
LIMIT 50
