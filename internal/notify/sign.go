package notify

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/esimd/esimd/internal/orgs"
)

// Signature is X-Signature-SHA256 of a V3 body: HMAC-SHA256 of the raw
// body keyed with the organisation's API key, in base64 (standard, padded)
// or lower-case hex.
func Signature(apiKey, body []byte, enc Encoding) string {
	m := hmac.New(sha256.New, apiKey)
	m.Write(body)
	sum := m.Sum(nil)
	if enc == Hex {
		return hex.EncodeToString(sum)
	}
	return base64.StdEncoding.EncodeToString(sum)
}

// StandardSignature is the Standard Webhooks webhook-signature header:
// "v1," and the base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed with
// the organisation's API key (the raw key bytes, not a whsec_ secret).
func StandardSignature(apiKey []byte, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, apiKey)
	m.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// WebhookID is an event's Standard Webhooks webhook-id.
func WebhookID(eventID int64) string { return "evt_" + strconv.FormatInt(eventID, 10) }

// SecretKeySize is the length of the server secret key (AES-256).
const SecretKeySize = 32

// sealVersion prefixes sealed keys so that the format can change.
const sealVersion = 1

// sealAAD binds a sealed key to its organisation and API key row, so that
// a sealed copy moved to another row does not open.
func sealAAD(org orgs.ID, apiKeyID int64) []byte {
	b := []byte("esimd signing key\x00")
	b = binary.BigEndian.AppendUint64(b, uint64(org))
	return binary.BigEndian.AppendUint64(b, uint64(apiKeyID))
}

// seal encrypts an API key with AES-256-GCM under the server secret key:
// version byte, 12-byte nonce, ciphertext and tag.
func seal(secret []byte, org orgs.ID, apiKeyID int64, apiKey string) ([]byte, error) {
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(apiKey)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], []byte(apiKey), sealAAD(org, apiKeyID)), nil
}

// unseal opens a sealed API key.
func unseal(secret []byte, org orgs.ID, apiKeyID int64, sealed []byte) ([]byte, error) {
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("sealed key has an unknown format")
	}
	nonce, ct := sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():]
	return aead.Open(nil, nonce, ct, sealAAD(org, apiKeyID))
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) != SecretKeySize {
		return nil, fmt.Errorf("the server secret key must be %d bytes, got %d", SecretKeySize, len(secret))
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// ParseSecretKey reads a 32-byte key written as 64 hex digits or base64
// (standard or URL alphabet, padded or not).
func ParseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == SecretKeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == SecretKeySize {
			return b, nil
		}
	}
	return nil, errors.New("the secret key must be 32 bytes written as 64 hex digits or as base64 (openssl rand -hex 32 makes one)")
}

// SecretKeyPath is where the generated secret key of a database lives:
// beside the SQLite file, named <file>.secret.
func SecretKeyPath(dbPath string) string {
	p := strings.TrimPrefix(dbPath, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p + ".secret"
}

// LoadSecretKey returns the server secret key that seals API keys for
// signing: value when set (ESIMD_SECRET_KEY, hex or base64), else the key
// in the file SecretKeyPath(dbPath), which is created with mode 0600 and a
// fresh random key on first use. source says which, for the log. Losing
// the key (or changing it) leaves the sealed copies unopenable: V3
// callbacks then go unsigned until keys are sealed again.
func LoadSecretKey(value, dbPath string) (key []byte, source string, err error) {
	if strings.TrimSpace(value) != "" {
		k, err := ParseSecretKey(value)
		if err != nil {
			return nil, "", fmt.Errorf("ESIMD_SECRET_KEY: %w", err)
		}
		return k, "ESIMD_SECRET_KEY", nil
	}
	path := SecretKeyPath(dbPath)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseSecretKey(string(b))
		if err != nil {
			return nil, "", fmt.Errorf("secret key file %s: %w", path, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return k, path + " (warning: readable by group or others; chmod 600 it)", nil
		}
		return k, path, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("read secret key file: %w", err)
	}
	k := make([]byte, SecretKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, "", err
	}
	// Write a temporary file and link it into place, so that a concurrent
	// start never reads a half-written key and exactly one key wins.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, "", fmt.Errorf("create secret key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, "", err
	}
	if _, err := tmp.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return nil, "", fmt.Errorf("write secret key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, "", err
	}
	if err := tmp.Close(); err != nil {
		return nil, "", err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadSecretKey("", dbPath) // another process created it first
		}
		return nil, "", fmt.Errorf("create secret key file: %w", err)
	}
	return k, path + " (generated)", nil
}
