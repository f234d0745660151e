-- Tickets received per day and channel.
SELECT created_day AS day, channel, count(*) AS tickets
FROM latest
GROUP BY created_day, channel
ORDER BY created_day, channel
