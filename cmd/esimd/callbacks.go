package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/esimd/esimd/internal/accounts"
	"github.com/esimd/esimd/internal/adminapi"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
)

const callbacksUsage = `esimd callbacks show ORG                          callback settings
esimd callbacks set ORG [--url U] [--version V2|V3] [--signature-encoding base64|hex]
                        [--standard-webhooks=true|false] [--balance-threshold 100]
esimd callbacks log ORG [--event ID] [--limit N]     delivery log, newest first
esimd callbacks events ORG [--status S] [--limit N]  events with their delivery status
esimd callbacks replay ORG EVENT_ID                  send one event again
esimd callbacks replay ORG --from T --to T [--status failed,skipped]
esimd callbacks test ORG [--kind Utilisation]        send a test callback now
esimd callbacks seal-key ORG                         sign with an existing API key
                                                     (from ESIMD_SEAL_API_KEY or --key)
esimd callbacks reseal                               after changing ESIMD_SECRET_KEY (or the .secret
                                                     file): seal every signing key again under the new
                                                     key (the old one in ESIMD_OLD_SECRET_KEY or --old-key)`

// secretKey loads the server secret key that seals API keys for signing
// callbacks: ESIMD_SECRET_KEY, else <db>.secret (created on first use). On
// PostgreSQL there is no file beside the database and every node must
// unseal what any node sealed, so the variable is required there.
func (e env) secretKey(dbPath string, log *slog.Logger) ([]byte, error) {
	value := e.getenv("ESIMD_SECRET_KEY")
	if store.IsPostgres(dbPath) && strings.TrimSpace(value) == "" {
		example := make([]byte, notify.SecretKeySize)
		_, _ = rand.Read(example)
		return nil, fmt.Errorf("on PostgreSQL, set ESIMD_SECRET_KEY to the same %d hex digits on every node "+
			"(it seals the API keys that sign callbacks); for example ESIMD_SECRET_KEY=%x", 2*notify.SecretKeySize, example)
	}
	key, source, err := notify.LoadSecretKey(value, dbPath)
	if err != nil {
		return nil, err
	}
	log.Debug("callback signing secret key loaded", "source", source)
	return key, nil
}

// allowPrivateCallbacks reads ESIMD_ALLOW_PRIVATE_CALLBACKS (true/1).
func (e env) allowPrivateCallbacks() bool {
	v, _ := strconv.ParseBool(e.getenv("ESIMD_ALLOW_PRIVATE_CALLBACKS"))
	return v
}

// lenientSecret is the secret key for a command that issues keys but works
// without one: a key issued without it cannot sign V3 callbacks until it is
// sealed (esimd callbacks seal-key), which warnUnsealed says.
func (e env) lenientSecret(c common, log *slog.Logger) []byte {
	secret, err := e.secretKey(c.db, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: keys issued now cannot sign callbacks: %v\n", err)
		return nil
	}
	return secret
}

// warnUnsealed says when a key just issued cannot sign V3 callbacks.
func (e env) warnUnsealed(org orgs.ID, issued accounts.Issued) {
	if !issued.Sealed {
		fmt.Fprintf(e.stderr, "warning: callbacks of organisation %d cannot be signed with this key until it is sealed (esimd callbacks seal-key)\n", org)
	}
}

