-- The raw CSV log as a table of text columns, for oracle.sql.
DROP TABLE IF EXISTS raw;
CREATE TABLE raw (
  create_time VARCHAR(64), bid VARCHAR(64), bn TEXT, campaign_id VARCHAR(32),
  cd VARCHAR(32), custom_track VARCHAR(255), de TEXT, dl TEXT, dt TEXT,
  ed TEXT, ev VARCHAR(32), group_id VARCHAR(32), id TEXT, job_id VARCHAR(32),
  md TEXT, publisher_id VARCHAR(32), rl TEXT, sr TEXT, ts VARCHAR(64),
  tz VARCHAR(32), ua TEXT, uid TEXT, utm_campaign TEXT, utm_content TEXT,
  utm_medium TEXT, utm_source TEXT, utm_term TEXT, v VARCHAR(32), vp TEXT
) DEFAULT CHARSET = utf8mb4;
