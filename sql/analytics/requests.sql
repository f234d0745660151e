-- 多人同诉 and 一人多诉 input: each ticket's place, time, caller hash and content tokens.
SELECT ticket_key, caller_key, topic, district, coalesce(township, '') AS township,
  created_day AS day, tokens, status, resolved
FROM latest
ORDER BY created_at, ticket_key
