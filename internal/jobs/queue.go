package jobs

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/esimd/esimd/internal/fault"
)

// Job states in the queue.
const (
	StatePending = "pending" // waits for its run time (and its key's older jobs)
	StateRunning = "running" // leased to a worker until RunAt
	StateFailed  = "failed"  // given up; kept for the operator, who may retry it
)

// Job is one job of the general queue.
type Job struct {
	ID   int64
	Kind string
	// Key orders jobs: a job waits until every older job of its kind and
	// key is done (or failed). "" runs in no particular order.
	Key   string
	OrgID int64 // 0 when the job belongs to no organisation
	// Payload is the job's JSON input, read by its handler.
	Payload json.RawMessage
	State   string
	// Attempts counts the attempts started, the running one included.
	Attempts  int
	RunAt     time.Time // when due; while running, when the lease ends
	LastError string
	CreatedAt time.Time
	FailedAt  *time.Time
}

// QueueStore is what the queue needs from the store.
type QueueStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// Savepoint runs fn so that its failure undoes only its own writes.
	Savepoint(ctx context.Context, fn func(ctx context.Context) error) error
	// InsertJob must be called in the transaction that makes the job
	// necessary (Internal error otherwise), so that a job exists exactly
	// when the change that needs it committed.
	InsertJob(ctx context.Context, j *Job) error
	// ClaimJobs leases up to limit due jobs of a kind (pending and due, or
	// running with an ended lease), heads of their keys only, oldest first.
	ClaimJobs(ctx context.Context, kind string, now time.Time, limit int, token int64, leaseUntil time.Time) ([]Job, error)
	// DeleteJob, RescheduleJob and FailJob end a lease; each reports false
	// when token no longer holds the job (its lease ended and another
	// worker took it).
	DeleteJob(ctx context.Context, id, token int64) (bool, error)
	RescheduleJob(ctx context.Context, id, token int64, runAt time.Time, lastError string) (bool, error)
	FailJob(ctx context.Context, id, token int64, at time.Time, lastError string) (bool, error)
	// Jobs lists a kind's jobs in one state ("" for every state), oldest first.
	Jobs(ctx context.Context, kind, state string, limit int) ([]Job, error)
	// RetryJob makes a failed job pending again, due at runAt.
	RetryJob(ctx context.Context, id int64, runAt time.Time) error
	// Retryable reports an error that makes the transaction in ctx run
	// again whole (a lost race): it must reach InTx unchanged.
	Retryable(err error) bool
}

// Commit is what a handler's job changes in the database once its outside
// work succeeded; it runs in the transaction that records the job as done,
// so the two commit together.
type Commit func(ctx context.Context) error

// Handler does one job outside any transaction. An error retries the job
// with the kind's backoff (Permanent(err) gives up at once); on success,
// commit (if not nil) records what the work produced.
type Handler func(ctx context.Context, j Job) (commit Commit, err error)

