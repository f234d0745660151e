-- The three rates by lead unit: 按时办结率 (replied on time), 解决率 and 满意率 (of callers reached).
SELECT lead_unit AS unit, count(*) AS tickets,
  sum(CASE WHEN replied_on_time = true THEN 1 ELSE 0 END) AS replied_on_time,
  sum(CASE WHEN replied_on_time IS NOT NULL THEN 1 ELSE 0 END) AS replied,
  sum(CASE WHEN reached = true AND resolved = true THEN 1 ELSE 0 END) AS resolved,
  sum(CASE WHEN reached = true AND resolved IS NOT NULL THEN 1 ELSE 0 END) AS reached_resolution,
  sum(CASE WHEN satisfied = true THEN 1 ELSE 0 END) AS satisfied,
  sum(CASE WHEN satisfied IS NOT NULL THEN 1 ELSE 0 END) AS reached_satisfaction
FROM latest
WHERE lead_unit IS NOT NULL
GROUP BY lead_unit
ORDER BY tickets DESC, lead_unit
