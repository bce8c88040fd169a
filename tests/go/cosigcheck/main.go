// Command cosigcheck opens a cosigned checkpoint with Go's golang.org/x/mod/sumdb/note, verifying the log's
// signature with note.NewVerifier and each witness's C2SP tlog-cosignature (type 0x04, timestamped Ed25519) with
// a Verifier written here from the specification, independently of tracechain.
//
//	cosigcheck <log verifier key> <witness vkey>... < note
//
// It prints a JSON list of the names whose signatures verified, or exits 1 with Go's error.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (c cosigner) Name() string    { return c.name }
func (c cosigner) KeyHash() uint32 { return c.hash }

func (c cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t >= 1<<63 {
		return false
	}
	signed := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), msg...)
	return ed25519.Verify(c.key, signed, sig[8:])
}

func parseCosigner(vkey string) (cosigner, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return cosigner{}, fmt.Errorf("witness key %q: want name+hash+key", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return cosigner{}, fmt.Errorf("witness key %q: want base64 of 0x04 and a 32-byte key", vkey)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	hash := binary.BigEndian.Uint32(h[:4])
	if fmt.Sprintf("%08x", hash) != parts[1] {
		return cosigner{}, fmt.Errorf("witness key %q: key ID should be %08x", vkey, hash)
	}
	return cosigner{parts[0], hash, ed25519.PublicKey(raw[1:])}, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cosigcheck <log verifier key> <witness vkey>... < note")
		os.Exit(2)
	}
	log, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "log key:", err)
		os.Exit(2)
	}
	verifiers := []note.Verifier{log}
	for _, arg := range os.Args[2:] {
		c, err := parseCosigner(arg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		verifiers = append(verifiers, c)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "note.Open:", err)
		os.Exit(1)
	}
	names := []string{}
	for _, s := range n.Sigs {
		names = append(names, s.Name)
	}
	if err := json.NewEncoder(os.Stdout).Encode(names); err != nil {
		os.Exit(2)
	}
}
