-- pg_personalize 0.1.0 -> 0.2.0 (ALTER EXTENSION pg_personalize UPDATE).
-- Every change to the SQL surface made in 0.2.0 is here, in the same commit
-- as the change; test/upgrade/run.sh proves that 0.1.0 updated by this script
-- has the catalog of a fresh 0.2.0 install and keeps its stored data.

\echo Use "ALTER EXTENSION pg_personalize UPDATE TO '0.2.0'" to load this file. \quit