func (e env) callbacks(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, callbacksUsage)
	}
	sub, args := args[0], args[1:]
	var c common
	fs := e.flags("callbacks "+sub, &c)
	var url, version, encoding, hooks, threshold, status, kind, from, to, key, oldKey string
	var eventID int64
	var limit int
	switch sub {
	case "show":
	case "set":
		fs.StringVar(&url, "url", "", `callback URL ("" turns callbacks off; setting it enables an endpoint disabled by a 410)`)
		fs.StringVar(&version, "version", "", "callback version: V2 (unsigned) or V3 (signed)")
		fs.StringVar(&encoding, "signature-encoding", "", "X-Signature-SHA256 encoding: base64 or hex")
		fs.StringVar(&hooks, "standard-webhooks", "", "send Standard Webhooks headers too: true or false")
		fs.StringVar(&threshold, "balance-threshold", "", "LowBalance alert threshold in the organisation's currency")
	case "log":
		fs.Int64Var(&eventID, "event", 0, "only this event's attempts")
		fs.IntVar(&limit, "limit", 50, "lines to show (at most 1000)")
	case "events":
		fs.StringVar(&status, "status", "", "pending, delivered, failed or skipped")
		fs.IntVar(&limit, "limit", 100, "events to show (at most 1000)")
	case "replay":
		fs.StringVar(&from, "from", "", "replay events dated from this RFC 3339 time (the organisation's clock)")
		fs.StringVar(&to, "to", "", "… up to (not including) this time")
		fs.StringVar(&status, "status", "", "comma-separated statuses to replay (default: all)")
	case "test":
		fs.StringVar(&kind, "kind", "", "send a sample of this notification kind instead of a test body")
	case "seal-key":
		fs.StringVar(&key, "key", "", "the API key in clear (prefer ESIMD_SEAL_API_KEY: flags show in process lists)")
	case "reseal":
		fs.StringVar(&oldKey, "old-key", "", "the secret key the signing keys were sealed with (prefer ESIMD_OLD_SECRET_KEY: flags show in process lists)")
	default:
		return fmt.Errorf("%w: unknown callbacks command %q:\n%s", errUsage, sub, callbacksUsage)
	}
	if err := e.parse(fs, args); err != nil {
		return err
	}
	want := 1
	switch {
	case sub == "replay" && from == "" && to == "":
		want = 2
	case sub == "reseal":
		want = 0 // every organisation's keys
	}
	if fs.NArg() != want {
		return fmt.Errorf("%w: callbacks %s takes %d argument(s):\n%s", errUsage, sub, want, callbacksUsage)
	}
	var org orgs.ID
	if want > 0 {
		var err error
		if org, err = parseOrgID(fs.Arg(0)); err != nil {
			return err
		}
	}
	var old []byte
	if sub == "reseal" {
		if oldKey == "" {
			oldKey = e.getenv("ESIMD_OLD_SECRET_KEY")
		}
		if oldKey == "" {
			return fmt.Errorf("%w: give the previous secret key in ESIMD_OLD_SECRET_KEY (or --old-key)", errUsage)
		}
		var err error
		if old, err = notify.ParseSecretKey(oldKey); err != nil {
			return fmt.Errorf("%w: the old secret key: %v", errUsage, err)
		}
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	secret, err := e.secretKey(c.db, log)
	if err != nil {
		return err
	}
	a, err := e.open(ctx, c, log, secret)
	if err != nil {
		return err
	}
	defer a.Close()
	svc := a.Notify

	switch sub {
	case "show":
		ep, err := svc.Endpoint(ctx, org)
		if err != nil {
			return userError(err)
		}
		return e.printEndpoint(c, ep)
	case "set":
		var ch notify.Change
		var bad error
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "url":
				ch.URL = &url
			case "version":
				ch.Version = &version
			case "signature-encoding":
				enc := notify.Encoding(strings.ToLower(encoding))
				ch.SignatureEncoding = &enc
			case "standard-webhooks":
				b, err := strconv.ParseBool(hooks)
				if err != nil {
					bad = fmt.Errorf("%w: --standard-webhooks must be true or false, got %q", errUsage, hooks)
				}
				ch.StandardWebhooks = &b
			case "balance-threshold":
				amt, err := money.Parse(threshold)
				if err != nil {
					bad = fmt.Errorf("%w: --balance-threshold: %v", errUsage, err)
				}
				ch.BalanceThreshold = &amt
			}
		})
		if bad != nil {
			return bad
		}
		ep, err := svc.Configure(ctx, org, ch)
		if err != nil {
			return userError(err)
		}
		return e.printEndpoint(c, ep)
	case "log":
		as, err := svc.Deliveries(ctx, org, notify.AttemptQuery{EventID: eventID, Limit: limit})
		if err != nil {
			return userError(err)
		}
		if c.json {
			out := []adminapi.AttemptJSON{}
			for _, at := range as {
				out = append(out, adminapi.ToAttemptJSON(at))
			}
			return writeJSONOut(e.stdout, out)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tAT\tEVENT\tKIND\tATTEMPT\tSTATUS\tLATENCY\tOUTCOME\tDETAIL")
		for _, at := range as {
			ev := strconv.FormatInt(at.EventID, 10)
			if at.Test {
				ev = "test"
			}
			detail := at.Error
			if detail == "" {
				detail = strings.Join(strings.Fields(at.Response), " ")
			}
			if len(detail) > 60 {
				detail = detail[:60] + "…"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", at.ID, at.At.Format(time.RFC3339), ev, at.Kind, at.Attempt,
				at.StatusCode, at.Latency.Round(time.Millisecond), at.Outcome, detail)
		}
		return tw.Flush()
	case "events":
		evs, err := svc.Events(ctx, org, notify.EventQuery{Status: status, Limit: limit})
		if err != nil {
			return userError(err)
		}
		if c.json {
			out := []adminapi.EventJSON{}
			for _, ev := range evs {
				out = append(out, adminapi.ToEventJSON(ev))
			}
			return writeJSONOut(e.stdout, out)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tDATE\tKIND\tICCID\tSTATUS\tATTEMPTS\tLAST ERROR")
		for _, ev := range evs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", ev.ID, ev.At.Format(time.RFC3339), ev.Kind, ev.ICCID, ev.Status, ev.Attempts, ev.LastError)
		}
		return tw.Flush()
	case "replay":
		if want == 2 {
			id, err := strconv.ParseInt(fs.Arg(1), 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("%w: %q is not an event ID (esimd callbacks events %d lists them)", errUsage, fs.Arg(1), org)
			}
			st, err := svc.Replay(ctx, org, id)
			if err != nil {
				return userError(err)
			}
			if c.json {
				return writeJSONOut(e.stdout, adminapi.ToEventJSON(st))
			}
			fmt.Fprintf(e.stdout, "event %d of organisation %d queued again; the server sends it within seconds\n", id, org)
			return nil
		}
		f, err := time.Parse(time.RFC3339Nano, from)
		if err != nil {
			return fmt.Errorf("%w: --from must be an RFC 3339 time such as 2026-03-01T00:00:00Z", errUsage)
		}
		t, err := time.Parse(time.RFC3339Nano, to)
		if err != nil {
			return fmt.Errorf("%w: --to must be an RFC 3339 time such as 2026-03-02T00:00:00Z", errUsage)
		}
		n, err := svc.ReplayRange(ctx, org, f, t, splitComma(status))
		if err != nil {
			return userError(err)
		}
		if c.json {
			return writeJSONOut(e.stdout, map[string]int{"queued": n})
		}
		fmt.Fprintf(e.stdout, "%d event(s) of organisation %d queued again; the server sends them within seconds\n", n, org)
		return nil
	case "test":
		at, err := svc.TestSend(ctx, org, kind)
		if err != nil {
			return userError(err)
		}
		if c.json {
			return writeJSONOut(e.stdout, adminapi.ToAttemptJSON(at))
		}
		if at.Outcome == notify.OutcomeDelivered {
			fmt.Fprintf(e.stdout, "delivered to %s: HTTP %d in %s (%s)\n", at.URL, at.StatusCode, at.Latency.Round(time.Millisecond), at.Signature)
			return nil
		}
		return fmt.Errorf("test callback to %s failed: %s", at.URL, at.Error)
	case "reseal":
		res, err := svc.Reseal(ctx, old)
		if err != nil {
			return userError(err)
		}
		if c.json {
			return writeJSONOut(e.stdout, res)
		}
		fmt.Fprintf(e.stdout, "sealed %d signing key(s) again under the new secret key; %d already were\n", res.Resealed, res.AlreadyNew)
		if len(res.Unopenable) > 0 {
			fmt.Fprintf(e.stdout, "%d sealed key(s) open with neither key (API key IDs %v): their callbacks go unsigned until they are sealed again (esimd callbacks seal-key ORG)\n",
				len(res.Unopenable), res.Unopenable)
		}
		return nil
	default: // seal-key
		if key == "" {
			key = e.getenv("ESIMD_SEAL_API_KEY")
		}
		if key == "" {
			return fmt.Errorf("%w: give the API key in ESIMD_SEAL_API_KEY (or --key)", errUsage)
		}
		if err := svc.SealSigningKey(ctx, org, key); err != nil {
			return userError(err)
		}
		ep, err := svc.Endpoint(ctx, org)
		if err != nil {
			return err
		}
		return e.printEndpoint(c, ep)
	}
}

