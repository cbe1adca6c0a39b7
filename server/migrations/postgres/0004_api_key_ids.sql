-- API keys get a public id (to list and revoke them without the secret). Keys made before get
-- one derived from their hash.
ALTER TABLE api_keys ADD COLUMN id TEXT;
UPDATE api_keys SET id = 'key_' || substr(key_hash, 1, 20) WHERE id IS NULL;
CREATE UNIQUE INDEX api_keys_id ON api_keys(id);
CREATE INDEX api_keys_user ON api_keys(user_id);
