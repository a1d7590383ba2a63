-- Trigram indexes serve case- and accent-insensitive name search (the accent folding happens in the
-- application, into registrants.name_search, so no unaccent() is needed in indexes).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
