package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/jobs"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

func TestBackoffIsAPureSchedule(t *testing.T) {
	b := jobs.Backoff{Base: 10 * time.Second, Max: time.Minute, MaxAttempts: 5}
	type step struct {
		Wait  time.Duration
		Again bool
	}
	var got []step
	for attempt := 1; attempt <= 6; attempt++ {
		w, again := b.Next(attempt)
		got = append(got, step{w, again})
	}
	want := []step{{10 * time.Second, true}, {20 * time.Second, true}, {40 * time.Second, true}, {time.Minute, true}, {0, false}, {0, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schedule (-want +got):\n%s", diff)
	}
	if w, _ := jobs.DefaultBackoff.Next(29); w != time.Hour {
		t.Errorf("default backoff at attempt 29 waits %s, want the 1h cap", w)
	}
}

type harness struct {
	db *store.DB
	q  *jobs.Queue
}

func newHarness(t *testing.T, db *store.DB) *harness {
	return &harness{db: db, q: jobs.NewQueue(db, nil, nil)}
}

func (h *harness) enqueue(t *testing.T, js ...jobs.Job) []jobs.Job {
	t.Helper()
	var out []jobs.Job
	err := h.db.InTx(context.Background(), func(ctx context.Context) error {
		out = nil
		for _, j := range js {
			j, err := h.q.Enqueue(ctx, j)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) run(t *testing.T, kind string) {
	t.Helper()
	r, err := h.q.Runner(kind, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	t.Cleanup(r.Stop)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) count(t *testing.T, kind, state string) int {
	t.Helper()
	list, err := h.db.Jobs(context.Background(), kind, state, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestEnqueueRefusesWhatCannotRun(t *testing.T) {
	db, _ := storetest.New(t)
	h := newHarness(t, db)
	h.q.Register("known", jobs.Spec{Handler: func(context.Context, jobs.Job) (jobs.Commit, error) { return nil, nil }})
	ctx := context.Background()
	if _, err := h.q.Enqueue(ctx, jobs.Job{Kind: "known"}); err == nil || !strings.Contains(err.Error(), "must be called in a transaction") {
		t.Errorf("enqueue outside a transaction: %v", err)
	}
	err := db.InTx(ctx, func(ctx context.Context) error {
		if _, err := h.q.Enqueue(ctx, jobs.Job{Kind: "unknown"}); err == nil || !strings.Contains(err.Error(), `no job kind "unknown"`) {
			t.Errorf("unknown kind: %v", err)
		}
		if _, err := h.q.Enqueue(ctx, jobs.Job{Kind: "known", Payload: json.RawMessage("{nope")}); err == nil || !strings.Contains(err.Error(), "not JSON") {
			t.Errorf("bad payload: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := h.count(t, "known", ""); n != 0 {
		t.Errorf("%d jobs stored, want none", n)
	}
}

// A job's commit runs in the transaction that records it done: the
// follow-up it enqueues exists exactly when the job is gone.
func TestQueueRunsEachJobAndCommitsItsResult(t *testing.T) {
	db, _ := storetest.New(t)
	h := newHarness(t, db)
	var ran sync.Map
	var failOnce atomic.Bool
	failOnce.Store(true)
	h.q.Register("followup", jobs.Spec{Handler: func(context.Context, jobs.Job) (jobs.Commit, error) { return nil, errors.New("never run here") }})
	h.q.Register("work", jobs.Spec{Concurrency: 4, Interval: 10 * time.Millisecond,
		Backoff: jobs.Backoff{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: 5},
		Handler: func(ctx context.Context, j jobs.Job) (jobs.Commit, error) {
			n, _ := ran.LoadOrStore(j.ID, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			return func(ctx context.Context) error {
				if j.ID == 1 && failOnce.CompareAndSwap(true, false) {
					return errors.New("the commit failed once")
				}
				_, err := h.q.Enqueue(ctx, jobs.Job{Kind: "followup", Payload: json.RawMessage(fmt.Sprintf(`{"of":%d}`, j.ID))})
				return err
			}, nil
		}})
	var batch []jobs.Job
	for i := range 30 {
		batch = append(batch, jobs.Job{Kind: "work", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	h.enqueue(t, batch...)
	h.run(t, "work")
	waitFor(t, "every job to be done", func() bool { return h.count(t, "work", "") == 0 })
	if n := h.count(t, "followup", ""); n != 30 {
		t.Errorf("%d follow-ups, want 30 (one per job, none for the failed commit)", n)
	}
	runs := map[int64]int64{}
	ran.Range(func(k, v any) bool { runs[k.(int64)] = v.(*atomic.Int64).Load(); return true })
	for id := int64(1); id <= 30; id++ {
		want := int64(1)
		if id == 1 {
			want = 2 // its first commit failed: the job ran again
		}
		if runs[id] != want {
			t.Errorf("job %d ran %d times, want %d", id, runs[id], want)
		}
	}
}

func TestQueueRetriesThenFailsAndAnOperatorRetries(t *testing.T) {
	db, _ := storetest.New(t)
	h := newHarness(t, db)
	var attempts atomic.Int64
	var heal atomic.Bool
	h.q.Register("flaky", jobs.Spec{Interval: 5 * time.Millisecond,
		Backoff: jobs.Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond, MaxAttempts: 3},
		Handler: func(context.Context, jobs.Job) (jobs.Commit, error) {
			attempts.Add(1)
			if heal.Load() {
				return nil, nil
			}
			return nil, errors.New("smdp.example: connection refused")
		}})
	h.q.Register("doomed", jobs.Spec{Interval: 5 * time.Millisecond,
		Handler: func(context.Context, jobs.Job) (jobs.Commit, error) {
			return nil, jobs.Permanent(errors.New("the profile type does not exist"))
		}})
	h.q.Register("panics", jobs.Spec{Interval: 5 * time.Millisecond,
		Handler: func(context.Context, jobs.Job) (jobs.Commit, error) { panic("boom") }})
	h.enqueue(t, jobs.Job{Kind: "flaky", Key: "iccid-1"}, jobs.Job{Kind: "doomed"}, jobs.Job{Kind: "panics"})
	for _, k := range []string{"flaky", "doomed", "panics"} {
		h.run(t, k)
	}
	waitFor(t, "the jobs to fail", func() bool {
		return h.count(t, "flaky", jobs.StateFailed) == 1 && h.count(t, "doomed", jobs.StateFailed) == 1 && h.count(t, "panics", jobs.StateFailed) == 1
	})
	failed, err := h.q.Failed(context.Background(), "flaky", 10)
	if err != nil {
		t.Fatal(err)
	}
	if f := failed[0]; f.Attempts != 3 || f.LastError != "smdp.example: connection refused" || f.FailedAt == nil {
		t.Errorf("failed job = %+v, want 3 attempts and the last error", f)
	}
	if attempts.Load() != 3 {
		t.Errorf("%d attempts, want 3", attempts.Load())
	}
	doomed, _ := h.q.Failed(context.Background(), "doomed", 10)
	if doomed[0].Attempts != 1 {
		t.Errorf("a permanent failure made %d attempts, want 1", doomed[0].Attempts)
	}
	panicked, _ := h.q.Failed(context.Background(), "panics", 10)
	if !strings.Contains(panicked[0].LastError, "panicked: boom") {
		t.Errorf("panicking job's error %q", panicked[0].LastError)
	}
	heal.Store(true)
	if err := h.q.Retry(context.Background(), failed[0].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the retried job to be done", func() bool { return h.count(t, "flaky", "") == 0 })
	if err := h.q.Retry(context.Background(), failed[0].ID); err == nil || !strings.Contains(err.Error(), "no failed job") {
		t.Errorf("retrying a job that is gone: %v", err)
	}
}

// Jobs of one key run one at a time, oldest first, while other keys run
// beside them.
func TestQueueKeepsOrderWithinAKey(t *testing.T) {
	db, _ := storetest.New(t)
	h := newHarness(t, db)
	var mu sync.Mutex
	order := map[string][]int{}
	running := map[string]int{}
	overlap := false
	var concurrent, most atomic.Int64
	h.q.Register("ordered", jobs.Spec{Concurrency: 8, Interval: 5 * time.Millisecond,
		Handler: func(ctx context.Context, j jobs.Job) (jobs.Commit, error) {
			var p struct {
				N int `json:"n"`
			}
			_ = json.Unmarshal(j.Payload, &p)
			mu.Lock()
			running[j.Key]++
			if running[j.Key] > 1 {
				overlap = true
			}
			order[j.Key] = append(order[j.Key], p.N)
			mu.Unlock()
			if c := concurrent.Add(1); c > most.Load() {
				most.Store(c)
			}
			time.Sleep(2 * time.Millisecond)
			concurrent.Add(-1)
			mu.Lock()
			running[j.Key]--
			mu.Unlock()
			return nil, nil
		}})
	var batch []jobs.Job
	for n := range 10 {
		for _, key := range []string{"a", "b", "c", "d"} {
			batch = append(batch, jobs.Job{Kind: "ordered", Key: key, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))})
		}
	}
	h.enqueue(t, batch...)
	h.run(t, "ordered")
	waitFor(t, "every job to be done", func() bool { return h.count(t, "ordered", "") == 0 })
	mu.Lock()
	defer mu.Unlock()
	if overlap {
		t.Error("two jobs of one key ran at once")
	}
	for _, key := range []string{"a", "b", "c", "d"} {
		if diff := cmp.Diff([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, order[key]); diff != "" {
			t.Errorf("key %s ran out of order (-want +got):\n%s", key, diff)
		}
	}
	if most.Load() < 2 {
		t.Errorf("at most %d jobs ran at once; different keys should run side by side", most.Load())
	}
}

// A job whose worker died (its lease ran out unrecorded) is taken over;
// the dead worker's late result no longer counts.
func TestQueueTakesOverAJobWhoseWorkerDied(t *testing.T) {
	db, _ := storetest.New(t)
	h := newHarness(t, db)
	var runs atomic.Int64
	h.q.Register("provision", jobs.Spec{Interval: 5 * time.Millisecond,
		Handler: func(context.Context, jobs.Job) (jobs.Commit, error) { runs.Add(1); return nil, nil }})
	j := h.enqueue(t, jobs.Job{Kind: "provision", Key: "8944000000000000001"})[0]
	// The dead worker: it claimed the job with a lease that has already
	// ended, and never recorded anything.
	const deadToken = 42
	var claimed []jobs.Job
	err := db.InTx(context.Background(), func(ctx context.Context) error {
		var err error
		claimed, err = db.ClaimJobs(ctx, "provision", time.Now(), 10, deadToken, time.Now().Add(-time.Millisecond))
		return err
	})
	if err != nil || len(claimed) != 1 || claimed[0].ID != j.ID || claimed[0].Attempts != 1 {
		t.Fatalf("dead worker's claim = %+v, %v", claimed, err)
	}
	h.run(t, "provision")
	waitFor(t, "the job to be taken over and done", func() bool { return h.count(t, "provision", "") == 0 })
	if runs.Load() != 1 {
		t.Errorf("ran %d times after the takeover, want 1", runs.Load())
	}
	if held, err := db.DeleteJob(context.Background(), j.ID, deadToken); err != nil || held {
		t.Errorf("the dead worker's token still holds the job: %v, %v", held, err)
	}
}

// Several nodes over one database work each job exactly once.
func TestQueueOnSeveralNodes(t *testing.T) {
	first, dsn := storetest.New(t)
	second := storetest.Open(t, dsn)
	var mu sync.Mutex
	runs := map[int64]int{}
	handler := func(ctx context.Context, j jobs.Job) (jobs.Commit, error) {
		mu.Lock()
		runs[j.ID]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return nil, nil
	}
	nodes := []*harness{newHarness(t, first), newHarness(t, second)}
	for _, h := range nodes {
		h.q.Register("work", jobs.Spec{Handler: handler, Concurrency: 4, Interval: 5 * time.Millisecond})
	}
	var batch []jobs.Job
	for i := range 200 {
		key := ""
		if i%2 == 0 {
			key = fmt.Sprintf("k%d", i%10)
		}
		batch = append(batch, jobs.Job{Kind: "work", Key: key})
	}
	nodes[0].enqueue(t, batch...)
	for _, h := range nodes {
		h.run(t, "work")
	}
	waitFor(t, "every job to be done", func() bool { return nodes[0].count(t, "work", "") == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != 200 {
		t.Errorf("%d jobs ran, want 200", len(runs))
	}
	for id, n := range runs {
		if n != 1 {
			t.Errorf("job %d ran %d times", id, n)
		}
	}
}

// TestQueueRecordsWhatFinishedWhileStopping: jobs that finish while the
// runner is being stopped are recorded done, not left running to be
// repeated after their leases end.
func TestQueueRecordsWhatFinishedWhileStopping(t *testing.T) {
	db, _ := storetest.New(t)
	h := newHarness(t, db)
	release := make(chan struct{})
	var started atomic.Int64
	h.q.Register("slow", jobs.Spec{Concurrency: 2, Interval: 5 * time.Millisecond,
		Handler: func(ctx context.Context, j jobs.Job) (jobs.Commit, error) {
			started.Add(1)
			var p struct {
				Slow bool `json:"slow"`
			}
			_ = json.Unmarshal(j.Payload, &p)
			if p.Slow {
				<-release
			}
			return nil, nil
		}})
	h.enqueue(t, jobs.Job{Kind: "slow", Payload: json.RawMessage(`{"slow":false}`)}, jobs.Job{Kind: "slow", Payload: json.RawMessage(`{"slow":true}`)})
	r, err := h.q.Runner("slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	waitFor(t, "both jobs to start", func() bool { return started.Load() == 2 })
	stopped := make(chan struct{})
	go func() { r.Stop(); close(stopped) }()
	time.Sleep(50 * time.Millisecond) // Stop is waiting for the slow job
	close(release)
	<-stopped
	if n := h.count(t, "slow", ""); n != 0 {
		left, _ := db.Jobs(context.Background(), "slow", "", 10)
		t.Fatalf("%d jobs left after a stop that let them finish: %+v", n, left)
	}
}

// TestBackoffPartsDefaultAlone: a schedule that sets only some of its
// parts takes the default's for the rest (a zero MaxAttempts would fail
// every job before it ran).
func TestBackoffPartsDefaultAlone(t *testing.T) {
	db, _ := storetest.New(t)
	h := newHarness(t, db)
	var ran atomic.Int64
	h.q.Register("partial", jobs.Spec{Interval: 5 * time.Millisecond, Backoff: jobs.Backoff{Base: time.Millisecond},
		Handler: func(context.Context, jobs.Job) (jobs.Commit, error) { ran.Add(1); return nil, nil }})
	h.enqueue(t, jobs.Job{Kind: "partial"})
	h.run(t, "partial")
	waitFor(t, "the job to be done", func() bool { return h.count(t, "partial", "") == 0 })
	if ran.Load() != 1 {
		t.Errorf("the job ran %d times, want 1", ran.Load())
	}
}
