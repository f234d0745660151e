-- Tickets received per day and channel.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT created_day AS day, channel, count(*) AS tickets
FROM latest
GROUP BY created_day, channel
ORDER BY created_day, channel
