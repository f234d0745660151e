-- 异动 input: tickets per topic × place × day, for the day examined and its baseline weeks.
SELECT topic, district, coalesce(township, '') AS township, created_day AS day, count(*) AS tickets
FROM latest
GROUP BY topic, district, coalesce(township, ''), created_day
