package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
)

// Group commit (SQLite).
//
// SQLite runs one write transaction at a time, and committing one costs a
// WAL append of every page it touched and an fsync: half the time of an
// order in a CPU profile. So on SQLite, write transactions that queue while
// another runs are run together in one database transaction, each inside
// its own savepoint, and committed once. A use case that fails is rolled
// back to its savepoint and fails alone; one that succeeds is reported only
// after the shared commit, so a caller never sees success for a write that
// could still be lost. When nothing else is queued a group holds one use
// case, and waits for nothing: latency at low load is unchanged.
//
// What a use case keeps until its transaction ends (AfterTx) is released
// when the group ends. A use case must not wait inside its transaction for
// something another transaction holds until it ends: on SQLite, with one
// writer, that was a deadlock before group commit too (see Gate).

// maxGroup bounds how many use cases share one commit, so that one commit
// never waits behind an unbounded queue.
const maxGroup = 64

// groupJob is one use case waiting for, or running in, a group.
type groupJob struct {
	ctx   context.Context
	fn    func(ctx context.Context) error
	state atomic.Int32 // jobQueued, jobTaken or jobAbandoned
	done  chan jobResult
}

const (
	jobQueued int32 = iota
	jobTaken
	jobAbandoned
)

type jobResult struct {
	err   error
	panic any // a panic of fn, raised again in the caller's goroutine
}

// committer runs the SQLite writer's transactions in groups.
type committer struct {
	db    *DB
	jobs  chan *groupJob
	quit  chan struct{}
	wg    sync.WaitGroup
	close sync.Once
	// groups and members count what has run, for tests and benchmarks.
	groups, members atomic.Int64
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, jobs: make(chan *groupJob), quit: make(chan struct{})}
	c.wg.Add(1)
	go c.loop()
	return c
}

// errClosed is what a use case gets once the database is closing.
var errClosed = errors.New("store: the database is closed")

// run queues fn and waits for its group to commit or roll back. A caller
// whose context ends while fn is still queued gets the context's error and
// fn never runs; once fn has started it runs to the end of its group
// (without the caller's deadline, as a transaction outside a group would
// have been rolled back halfway by SQLite's interrupt).
func (c *committer) run(ctx context.Context, fn func(ctx context.Context) error) error {
	j := &groupJob{ctx: ctx, fn: fn, done: make(chan jobResult, 1)}
	select {
	case c.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.quit:
		return errClosed
	}
	select {
	case r := <-j.done:
		return r.raise()
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return ctx.Err()
		}
		return (<-j.done).raise() // already running: its outcome is the answer
	}
}

func (r jobResult) raise() error {
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

func (c *committer) stop() {
	c.close.Do(func() { close(c.quit) })
	c.wg.Wait()
}

func (c *committer) loop() {
	defer c.wg.Done()
	for {
		select {
		case j := <-c.jobs:
			c.group(j)
		case <-c.quit:
			return
		}
	}
}

// member is a job of the running group and its view of the transaction.
type member struct {
	job *groupJob
	st  *txState
	res jobResult
}

// group runs first and whatever else is queued, up to maxGroup, in one
// transaction.
func (c *committer) group(first *groupJob) {
	tx, err := c.db.write.BeginTx(context.Background(), nil)
	if err != nil {
		first.finish(jobResult{err: c.db.mapErr(err)})
		return
	}
	var members []*member
	local := map[string]*sql.Stmt{} // statements prepared in this transaction, for all members
	broken := false                 // a savepoint could not be undone: the transaction is unusable
	for j := first; ; {
		if j.state.CompareAndSwap(jobQueued, jobTaken) {
			m := &member{job: j, st: &txState{tx: tx, db: c.db, write: true, local: local}}
			members = append(members, m)
			if c.runMember(tx, m) != nil {
				broken = true
				break
			}
		}
		if len(members) >= maxGroup {
			break
		}
		select {
		case j = <-c.jobs:
			continue
		default:
		}
		break
	}
	c.groups.Add(1)
	c.members.Add(int64(len(members)))
	var endErr error
	if broken {
		endErr = errors.Join(errors.New("store: a failed use case could not be undone; its group was rolled back"), tx.Rollback())
	} else {
		endErr = c.db.mapErr(tx.Commit())
	}
	for _, m := range members {
		if endErr != nil && m.res.err == nil && m.res.panic == nil {
			m.res.err = endErr
		}
		for _, fn := range m.st.ended {
			fn()
		}
		c.db.prepareMissed(context.Background(), m.st)
		m.job.finish(m.res)
	}
}

// runMember runs one use case inside a savepoint. It returns an error only
// when undoing a failed use case failed, which leaves the transaction in
// an unknown state.
func (c *committer) runMember(tx *sql.Tx, m *member) error {
	ctx := context.WithoutCancel(m.job.ctx)
	if _, err := tx.ExecContext(ctx, "SAVEPOINT usecase"); err != nil {
		m.res.err = c.db.mapErr(err)
		return err
	}
	m.res = call(context.WithValue(ctx, txKey{}, m.st), m.job.fn)
	if m.res.err != nil || m.res.panic != nil {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT usecase"); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT usecase"); err != nil {
		if m.res.err == nil && m.res.panic == nil {
			m.res.err = c.db.mapErr(err)
		}
		return err
	}
	return nil
}

// call runs fn, turning a panic into a result so that the committer
// survives it and the caller's goroutine raises it again.
func call(ctx context.Context, fn func(ctx context.Context) error) (res jobResult) {
	defer func() {
		if p := recover(); p != nil {
			res = jobResult{panic: p}
		}
	}()
	return jobResult{err: fn(ctx)}
}

func (j *groupJob) finish(r jobResult) { j.done <- r }
