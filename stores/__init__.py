"""The stores every lotse process shares: live state in Redis, the SQL database and its migrations."""
