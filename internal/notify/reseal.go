package notify

import (
	"bytes"
	"context"
	"errors"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// SealedKey is the sealed copy of one API key, for re-sealing.
type SealedKey struct {
	OrgID    orgs.ID
	APIKeyID int64
	Sealed   []byte
}

// resealStore is what Reseal needs beyond Store.
type resealStore interface {
	// SealedSigningKeys returns the sealed copy of every API key, of every
	// organisation.
	SealedSigningKeys(ctx context.Context) ([]SealedKey, error)
}

// ResealResult is what Reseal did: keys sealed again under the new secret
// key, keys already sealed under it (a repeated run), and the API key IDs
// whose copies open with neither key (sealed under a third; seal those
// keys again with esimd callbacks seal-key).
type ResealResult struct {
	Resealed   int     `json:"resealed"`
	AlreadyNew int     `json:"alreadyNew"`
	Unopenable []int64 `json:"unopenable"`
}

// Reseal rotates the server secret key: every sealed API key that opens
// with old is sealed again with the service's own secret key, in one
// transaction, so that callbacks stay signed after ESIMD_SECRET_KEY
// changes. Running it again changes nothing. Errors: Unavailable (the
// service has no secret key), Invalid (old is malformed or the same key).
func (s *Service) Reseal(ctx context.Context, old []byte) (ResealResult, error) {
	out := ResealResult{Unopenable: []int64{}}
	if len(s.secret) == 0 {
		return out, fault.E(fault.Unavailable, "the server has no secret key (ESIMD_SECRET_KEY) to seal API keys with")
	}
	if len(old) != SecretKeySize {
		return out, fault.Invalidf("the old secret key must be %d bytes, got %d", SecretKeySize, len(old))
	}
	if bytes.Equal(old, s.secret) {
		return out, fault.Invalidf("the old secret key is the current one: set ESIMD_SECRET_KEY (or the .secret file) to the new key first")
	}
	st, ok := s.store.(resealStore)
	if !ok {
		return out, errors.New("notify: the store cannot list sealed keys")
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		out = ResealResult{Unopenable: []int64{}} // a retried transaction starts again
		keys, err := st.SealedSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			raw, err := unseal(old, k.OrgID, k.APIKeyID, k.Sealed)
			if err != nil {
				if _, err := unseal(s.secret, k.OrgID, k.APIKeyID, k.Sealed); err == nil {
					out.AlreadyNew++
				} else {
					out.Unopenable = append(out.Unopenable, k.APIKeyID)
				}
				continue
			}
			sealed, err := seal(s.secret, k.OrgID, k.APIKeyID, string(raw))
			if err != nil {
				return err
			}
			if err := s.store.PutSigningKey(ctx, k.OrgID, k.APIKeyID, sealed, s.now()); err != nil {
				return err
			}
			out.Resealed++
		}
		return nil
	})
	return out, err
}
