// Package accounts holds the use cases that span an organisation and its
// callback signing: creating an organisation with its first API key, and
// issuing further keys. Each runs in one transaction, so a key never exists
// without its sealed signing copy (V3 callbacks are signed with the key
// itself, and the server keeps only a hash of it for authentication).
package accounts

import (
	"context"

	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// Transactor runs fn in one write transaction that the services' store
// calls inside it join.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Service is the account use cases.
type Service struct {
	tx     Transactor
	orgs   *orgs.Service
	notify *notify.Service
}

// NewService returns the account use cases over the organisation and
// callback services, whose store tx is.
func NewService(tx Transactor, o *orgs.Service, n *notify.Service) *Service {
	return &Service{tx: tx, orgs: o, notify: n}
}

// Issued is a key just issued, in clear: it is shown once and stored only
// as a hash (and, when Sealed, as a copy sealed with the server's secret
// key for signing callbacks).
type Issued struct {
	Key    orgs.APIKey
	Secret string
	// Sealed reports whether V3 callbacks can be signed with this key; it
	// is false only when the server runs without a secret key.
	Sealed bool
}

// CreateOrganisation makes an organisation, credits its starting balance,
// issues its first key and seals the key's signing copy, in one
// transaction. Errors: Invalid for bad fields, Conflict for a fixed key
// already in use.
func (s *Service) CreateOrganisation(ctx context.Context, n orgs.NewOrganisation) (orgs.Organisation, Issued, error) {
	var (
		o   orgs.Organisation
		out Issued
	)
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		o, out.Secret, err = s.orgs.Create(ctx, n)
		if err != nil {
			return err
		}
		out.Sealed, err = s.seal(ctx, o.ID, out.Secret)
		return err
	})
	if err != nil {
		return orgs.Organisation{}, Issued{}, err
	}
	return o, out, nil
}

// IssueKey issues a new key for an organisation and seals its signing
// copy in one transaction. Errors: NotFound for an unknown organisation.
func (s *Service) IssueKey(ctx context.Context, org orgs.ID, label string) (Issued, error) {
	var out Issued
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		out.Key, out.Secret, err = s.orgs.CreateAPIKey(ctx, org, label)
		if err != nil {
			return err
		}
		out.Sealed, err = s.seal(ctx, org, out.Secret)
		return err
	})
	if err != nil {
		return Issued{}, err
	}
	return out, nil
}

// AddKey registers a key the operator chose (ESIMD_BOOTSTRAP_API_KEY) and
// seals it, in one transaction. A key that already authenticates org only
// gets its sealed copy (a key from before callback signing). Errors:
// NotFound, Invalid, Conflict when another organisation uses the key.
func (s *Service) AddKey(ctx context.Context, org orgs.ID, key, label string) (Issued, error) {
	out := Issued{Secret: key}
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if owner, err := s.orgs.Authenticate(ctx, key); err == nil && owner.ID == org {
			var err error
			out.Sealed, err = s.seal(ctx, org, key)
			return err
		}
		var err error
		if out.Key, err = s.orgs.AddAPIKey(ctx, org, key, label); err != nil {
			return err
		}
		out.Sealed, err = s.seal(ctx, org, key)
		return err
	})
	if err != nil {
		return Issued{}, err
	}
	return out, nil
}

// seal stores the signing copy of key when the server has a secret key.
func (s *Service) seal(ctx context.Context, org orgs.ID, key string) (bool, error) {
	if s.notify == nil || !s.notify.CanSign() {
		return false, nil
	}
	return true, s.notify.SealSigningKey(ctx, org, key)
}
