-- 多人同诉 and 一人多诉 input: each ticket's place, time, caller hash and content tokens.
WITH latest AS (
  SELECT * FROM (
    SELECT t.*, row_number() OVER (PARTITION BY ticket_key ORDER BY version DESC) AS rn
    FROM tickets t
    WHERE dt BETWEEN :from AND :through
  ) v
  WHERE rn = 1 AND created_day BETWEEN :from AND :to
)
SELECT ticket_key, caller_key, topic, district, coalesce(township, '') AS township,
  created_day AS day, tokens, status, resolved
FROM latest
ORDER BY created_at, ticket_key
