package secrets

import (
	"slices"
	"sync"

	"filippo.io/age"
)

// Resolver decrypts secrets at apply time, lazily: the identity is loaded
// on the first Resolve (so a run that needs no secret needs no identity),
// and each name is decrypted once. It is safe for concurrent use.
type Resolver struct {
	file       *File
	identities func() ([]age.Identity, error)

	mu     sync.Mutex
	ids    []age.Identity
	idErr  error
	loaded bool
	cache  map[string][]byte
}

// NewResolver returns a Resolver for f that obtains identities by calling
// identities at most once.
func NewResolver(f *File, identities func() ([]age.Identity, error)) *Resolver {
	return &Resolver{file: f, identities: identities, cache: map[string][]byte{}}
}

// Resolve returns the plaintext of the secret name. The slice is the
// caller's (a copy): it must not be logged or stored, and may be cleared
// after use. Errors name the secret and the file, never the value.
func (r *Resolver) Resolve(name string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.cache[name]; ok {
		return slices.Clone(p), nil
	}
	if !r.loaded {
		r.ids, r.idErr = r.identities()
		r.loaded = true
	}
	if r.idErr != nil {
		return nil, r.idErr
	}
	p, err := r.file.Decrypt(name, r.ids)
	if err != nil {
		return nil, err
	}
	r.cache[name] = p
	return slices.Clone(p), nil
}

// Wipe clears the cached plaintexts (best effort: Go may have copied them).
func (r *Resolver) Wipe() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for n, p := range r.cache {
		clear(p)
		delete(r.cache, n)
	}
}