func (e env) printEndpoint(c common, ep notify.Endpoint) error {
	if c.json {
		return writeJSONOut(e.stdout, adminapi.ToEndpointJSON(ep))
	}
	url := ep.URL
	if url == "" {
		url = "- (callbacks off)"
	}
	fmt.Fprintf(e.stdout, "organisation %d callbacks\n", ep.OrgID)
	fmt.Fprintf(e.stdout, "  url:                %s\n", url)
	fmt.Fprintf(e.stdout, "  version:            %s\n", ep.Version)
	fmt.Fprintf(e.stdout, "  signature encoding: %s\n", ep.SignatureEncoding)
	fmt.Fprintf(e.stdout, "  standard webhooks:  %v\n", ep.StandardWebhooks)
	fmt.Fprintf(e.stdout, "  balance threshold:  %s\n", ep.BalanceThreshold)
	if ep.SigningKey != nil {
		fmt.Fprintf(e.stdout, "  signing key:        API key %d (%s)\n", ep.SigningKey.APIKeyID, ep.SigningKey.Hint)
	} else {
		fmt.Fprintf(e.stdout, "  signing key:        none: V3 callbacks go unsigned (esimd callbacks seal-key %d)\n", ep.OrgID)
	}
	if ep.Disabled {
		fmt.Fprintf(e.stdout, "  DISABLED:           %s (set the URL again to enable it)\n", ep.DisabledReason)
	}
	return nil
}
