package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/esimd/esimd/internal/esims"
)

// poolColumns is the header of a profile-pool CSV.
var poolColumns = []string{"iccid", "matching_id", "smdp_address", "pin", "puk", "profile"}

func (e env) pool(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return fmt.Errorf("%w: esimd pool import --csv FILE", errUsage)
	}
	var c common
	fs := e.flags("pool import", &c)
	path := fs.String("csv", "", "CSV of profiles: "+strings.Join(poolColumns, ","))
	if err := e.parse(fs, args[1:]); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: --csv FILE is required", errUsage)
	}
	f, err := os.Open(*path)
	if err != nil {
		return err
	}
	defer f.Close()
	profiles, err := readPoolCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	a, err := e.open(ctx, c, log, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	added, err := a.ESIMs.ImportPool(ctx, profiles)
	if err != nil {
		return userError(err)
	}
	if c.json {
		return writeJSONOut(e.stdout, map[string]int{"read": len(profiles), "added": added})
	}
	fmt.Fprintf(e.stdout, "added %d of %d profiles to the pool (the rest were already pooled or issued)\n", added, len(profiles))
	return nil
}

// readPoolCSV reads profiles for live organisations' orders.
func readPoolCSV(r io.Reader) ([]esims.PoolProfile, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, want := range poolColumns {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("the header lacks the column %q (want %s)", want, strings.Join(poolColumns, ","))
		}
	}
	var out []esims.PoolProfile
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		get := func(k string) string { return strings.TrimSpace(rec[col[k]]) }
		out = append(out, esims.PoolProfile{ICCID: get("iccid"), MatchingID: get("matching_id"), SMDPAddress: strings.ToLower(get("smdp_address")),
			PIN: get("pin"), PUK: get("puk"), Profile: get("profile")})
	}
}
