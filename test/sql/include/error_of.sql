-- Shared by the regression tests (\i from the repository root, where
-- pg_regress runs): the SQLSTATE and message a statement fails with, or
-- 'no error', so one test file can check many errors.
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
