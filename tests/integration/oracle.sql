-- The tallies DESIGN §4 gives for the raw log, computed straight from the
-- CSV file with SQL, independently of adtally's C code. Expects the job
-- dimension loaded and the raw file in table `raw` (see load_raw.sql).
SELECT j, DATE(t_utc), HOUR(t_utc), pub,
       COALESCE(CAST(NULLIF(a.campaign_id, '') AS SIGNED), jb.campaign_id, 0),
       COALESCE(CAST(NULLIF(a.group_id, '') AS SIGNED), jb.group_id, 0),
       jb.company_id,
       SUM(t = ''), SUM(t = 'click'), SUM(t = 'conversion'),
       SUM(t = 'qualified'), SUM(t = 'unqualified'),
       CAST(SUM(IF(t = 'click', spend, 0)) AS DECIMAL(22, 4)),
       IF(SUM(t = 'click') > 0,
          CAST(ROUND(SUM(IF(t = 'click', spend, 0)) / SUM(t = 'click'), 4)
               AS DECIMAL(22, 4)), NULL)
FROM (
  SELECT r.*,
    COALESCE(CAST(NULLIF(r.job_id, '') AS SIGNED),
      CASE
        WHEN JSON_TYPE(JSON_EXTRACT(r.ed, '$.jobId')) = 'INTEGER'
             AND JSON_EXTRACT(r.ed, '$.jobId') > 0
          THEN CAST(JSON_EXTRACT(r.ed, '$.jobId') AS SIGNED)
        WHEN JSON_TYPE(JSON_EXTRACT(r.ed, '$.jobId')) = 'STRING'
             AND JSON_VALUE(r.ed, '$.jobId') REGEXP '^[0-9]+$'
          THEN CAST(JSON_VALUE(r.ed, '$.jobId') AS SIGNED)
      END) AS j,
    COALESCE(CAST(NULLIF(r.publisher_id, '') AS SIGNED),
      CASE
        WHEN JSON_TYPE(JSON_EXTRACT(r.ed, '$.publisherId')) = 'INTEGER'
          THEN CAST(JSON_EXTRACT(r.ed, '$.publisherId') AS SIGNED)
        WHEN JSON_TYPE(JSON_EXTRACT(r.ed, '$.publisherId')) = 'STRING'
             AND JSON_VALUE(r.ed, '$.publisherId') REGEXP '^[0-9]+$'
          THEN CAST(JSON_VALUE(r.ed, '$.publisherId') AS SIGNED)
      END, 0) AS pub,
    LOWER(TRIM(r.custom_track)) AS t,
    CAST(r.ts AS DATETIME(3)) AS t_utc,
    COALESCE(CAST(NULLIF(r.bid, '') AS DECIMAL(22, 4)), 0) AS spend
  FROM raw r
) a
LEFT JOIN job jb ON jb.id = a.j
WHERE a.j IS NOT NULL
  AND a.t IN ('', 'click', 'conversion', 'qualified', 'unqualified')
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6;
