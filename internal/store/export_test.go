package store

import "context"

// GroupStats reports how many commit groups SQLite's writer has run and how
// many use cases they held; zeros on PostgreSQL.
func GroupStats(db *DB) (groups, members int64) {
	if db.group == nil {
		return 0, 0
	}
	return db.group.groups.Load(), db.group.members.Load()
}

// TxPrepared reports how many statements the transaction in ctx prepared
// for itself (shared within its commit group) and how many it noted to
// prepare on its pool afterwards.
func TxPrepared(ctx context.Context) (local, missed int) {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return 0, 0
	}
	return len(st.local), len(st.missed)
}
