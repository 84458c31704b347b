package store

// GroupStats reports how many commit groups SQLite's writer has run and how
// many use cases they held; zeros on PostgreSQL.
func GroupStats(db *DB) (groups, members int64) {
	if db.group == nil {
		return 0, 0
	}
	return db.group.groups.Load(), db.group.members.Load()
}
