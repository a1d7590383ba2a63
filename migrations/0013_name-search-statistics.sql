-- Name search (`name_search like '%…%' order by id limit n`) chooses between walking the primary
-- key until n rows match (right for common names) and the trigram index (right for rare ones)
-- from its estimate of how many rows match. With the default sample of 100 histogram entries a
-- surname held by 3 % of a million people was estimated at ~120 rows, and its search took the
-- trigram index, fetching and sorting all ~35,000 matches (0.1–0.7 s). A 1,000-entry sample
-- estimates such names within ~10 % (docs/PERFORMANCE.md, name search).
ALTER TABLE "registrants" ALTER COLUMN "name_search" SET STATISTICS 1000;