// Spec is how one kind of queued job runs.
type Spec struct {
	Handler Handler
	// Backoff schedules retries; the zero value is DefaultBackoff.
	Backoff Backoff
	// Timeout bounds one attempt (0: 30 s); the lease is the timeout and
	// a minute more, after which another worker may take the job over.
	Timeout time.Duration
	// Concurrency is how many of the kind's jobs one node works at once (0: 4).
	Concurrency int
	// Interval is how often the runner looks for due jobs (0: one second).
	Interval time.Duration
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks an error that no retry can mend: the job fails at once.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Queue is the general table-backed job queue. Each registered kind runs on
// a Runner of its own (Runner).
type Queue struct {
	store QueueStore
	now   func() time.Time
	log   *slog.Logger

	mu     sync.Mutex
	specs  map[string]Spec
	tracer trace.Tracer
}

// SetTracer makes the kinds' runners record spans with t.
func (q *Queue) SetTracer(t trace.Tracer) { q.tracer = t }

// NewQueue returns a queue over store; now is the wall clock (nil: time.Now).
func NewQueue(store QueueStore, now func() time.Time, log *slog.Logger) *Queue {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{store: store, now: now, log: log, specs: map[string]Spec{}}
}

// Register sets how jobs of kind run. Register every kind before its
// Runner starts.
func (q *Queue) Register(kind string, spec Spec) {
	if spec.Timeout <= 0 {
		spec.Timeout = 30 * time.Second
	}
	if spec.Concurrency <= 0 {
		spec.Concurrency = 4
	}
	// Each part of the schedule left zero takes the default's.
	if spec.Backoff.Base <= 0 {
		spec.Backoff.Base = DefaultBackoff.Base
	}
	if spec.Backoff.Max <= 0 {
		spec.Backoff.Max = max(DefaultBackoff.Max, spec.Backoff.Base)
	}
	if spec.Backoff.MaxAttempts <= 0 {
		spec.Backoff.MaxAttempts = DefaultBackoff.MaxAttempts
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.specs[kind] = spec
}

// Kinds lists the registered kinds in name order.
func (q *Queue) Kinds() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]string, 0, len(q.specs))
	for k := range q.specs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (q *Queue) spec(kind string) (Spec, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s, ok := q.specs[kind]
	return s, ok
}

