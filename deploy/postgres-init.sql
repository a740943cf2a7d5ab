-- First start of the postgres container only (/docker-entrypoint-initdb.d runs on an empty
-- data directory, as the image's superuser).
--
-- Creates the login that owns Provision Map's database. It is deliberately not a superuser
-- and cannot bypass row-level security: with FORCE ROW LEVEL SECURITY even the owner sees no
-- tenant row without a tenant setting. CREATEROLE lets `manage.py migrate` create the app
-- role (schools/rls.py: NOLOGIN, NOBYPASSRLS, owns nothing) and grant itself membership, so
-- requests and tasks can switch to it inside their transactions.
--
-- The password comes from the container's environment (PROVISIONMAP_DB_PASSWORD, see
-- docker-compose.yml); `\getenv` needs psql 15 or newer. If the variable is missing, the
-- statement below fails and so does the container's first start, rather than creating a
-- login without a password.

\getenv provisionmap_password PROVISIONMAP_DB_PASSWORD

CREATE ROLE provisionmap
    LOGIN PASSWORD :'provisionmap_password'
    NOSUPERUSER NOBYPASSRLS NOCREATEDB CREATEROLE NOREPLICATION INHERIT;

CREATE DATABASE provisionmap OWNER provisionmap ENCODING 'UTF8' TEMPLATE template0;

-- Only the owning login (and the superuser) may connect. The app role never opens a
-- connection of its own: it is entered with SET ROLE on the owner's connection.
REVOKE ALL ON DATABASE provisionmap FROM PUBLIC;
