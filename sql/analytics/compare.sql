-- Before/after a date for one place and topic: tickets, days and unresolved share per side.
-- :township '' means the whole district.
SELECT side, count(*) AS tickets,
  sum(CASE WHEN resolved = false THEN 1 ELSE 0 END) AS unresolved,
  sum(CASE WHEN satisfied = false THEN 1 ELSE 0 END) AS unsatisfied
FROM (
  SELECT CASE WHEN created_day < :pivot THEN 'before' ELSE 'after' END AS side, resolved, satisfied
  FROM latest
  WHERE topic = :topic AND district = :district
    AND (:township = '' OR township = :township)
) sided
GROUP BY side
ORDER BY side DESC