// Enqueue adds a job in the caller's transaction; it is due at j.RunAt
// (zero: now). It returns the job with its ID. Errors: Invalid for an
// unregistered kind or a payload that is not JSON; Internal outside a
// transaction.
func (q *Queue) Enqueue(ctx context.Context, j Job) (Job, error) {
	if _, ok := q.spec(j.Kind); !ok {
		return Job{}, fault.Invalidf("no job kind %q is registered", j.Kind)
	}
	if len(j.Payload) == 0 {
		j.Payload = json.RawMessage("{}")
	}
	if !json.Valid(j.Payload) {
		return Job{}, fault.Invalidf("the payload of a %s job is not JSON", j.Kind)
	}
	now := q.now()
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	j.State, j.Attempts, j.LastError, j.CreatedAt, j.FailedAt = StatePending, 0, "", now, nil
	if err := q.store.InsertJob(ctx, &j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Failed lists a kind's failed jobs, oldest first, for an operator.
func (q *Queue) Failed(ctx context.Context, kind string, limit int) ([]Job, error) {
	return q.store.Jobs(ctx, kind, StateFailed, limit)
}

// Pending lists a kind's jobs waiting or running, oldest first.
func (q *Queue) Pending(ctx context.Context, kind string, limit int) ([]Job, error) {
	all, err := q.store.Jobs(ctx, kind, "", limit)
	out := all[:0]
	for _, j := range all {
		if j.State != StateFailed {
			out = append(out, j)
		}
	}
	return out, err
}

// Retry makes a failed job due again now. Errors: NotFound when no failed
// job has that ID.
func (q *Queue) Retry(ctx context.Context, id int64) error {
	return q.store.RetryJob(ctx, id, q.now())
}

// Runner returns the runner of one registered kind. Errors: Invalid for an
// unregistered kind.
func (q *Queue) Runner(kind string, log *slog.Logger) (*Runner[*Lease], error) {
	spec, ok := q.spec(kind)
	if !ok {
		return nil, fault.Invalidf("no job kind %q is registered", kind)
	}
	if log == nil {
		log = q.log
	}
	return New[*Lease](queueKind{q: q, kind: kind, spec: spec, log: log}, Config{
		Name: kind, Concurrency: spec.Concurrency, Interval: spec.Interval, Logger: log, Tracer: q.tracer}), nil
}

// Lease is a claimed job being worked.
type Lease struct {
	Job    Job
	token  int64
	commit Commit
	err    error
	took   time.Duration
}

// leaseSlack is added to an attempt's timeout for its lease.
const leaseSlack = time.Minute

// queueKind is one kind of the general queue as a Kind of the runner.
type queueKind struct {
	q    *Queue
	kind string
	spec Spec
	log  *slog.Logger
}

func (k queueKind) Cycle(ctx context.Context, finished []*Lease, limit int) ([]*Lease, bool, error) {
	var claimed []*Lease
	now := k.q.now()
	// Results are recorded even when the runner is being stopped: losing
	// them would repeat the jobs' outside effects.
	err := k.q.store.InTx(context.WithoutCancel(ctx), func(ctx context.Context) error {
		claimed = nil
		for _, l := range finished {
			if err := k.record(ctx, l, now); err != nil {
				return err
			}
		}
		if limit <= 0 {
			return nil
		}
		token := newToken()
		jobs, err := k.q.store.ClaimJobs(ctx, k.kind, now, limit, token, now.Add(k.spec.Timeout+leaseSlack))
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if j.Attempts > k.spec.Backoff.MaxAttempts {
				// Every attempt so far died with its worker (its result was
				// never recorded): running it again would do the same.
				msg := fmt.Sprintf("gave up after %d attempts whose workers stopped before recording a result; last error: %s", j.Attempts-1, orNone(j.LastError))
				if _, err := k.q.store.FailJob(ctx, j.ID, token, now, msg); err != nil {
					return err
				}
				k.log.Error("job failed", "kind", k.kind, "job", j.ID, "error", msg)
				continue
			}
			claimed = append(claimed, &Lease{Job: j, token: token})
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return claimed, false, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// record ends one lease: the job is done (with its commit), retried later,
// or failed. A commit that fails is undone alone and the job retried.
func (k queueKind) record(ctx context.Context, l *Lease, now time.Time) error {
	result := l.err // l stays as the work left it: a rerun of the cycle records it anew
	if result == nil {
		err := k.q.store.Savepoint(ctx, func(ctx context.Context) error {
			held, err := k.q.store.DeleteJob(ctx, l.Job.ID, l.token)
			if err != nil || !held {
				return err // another worker holds it now: its result counts
			}
			if l.commit != nil {
				return l.commit(ctx)
			}
			return nil
		})
		if err == nil {
			return nil
		}
		if fault.KindOf(err) == fault.Unavailable || k.q.store.Retryable(err) {
			// The database is failing, or the transaction lost a race and
			// runs again whole: either way the cycle, not this job, fails.
			return err
		}
		result = fmt.Errorf("recording the result: %w", err)
	}
	msg := truncate(fault.MessageOf(result), 1000)
	if fault.KindOf(result) == fault.Internal {
		msg = truncate(result.Error(), 1000)
	}
	wait, again := k.spec.Backoff.Next(l.Job.Attempts)
	if IsPermanent(result) || !again {
		k.log.Error("job failed", "kind", k.kind, "job", l.Job.ID, "attempts", l.Job.Attempts, "error", msg)
		_, err := k.q.store.FailJob(ctx, l.Job.ID, l.token, now, msg)
		return err
	}
	k.log.Warn("job attempt failed; retrying", "kind", k.kind, "job", l.Job.ID, "attempt", l.Job.Attempts, "in", wait, "error", msg)
	_, err := k.q.store.RescheduleJob(ctx, l.Job.ID, l.token, now.Add(wait), msg)
	return err
}

func (k queueKind) Work(ctx context.Context, l *Lease, _ <-chan struct{}) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.spec.Timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			l.commit, l.err = nil, Permanent(fmt.Errorf("the handler panicked: %v", p))
		}
		l.took = time.Since(start)
	}()
	l.commit, l.err = k.spec.Handler(ctx, l.Job)
	if l.err == nil && ctx.Err() != nil {
		l.err = fmt.Errorf("the attempt ran past its %s timeout", k.spec.Timeout)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

func newToken() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])&(1<<62-1)) + 1
}
